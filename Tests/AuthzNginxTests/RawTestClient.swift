import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A client that sends raw bytes and collects raw bytes, for requests an HTTP encoder would refuse
/// to write (control characters, dribbled heads) and for watching a connection get closed.
final class RawTestClient: Sendable {
    private let channel: Channel
    private let state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>

    private init(channel: Channel, state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>) {
        self.channel = channel
        self.state = state
    }

    static func connect(to address: SocketAddress, group: EventLoopGroup) async throws -> RawTestClient {
        let state = NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>(([], false))
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RawCollector(state: state))
                }
            }
            .connect(to: address).get()
        return RawTestClient(channel: channel, state: state)
    }

    func send(_ text: String) async throws {
        try await send(bytes: Array(text.utf8))
    }

    func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    /// Sends `request(i)` for i in 0..<rounds, one every `interval`, timed on the channel's event
    /// loop; returns how many requests were sent (counting `Host:` lines) once the last is written.
    func sendSteadily(every interval: TimeAmount, rounds: Int, _ request: @escaping @Sendable (Int) -> String) async throws -> Int {
        let channel = self.channel
        let done = channel.eventLoop.makePromise(of: Int.self)
        @Sendable func send(_ i: Int, _ total: Int) {
            guard i < rounds else {
                done.succeed(total)
                return
            }
            let text = request(i)
            channel.writeAndFlush(channel.allocator.buffer(string: text)).whenComplete { result in
                if case .failure(let error) = result {
                    done.fail(error)
                    return
                }
                let count = text.components(separatedBy: "\r\nHost: ").count - 1
                channel.eventLoop.scheduleTask(in: interval) { send(i + 1, total + count) }
            }
        }
        channel.eventLoop.execute { send(0, 0) }
        return try await done.futureResult.get()
    }

    /// Everything received so far, as text.
    var received: String { String(decoding: state.withLockedValue { $0.bytes }, as: UTF8.self) }

    var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// The status codes of the responses received so far, in order.
    var statuses: [Int] {
        received.components(separatedBy: "\r\n").compactMap { line in
            guard line.hasPrefix("HTTP/1.1 ") else { return nil }
            return Int(line.dropFirst(9).prefix(3))
        }
    }

    /// Waits (polling, a bounded number of times) until `condition` holds; returns whether it did.
    func wait(seconds: Double = 20, until condition: (RawTestClient) -> Bool) async throws -> Bool {
        let rounds = Int(seconds * 100)
        for _ in 0..<rounds {
            if condition(self) { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition(self)
    }

    func close() async {
        try? await channel.close()
    }

    /// A subrequest as nginx writes it, with extra header lines (`Name: value\r\n` each).
    static func subrequest(app: String = "live", path: String = "/", extra: String = "", close: Bool = false) -> String {
        "GET /_authz HTTP/1.1\r\nHost: authzd_nginx\r\nX-Original-URI: \(path)\r\nX-Original-Method: GET\r\n"
            + "X-Real-IP: 192.0.2.10\r\nX-Authz-App: \(app)\r\nAuthorization: Bearer good\r\n" + extra
            + (close ? "Connection: close\r\n" : "") + "\r\n"
    }
}

final class RawCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>

    init(state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        state.withLockedValue { $0.bytes += buffer.readableBytesView }
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.withLockedValue { $0.closed = true }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A reset is a close too.
        context.close(promise: nil)
    }
}
