import Logging
import NIOCore

/// Caps the nginx-side connections open at once. It sits in the listening channel's pipeline and
/// sees each accepted connection before it is set up: over the cap, the connection is closed at
/// once, so idle or abusive clients cannot use up the process's file descriptors and starve nginx.
/// A warning says so at most once per second, with how many were refused.
///
/// The count lives on the listening channel's event loop; connections closing on other loops
/// report there.
final class ConnectionLimiter: ChannelInboundHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel

    private let maxConnections: Int
    private let logger: Logger
    private var open = 0
    private var refusals = LogThrottle(interval: .seconds(1))
    private var reportScheduled = false

    init(maxConnections: Int, logger: Logger) {
        self.maxConnections = maxConnections
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = Self.unwrapInboundIn(data)
        guard open < maxConnections else {
            child.close(promise: nil)
            refused(context: context)
            return
        }
        open += 1
        let loop = context.eventLoop
        let this = NIOLoopBound(self, eventLoop: loop)
        child.closeFuture.whenComplete { _ in
            loop.execute { this.value.open -= 1 }
        }
        context.fireChannelRead(data)
    }

    private func refused(context: ChannelHandlerContext) {
        if let count = refusals.record(now: .now()) {
            report(count)
        } else if !reportScheduled, let at = refusals.nextReport {
            // Refusals held back now are reported after the interval, even if none follow.
            reportScheduled = true
            context.eventLoop.assumeIsolated().scheduleTask(deadline: at) {
                self.reportScheduled = false
                if let count = self.refusals.flush(now: .now()) { self.report(count) }
            }
        }
    }

    private func report(_ count: Int) {
        logger.warning(
            "connection limit reached: closed new connections at once (raise --max-connections?)",
            metadata: ["max_connections": "\(maxConnections)", "refused": "\(count)"])
    }
}
