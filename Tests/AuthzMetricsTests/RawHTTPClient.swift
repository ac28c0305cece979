import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Sends raw bytes to a listener and collects what comes back, to see answers and closes as a
/// client would (including heads an HTTP encoder would refuse to write).
final class RawHTTPClient: Sendable {
    private let channel: Channel
    private let state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>

    private init(channel: Channel, state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>) {
        self.channel = channel
        self.state = state
    }

    static func connect(to address: SocketAddress, group: EventLoopGroup) async throws -> RawHTTPClient {
        let state = NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>(([], false))
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(state: state))
                }
            }
            .connect(to: address).get()
        return RawHTTPClient(channel: channel, state: state)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(string: text))
    }

    /// What has arrived so far, as text.
    var received: String { String(decoding: state.withLockedValue { $0.bytes }, as: UTF8.self) }
    var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// Waits (polling, at most `seconds`) until `condition` holds for what arrived and whether
    /// the server closed; returns whether it did.
    func wait(seconds: Double = 5, until condition: @escaping @Sendable (String, Bool) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition(received, isClosed) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(received, isClosed)
    }

    func close() async {
        try? await channel.close()
    }

    private final class Collector: ChannelInboundHandler, Sendable {
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
        }
    }
}
