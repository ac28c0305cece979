import AuthzJSON
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

@testable import AuthzNginx

/// A stand-in for `authzd serve` speaking SPEC §3 on a Unix socket: enough of the protocol to
/// drive the shim over real sockets without the daemon.
///
/// It decides by app: `live` allows `Authorization: Bearer good` (forwarding `x-auth-subject`
/// and echoing the path in `x-echo-path`) and otherwise answers 401 `no_token` with
/// `www-authenticate`; `silent` never answers; `drop` closes the connection; `wrong_id` answers
/// with an id that was never sent; `not_an_answer` answers in its place without a status; anything else is
/// 403 `unknown_app`, and a line without `app` is 400 `bad_request`. `ping` is answered `ok`.
/// Like authzd, a line longer than `maxLineBytes` is answered `line_too_long` without an id, and
/// with `idleTimeout` a connection that sends nothing for that long is closed.
final class FakeAuthzd: Sendable {
    let path: String
    private let serverChannel: Channel
    private let children: NIOLockedValueBox<[Channel]>
    private let received: NIOLockedValueBox<[JSONValue]>
    private let idleClosed: NIOLockedValueBox<Int>

    private init(
        path: String, serverChannel: Channel, children: NIOLockedValueBox<[Channel]>, received: NIOLockedValueBox<[JSONValue]>,
        idleClosed: NIOLockedValueBox<Int>
    ) {
        self.path = path
        self.serverChannel = serverChannel
        self.children = children
        self.received = received
        self.idleClosed = idleClosed
    }

    /// Every request line received so far, parsed.
    var requests: [JSONValue] { received.withLockedValue { $0 } }

    /// Connections accepted so far.
    var connectionCount: Int { children.withLockedValue { $0.count } }

    /// Connections closed for idleness so far.
    var idleClosedCount: Int { idleClosed.withLockedValue { $0 } }

    static func start(path: String, group: EventLoopGroup, maxLineBytes: Int = 1 << 20, idleTimeout: TimeAmount? = nil)
        async throws -> FakeAuthzd
    {
        let children = NIOLockedValueBox<[Channel]>([])
        let received = NIOLockedValueBox<[JSONValue]>([])
        let idleClosed = NIOLockedValueBox<Int>(0)
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                children.withLockedValue { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let idleTimeout {
                        try sync.addHandlers(IdleStateHandler(readTimeout: idleTimeout), IdleCloser(closed: idleClosed))
                    }
                    try sync.addHandlers(
                        ByteToMessageHandler(LineDecoder(maxLength: 1 << 22)),
                        FakeAuthzdHandler(received: received, maxLineBytes: maxLineBytes))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        return FakeAuthzd(path: path, serverChannel: channel, children: children, received: received, idleClosed: idleClosed)
    }

    /// Closes every connection it has accepted, as authzd does with connections it finds idle,
    /// and returns once they are closed.
    func closeConnections() async {
        for c in children.withLockedValue({ $0 }) {
            try? await c.close()
        }
    }

    /// Goes away as a crashed or stopped daemon would: listener and every connection closed.
    func stop() async {
        try? await serverChannel.close()
        for c in children.withLockedValue({ $0 }) {
            try? await c.close()
        }
    }

    static func decide(_ request: JSONValue) -> JSONValue? {
        if request["op"]?.stringValue == "ping" { return ["ok": true] }
        guard case .object(let o) = request, let app = o["app"]?.stringValue else {
            return ["allow": false, "status": 400, "reason": "bad_request", "message": "app is required"]
        }
        switch app {
        case "live":
            let headers = o["headers"]?.objectValue ?? JSONObject()
            guard headers["authorization"]?.stringValue == "Bearer good" else {
                return [
                    "allow": false, "status": 401, "reason": "no_token", "plugin": "jwt_hmac",
                    "headers": ["www-authenticate": #"Bearer realm="live""#],
                ]
            }
            return [
                "allow": true, "status": 200, "reason": "ok", "plugin": "jwt_hmac",
                "headers": ["x-auth-subject": "alice", "x-echo-path": .string(o["path"]?.stringValue ?? "")], "ttl": 30,
            ]
        case "silent", "drop":
            return nil
        case "wrong_id":
            return ["allow": true, "status": 200, "reason": "ok"]
        case "not_an_answer":
            return ["allow": true, "reason": "ok"]
        default:
            return ["allow": false, "status": 403, "reason": "unknown_app"]
        }
    }
}

final class FakeAuthzdHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let received: NIOLockedValueBox<[JSONValue]>
    let maxLineBytes: Int

    init(received: NIOLockedValueBox<[JSONValue]>, maxLineBytes: Int) {
        self.received = received
        self.maxLineBytes = maxLineBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = Self.unwrapInboundIn(data)
        guard line.readableBytes <= maxLineBytes else {
            write(context, ["allow": false, "status": 400, "reason": "line_too_long", "message": "line longer than max_line_bytes"])
            return
        }
        guard let request = try? JSONParser.parse(line.readableBytesView) else {
            write(context, ["allow": false, "status": 400, "reason": "bad_request"])
            return
        }
        received.withLockedValue { $0.append(request) }
        if request["app"]?.stringValue == "drop" {
            context.close(promise: nil)
            return
        }
        guard case .object(var answer) = FakeAuthzd.decide(request) else { return }
        if request["app"]?.stringValue == "wrong_id" {
            answer.members.insert((key: "id", value: 999_999_999), at: 0)
        } else if let id = request["id"] {
            answer.members.insert((key: "id", value: id), at: 0)
        }
        write(context, .object(answer))
    }

    private func write(_ context: ChannelHandlerContext, _ answer: JSONValue) {
        var w = JSONWriter()
        w.write(answer)
        w.bytes.append(UInt8(ascii: "\n"))
        context.writeAndFlush(Self.wrapOutboundOut(context.channel.allocator.buffer(bytes: w.bytes)), promise: nil)
    }
}

/// Closes a connection on which nothing was read for the idle time, as authzd's `idle_timeout` does.
final class IdleCloser: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let closed: NIOLockedValueBox<Int>

    init(closed: NIOLockedValueBox<Int>) {
        self.closed = closed
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case IdleStateHandler.IdleStateEvent.read = event {
            // Counted once the socket is closed, so a test that sees the count sees the close.
            let closed = self.closed
            context.close().whenComplete { _ in closed.withLockedValue { $0 += 1 } }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
