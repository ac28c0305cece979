import Logging
import NIOCore
import NIOHTTP1

/// Answers one nginx `auth_request` subrequest at a time (`HTTPServerPipelineHandler` in front of
/// it holds back pipelined requests until the previous response is written, so answers go out
/// in order). The mapping both ways lives in `CheckRequest` and `AuthResponse`.
final class AuthRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let pool: UpstreamPool
    private let logger: Logger
    private var request: CheckRequest?
    private var version = HTTPVersion.http1_1
    private var keepAlive = true
    /// Once the handler is gone its context must not be used by a late upstream answer.
    private var removed = false

    init(pool: UpstreamPool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            request = CheckRequest(head: head)
            version = head.version
            keepAlive = head.isKeepAlive
        case .body:
            // nginx sends none (proxy_pass_request_body off); anything else is ignored.
            break
        case .end:
            guard let request else { return }
            self.request = nil
            let version = self.version
            let keepAlive = self.keepAlive
            pool.check(request, on: context.eventLoop).assumeIsolated().whenComplete { result in
                let response: AuthResponse
                switch result {
                case .success(let answer):
                    response = AuthResponse(answer: answer)
                case .failure(let error):
                    self.logger.debug("answering 503", metadata: ["error": "\(error)", "app": "\(request.app ?? "")"])
                    response = .upstreamUnavailable
                }
                self.respond(context: context, response.head(version: version, keepAlive: keepAlive), keepAlive: keepAlive)
            }
        }
    }

    private func respond(context: ChannelHandlerContext, _ head: HTTPResponseHead, keepAlive: Bool) {
        guard !removed else { return }
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("closing nginx connection", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
