import AuthzWire
import Logging
import NIOCore

/// A small pool of persistent connections to authzd, spread over the event loops of a group.
///
/// A request is sent on a connection of the event loop it arrived on, so the hot path never
/// hops threads or takes a lock; only when its loop has no connection (a loop from another group)
/// does it hop. Give the HTTP server a group with no more loops than `connections` so that every
/// loop has one (`NginxShim` does).
public final class UpstreamPool: Sendable {
    /// The connections of one event loop and a round-robin cursor, touched only on that loop.
    final class Shard: @unchecked Sendable {
        let connections: [UpstreamConnection]
        private var cursor = 0

        init(connections: [UpstreamConnection]) {
            self.connections = connections
        }

        func check(_ request: SubrequestMapping, on eventLoop: EventLoop) -> EventLoopFuture<CheckAnswer> {
            let n = connections.count
            cursor = cursor &+ 1
            for k in 0..<n {
                let c = connections[(cursor &+ k) % n]
                if c.isUsable { return c.check(request) }
            }
            // None is up: fail closed at once, and have each connection try again now.
            for c in connections { c.nudge() }
            return eventLoop.makeFailedFuture(UpstreamError(.notConnected, "no connection to authzd"))
        }
    }

    private let shards: [ObjectIdentifier: Shard]
    let all: [UpstreamConnection]

    /// Creates `connections` connections (at least one) to the authzd socket at `socketPath`,
    /// assigned round-robin to the loops of `group`. Nothing connects until `start()`.
    /// `maxLineBytes` must be authzd's `max_line_bytes`: a longer check is refused, not sent.
    /// An idle connection sends a `ping` every `pingInterval`, well within authzd's idle timeout.
    public init(
        socketPath: String, group: EventLoopGroup, connections: Int = 4, timeout: TimeAmount = .seconds(2),
        maxInFlightPerConnection: Int = 1024, maxLineBytes: Int = 65536, pingInterval: TimeAmount = .seconds(60),
        logger: Logger
    ) {
        let settings = UpstreamConnection.Settings(
            socketPath: socketPath, timeout: timeout, maxInFlight: max(1, maxInFlightPerConnection),
            maxAnswerBytes: 1 << 20, maxLineBytes: maxLineBytes, minBackoff: .milliseconds(50),
            maxBackoff: .seconds(2), pingInterval: pingInterval)
        let loops = Array(group.makeIterator())
        var all: [UpstreamConnection] = []
        var byLoop: [ObjectIdentifier: [UpstreamConnection]] = [:]
        for i in 0..<max(1, connections) {
            let loop = loops[i % loops.count]
            let c = UpstreamConnection(eventLoop: loop, settings: settings, logger: logger, index: i)
            all.append(c)
            byLoop[ObjectIdentifier(loop), default: []].append(c)
        }
        self.all = all
        self.shards = byLoop.mapValues { Shard(connections: $0) }
    }

    /// Starts connecting every connection (and keeps reconnecting until `shutdown()`).
    public func start() {
        for c in all { c.start() }
    }

    /// Asks authzd for a decision. The future completes on `eventLoop`; it fails with an
    /// `UpstreamError` when authzd gives no usable answer. Call it on `eventLoop` for the fast path.
    public func check(_ request: SubrequestMapping, on eventLoop: EventLoop) -> EventLoopFuture<CheckAnswer> {
        if eventLoop.inEventLoop, let shard = shards[ObjectIdentifier(eventLoop)] {
            return shard.check(request, on: eventLoop)
        }
        let shard = shards[ObjectIdentifier(all[0].eventLoop)]!
        return all[0].eventLoop.flatSubmit { shard.check(request, on: self.all[0].eventLoop) }.hop(to: eventLoop)
    }

    /// Closes every connection and fails what is still in flight.
    public func shutdown() async {
        for c in all {
            try? await c.shutdown().get()
        }
    }
}
