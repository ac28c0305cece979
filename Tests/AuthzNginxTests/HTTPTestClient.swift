import NIOCore
import NIOHTTP1
import NIOPosix

/// A keep-alive HTTP/1.1 client for the tests that sends a batch of requests in one flush
/// (real pipelining on the wire) and returns the response heads in arrival order.
final class HTTPTestClient: Sendable {
    private let channel: Channel
    private let collector: NIOLoopBound<ResponseCollector>

    private init(channel: Channel, collector: NIOLoopBound<ResponseCollector>) {
        self.channel = channel
        self.collector = collector
    }

    static func connect(to address: SocketAddress, group: EventLoopGroup) async throws -> HTTPTestClient {
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
            .connect(to: address).get()
        let collector = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ResponseCollector.self), eventLoop: channel.eventLoop)
        }.get()
        return HTTPTestClient(channel: channel, collector: collector)
    }

    /// Sends the requests back to back and waits for one response to each (fewer if the
    /// server closes the connection first).
    func send(_ requests: [HTTPRequestHead]) async throws -> [HTTPResponseHead] {
        let channel = self.channel
        let collector = self.collector
        return try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<[HTTPResponseHead]> in
            let future = collector.value.expect(requests.count, on: channel.eventLoop)
            for r in requests {
                channel.write(HTTPClientRequestPart.head(r), promise: nil)
                channel.write(HTTPClientRequestPart.end(nil), promise: nil)
            }
            channel.flush()
            return future
        }.get()
    }

    /// One auth_request-like subrequest as nginx sends it.
    static func subrequest(app: String?, path: String, authorization: String? = nil, keepAlive: Bool = true) -> HTTPRequestHead {
        var headers: HTTPHeaders = ["Host": "authzd_nginx", "X-Real-IP": "192.0.2.10", "X-Original-Method": "GET", "X-Original-URI": path]
        if let app { headers.add(name: "X-Authz-App", value: app) }
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        return HTTPRequestHead(version: .http1_1, method: .GET, uri: "/_authz", headers: headers)
    }

    func close() async {
        try? await channel.close()
    }
}

final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var batch: [HTTPResponseHead] = []
    private var wanted = 0
    private var promise: EventLoopPromise<[HTTPResponseHead]>?

    func expect(_ count: Int, on eventLoop: EventLoop) -> EventLoopFuture<[HTTPResponseHead]> {
        let p = eventLoop.makePromise(of: [HTTPResponseHead].self)
        batch = []
        wanted = count
        promise = p
        return p.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head): batch.append(head)
        case .body: break
        case .end:
            if batch.count == wanted, let p = promise {
                promise = nil
                p.succeed(batch)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let p = promise {
            promise = nil
            p.succeed(batch)
        }
        context.fireChannelInactive()
    }
}
