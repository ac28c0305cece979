import Logging
import NIOCore

/// Closes an nginx-side connection that sends no complete request head in time or stays idle too
/// long (see `ConnectionTimeouts`). It sits first in the pipeline to see raw bytes arrive;
/// `AuthRequestHandler` tells it when a request starts and when its response is written.
final class ConnectionTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let logger: Logger
    private var timeouts: ConnectionTimeouts?
    private var wakeUp: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount, logger: Logger) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { started(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        wakeUp?.cancel()
        wakeUp = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        started(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        wakeUp?.cancel()
        wakeUp = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if timeouts?.isIdle == true {
            timeouts!.bytesReceived(now: .now())
            // A wake-up is already scheduled (idle has a deadline) and comes within headerTimeout.
        }
        context.fireChannelRead(data)
    }

    /// A complete request (head and body, if any) arrived.
    func requestStarted() {
        timeouts?.requestStarted()
    }

    /// The response to the current request was written and the connection stays open.
    func responseFinished() {
        guard timeouts != nil else { return }
        timeouts!.responseFinished(now: .now())
        scheduleIfNeeded()
    }

    private func started(context: ChannelHandlerContext) {
        guard timeouts == nil else { return }
        timeouts = ConnectionTimeouts(headerTimeout: headerTimeout, idleTimeout: idleTimeout, now: .now())
        scheduleIfNeeded()
    }

    private func scheduleIfNeeded() {
        guard wakeUp == nil, let context, let at = timeouts?.nextWakeUp(now: .now()) else { return }
        schedule(at: at, on: context.eventLoop)
    }

    private func schedule(at deadline: NIODeadline, on eventLoop: EventLoop) {
        wakeUp = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.fired() }
    }

    private func fired() {
        wakeUp = nil
        guard let context, let timeouts else { return }
        switch timeouts.wakeUp(now: .now()) {
        case .stop:
            break
        case .sleep(let until):
            schedule(at: until, on: context.eventLoop)
        case .close(let expiry):
            logger.debug(
                expiry == .header ? "closing a connection that sent no complete request head in time"
                    : "closing an idle connection",
                metadata: ["peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unix")"])
            context.close(promise: nil)
        }
    }
}
