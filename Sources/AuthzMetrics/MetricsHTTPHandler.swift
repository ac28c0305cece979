import NIOCore
import NIOHTTP1

/// Serves one connection to the metrics listener: answers each request as ``MetricsRoute``
/// decides, one at a time (NIO's pipelining assistance holds later requests back), and closes a
/// connection that does not complete its next request within the request timeout, whether it
/// is silent or trickling a head byte by byte.
final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Exposition format 0.0.4, as Prometheus asks for it.
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    private let exposition: MetricsServer.Exposition
    private let health: MetricsServer.HealthCheck?
    private let requestTimeout: TimeAmount
    private var route: MetricsRoute?
    private var keepAlive = true
    private var version = HTTPVersion.http1_1
    private var responding = false
    private var deadline: Scheduled<Void>?
    private var removed = false

    init(exposition: @escaping MetricsServer.Exposition, health: MetricsServer.HealthCheck?, requestTimeout: TimeAmount) {
        self.exposition = exposition
        self.health = health
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        armDeadline(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            route = MetricsRoute(method: head.method, uri: head.uri, hasHealth: health != nil)
            keepAlive = head.isKeepAlive
            version = head.version
        case .body:
            // No route takes a body; it is read and dropped (the deadline bounds how long).
            break
        case .end:
            guard let route else { return }
            self.route = nil
            deadline?.cancel()
            deadline = nil
            responding = true
            answer(route, context: context)
        }
    }

    private func answer(_ route: MetricsRoute, context: ChannelHandlerContext) {
        switch route {
        case .metrics(let includeBody):
            respond(context: context, status: .ok, contentType: Self.metricsContentType, body: exposition(),
                    includeBody: includeBody)
        case .health(let includeBody):
            guard let health else { return }
            health(context.eventLoop).hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                switch result {
                case .success:
                    self.respond(context: context, status: .ok, body: Array("ok\n".utf8), includeBody: includeBody)
                case .failure(let error):
                    self.respond(context: context, status: .serviceUnavailable,
                                 body: Array("unhealthy: \(error)\n".utf8), includeBody: includeBody)
                }
            }
        case .notFound:
            respond(context: context, status: .notFound, body: Array("not found; try GET /metrics\n".utf8), includeBody: true)
        case .methodNotAllowed:
            respond(context: context, status: .methodNotAllowed, body: Array("method not allowed\n".utf8),
                    includeBody: true, extra: [("allow", MetricsRoute.allowedMethods)])
        }
    }

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus,
                         contentType: String = "text/plain; charset=utf-8", body: [UInt8], includeBody: Bool,
                         extra: [(String, String)] = []) {
        guard !removed else { return }
        var headers = HTTPHeaders([("content-type", contentType), ("content-length", String(body.count))])
        headers.add(contentsOf: extra)
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))),
                      promise: nil)
        if includeBody, !body.isEmpty {
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))),
                          promise: nil)
        }
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        responding = false
        if keepAlive {
            armDeadline(context: context)
        } else {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// The next request must be complete within `requestTimeout` of now.
    private func armDeadline(context: ChannelHandlerContext) {
        deadline?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: requestTimeout) {
            let (handler, context) = loopBound.value
            handler.deadline = nil
            guard !handler.removed, !handler.responding else { return }
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // NIO's error handler in front has answered 400 to what is not HTTP/1; nothing else
        // here can be answered meaningfully.
        context.close(promise: nil)
    }
}
