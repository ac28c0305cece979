import AuthzMetrics
import Logging
import NIOCore
import NIOHTTP1

/// Answers one nginx `auth_request` subrequest at a time (`HTTPServerPipelineHandler` in front of
/// it holds back pipelined requests until the previous response is written, so answers go out
/// in order). The mapping both ways lives in `SubrequestMapping` and `AuthResponse`.
///
/// What the shim can judge alone it answers alone, leaving the pooled connections to authzd
/// untouched: malformed mapping headers get 400, and a head or check line longer than authzd
/// accepts gets 431 (a head over the decoder's limit also closes the connection, since the rest
/// of its bytes cannot be framed).
final class AuthRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let pool: UpstreamPool
    private let timeouts: ConnectionTimeoutHandler?
    private let refusals: RefusalLog
    private let logger: Logger
    /// Counts answers by status and upstream errors (metrics).
    private let metrics: ShimMetrics?
    private var request: Result<SubrequestMapping, SubrequestError>?
    private var version = HTTPVersion.http1_1
    private var keepAlive = true
    /// A response has been started and its end not yet written.
    private var responding = false
    /// Once the handler is gone its context must not be used by a late upstream answer.
    private var removed = false

    init(pool: UpstreamPool, timeouts: ConnectionTimeoutHandler?, refusals: RefusalLog, logger: Logger,
         metrics: ShimMetrics? = nil) {
        self.metrics = metrics
        self.pool = pool
        self.timeouts = timeouts
        self.refusals = refusals
        self.logger = logger
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            request = Result { () throws(SubrequestError) in try SubrequestMapping(head: head) }
            version = head.version
            keepAlive = head.isKeepAlive
        case .body:
            // nginx sends none (proxy_pass_request_body off); anything else is ignored.
            break
        case .end:
            guard let request else { return }
            self.request = nil
            // Only a whole request stops the head's clock: a body (nginx sends none) trickled in
            // after a complete head must not hold the connection for ever either.
            timeouts?.requestStarted()
            responding = true
            let version = self.version
            let keepAlive = self.keepAlive
            let check: SubrequestMapping
            switch request {
            case .success(let r):
                check = r
            case .failure(let error):
                refusals.refused(
                    status: 400, "\(error.code)", metadata: ["header": "\(error.header)", "value": "\(error.value)"])
                respond(context: context, AuthResponse.badRequest.head(version: version, keepAlive: keepAlive), keepAlive: keepAlive)
                return
            }
            pool.check(check, on: context.eventLoop).assumeIsolated().whenComplete { result in
                let response: AuthResponse
                switch result {
                case .success(let answer):
                    response = AuthResponse(answer: answer)
                case .failure(let error as UpstreamError) where error.code == .lineTooLong:
                    self.refusals.refused(status: 431, error.message, metadata: ["app": "\(check.app ?? "")"])
                    response = .tooLarge
                case .failure(let error):
                    self.logger.debug("answering 503", metadata: ["error": "\(error)", "app": "\(check.app ?? "")"])
                    self.metrics?.recordUpstreamError()  // metrics
                    response = .upstreamUnavailable
                }
                self.respond(context: context, response.head(version: version, keepAlive: keepAlive), keepAlive: keepAlive)
            }
        }
    }

    private func respond(context: ChannelHandlerContext, _ head: HTTPResponseHead, keepAlive: Bool) {
        guard !removed else { return }
        metrics?.recordResponse(status: Int(head.status.code))  // metrics
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        responding = false
        if keepAlive {
            timeouts?.responseFinished()
        } else {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A request the decoder cannot read ends the connection (its remaining bytes cannot be
        // framed), but gets an answer first when none is being written: 431 for a head over the
        // size limit, 400 for anything else that is not HTTP/1.
        if let parseError = error as? HTTPParserError, !responding, !removed {
            let tooLarge = parseError == .headerOverflow
            refusals.refused(status: tooLarge ? 431 : 400, "\(parseError)")
            responding = true
            let response: AuthResponse = tooLarge ? .tooLarge : .badRequest
            respond(context: context, response.head(version: .http1_1, keepAlive: false), keepAlive: false)
            return
        }
        logger.debug("closing nginx connection", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
