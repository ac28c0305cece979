import NIOCore

/// When an nginx-side connection is closed for saying nothing useful: the logic of
/// `ConnectionTimeoutHandler`, as a plain state machine that tests drive with made-up times.
///
/// - A connection must send a complete request head within `headerTimeout` of opening, or of the
///   first byte that follows an idle period (a slow or stalled head holds a socket for nothing).
///   A body counts as part of the request: nginx sends none, and a trickled one is cut the same way.
/// - Between requests it may stay idle for `idleTimeout`. That is longer than nginx's own
///   upstream `keepalive_timeout` (60 s by default), so nginx closes first and never sends a
///   request on a connection the shim is closing.
/// - While a request is being answered nothing is timed here; the check has its own timeout.
///
/// Timers are lazy: the handler keeps at most one scheduled wake-up and never cancels it on the
/// request path. While a deadline is set a wake-up comes at least every `granularity` (the shorter
/// timeout), and every new deadline is at least that far away, so a deadline that moves earlier
/// (idle, then the first byte of a head) is still met on time.
struct ConnectionTimeouts {
    enum Phase: Equatable {
        /// Waiting for a complete request head (after opening, or after bytes arrived when idle).
        case awaitingHead
        /// A request is being answered.
        case busy
        /// Between requests, nothing received.
        case idle
    }

    /// Why a connection is closed.
    enum Expiry: Equatable {
        case header
        case idle
    }

    enum WakeUp: Equatable {
        case close(Expiry)
        case sleep(until: NIODeadline)
        /// No deadline: the next transition schedules again.
        case stop
    }

    let headerTimeout: TimeAmount
    let idleTimeout: TimeAmount
    private(set) var phase = Phase.awaitingHead
    /// When the connection is closed unless something changes; nil while busy.
    private(set) var deadline: NIODeadline?

    /// The longest a wake-up may be away while a deadline is set.
    let granularity: TimeAmount

    /// A connection that opened at `now`.
    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount, now: NIODeadline) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        granularity = min(headerTimeout, idleTimeout)
        deadline = now + headerTimeout
    }

    var isIdle: Bool { phase == .idle }

    /// Bytes arrived. Only the first bytes after an idle period start the head's clock.
    mutating func bytesReceived(now: NIODeadline) {
        guard phase == .idle else { return }
        phase = .awaitingHead
        deadline = now + headerTimeout
    }

    /// A complete request (head and body, if any) arrived.
    mutating func requestStarted() {
        phase = .busy
        deadline = nil
    }

    /// The response to the request in hand was written; the connection stays open.
    mutating func responseFinished(now: NIODeadline) {
        phase = .idle
        deadline = now + idleTimeout
    }

    /// When the handler should wake next, given no wake-up is scheduled.
    func nextWakeUp(now: NIODeadline) -> NIODeadline? {
        deadline.map { min($0, now + granularity) }
    }

    /// What to do when a wake-up fires at `now`.
    func wakeUp(now: NIODeadline) -> WakeUp {
        guard let deadline else { return .stop }
        if now >= deadline { return .close(phase == .idle ? .idle : .header) }
        return .sleep(until: min(deadline, now + granularity))
    }
}
