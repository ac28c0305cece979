import AuthzCore
import Logging
import Synchronization

/// Connections authzd gave up on or turned away, counted so the log says how many without a
/// record per connection: a flood of idle or refused peers must not flood the journal. Each
/// connection is logged at debug; above that, a kind gets at most one line when it first happens
/// after a quiet period and one summary line per period (`summarize`).
final class ConnectionEvents: Sendable {
    /// What happened to a connection.
    enum Kind: Sendable, CaseIterable {
        /// Closed after `idle_timeout` with nothing received and nothing owed.
        case idle
        /// Closed because a line stayed unfinished past `request_timeout`.
        case incompleteLine
        /// Refused at accept: `max_connections` were open.
        case overLimit
        /// Refused at accept: the peer's uid is not in `allowed_uids`.
        case peerNotAllowed

        var order: Int {
            switch self {
            case .idle: 0
            case .incompleteLine: 1
            case .overLimit: 2
            case .peerNotAllowed: 3
            }
        }
    }

    private let idle = Atomic<Int>(0)
    private let incompleteLine = Atomic<Int>(0)
    private let overLimit = Atomic<Int>(0)
    private let peerNotAllowed = Atomic<Int>(0)
    /// Set when a kind was logged individually since the last summary.
    private let idleSeen = Atomic<Bool>(false)
    private let incompleteLineSeen = Atomic<Bool>(false)
    private let overLimitSeen = Atomic<Bool>(false)
    private let peerNotAllowedSeen = Atomic<Bool>(false)

    init() {}

    /// Counts one event. Unless `level` is debug, the first of its kind since the last summary is
    /// logged at once at `level`; every other one only at debug.
    func record(_ kind: Kind, logger: Logger, level: Logger.Level, _ message: @autoclosure () -> String) {
        let first = with(kind) { count, seen in
            count.add(1, ordering: .relaxed)
            return !seen.exchange(true, ordering: .relaxed)
        }
        if first && level > .debug {
            logger.log(level: level, "\(message()); further ones are summarized once a minute")
        } else {
            logger.debug("\(message())")
        }
    }

    /// Events of each kind since the last call; rearms the immediate log line of each kind.
    func takeCounts() -> [Kind: Int] {
        var counts: [Kind: Int] = [:]
        for kind in Kind.allCases {
            let n = with(kind) { count, seen in
                seen.store(false, ordering: .relaxed)
                return count.exchange(0, ordering: .relaxed)
            }
            if n > 0 { counts[kind] = n }
        }
        return counts
    }

    /// Logs one line per kind that happened in the last `seconds`.
    func summarize(settings: ServerSettings, seconds: Int, logger: Logger) {
        for (kind, n) in takeCounts().sorted(by: { $0.key.order < $1.key.order }) {
            let s = n == 1 ? "" : "s"
            switch kind {
            case .idle:
                logger.info("closed \(n) idle connection\(s) in the last \(seconds) s (idle_timeout \(settings.idleTimeout) s)")
            case .incompleteLine:
                logger.notice("closed \(n) connection\(s) holding an incomplete line in the last \(seconds) s (request_timeout \(settings.requestTimeout) s)")
            case .overLimit:
                logger.warning("refused \(n) connection\(s) in the last \(seconds) s: max_connections (\(settings.maxConnections)) were open")
            case .peerNotAllowed:
                logger.warning("refused \(n) connection\(s) in the last \(seconds) s from uids not in allowed_uids")
            }
        }
    }

    private func with<R>(_ kind: Kind, _ body: (borrowing Atomic<Int>, borrowing Atomic<Bool>) -> R) -> R {
        switch kind {
        case .idle: body(idle, idleSeen)
        case .incompleteLine: body(incompleteLine, incompleteLineSeen)
        case .overLimit: body(overLimit, overLimitSeen)
        case .peerNotAllowed: body(peerNotAllowed, peerNotAllowedSeen)
        }
    }
}
