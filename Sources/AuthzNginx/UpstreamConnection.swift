import AuthzJSON
import Logging
import NIOCore
import NIOPosix

/// One persistent, pipelined Unix-socket connection to authzd, bound to one event loop.
///
/// Requests are written as check lines as they come; answers are matched FIFO (see
/// `PendingChecks`). When authzd goes away the connection fails what is in flight, reconnects
/// with exponential backoff, and meanwhile refuses new requests at once (fail closed) while
/// nudging a reconnect, so traffic itself notices a daemon that is back.
///
/// All mutable state is touched only on `eventLoop`; that confinement is what makes the
/// `@unchecked Sendable` sound (the same discipline as NIO's own channels).
final class UpstreamConnection: @unchecked Sendable {
    struct Settings: Sendable {
        var socketPath: String
        var timeout: TimeAmount
        var maxInFlight: Int
        var maxAnswerBytes: Int
        var minBackoff: TimeAmount
        var maxBackoff: TimeAmount
    }

    private enum State {
        /// Not started yet, or waiting for `retry` to fire.
        case disconnected(retry: Scheduled<Void>?)
        case connecting
        case connected(Channel)
        case shutDown
    }

    let eventLoop: EventLoop
    let settings: Settings
    private var logger: Logger

    private var state: State = .disconnected(retry: nil)
    private var pending = PendingChecks<EventLoopPromise<CheckAnswer>>()
    private var timer: Scheduled<Void>?
    /// Check lines not yet written; flushed once per event-loop tick.
    private var writer = JSONWriter(capacity: 4096)
    private var flushScheduled = false
    private var backoff: TimeAmount
    private var lastAttempt = NIODeadline.uptimeNanoseconds(0)
    /// Logs the first failure of a streak loudly and the retries quietly.
    private var failureLogged = false

    init(eventLoop: EventLoop, settings: Settings, logger: Logger, index: Int) {
        self.eventLoop = eventLoop
        self.settings = settings
        self.backoff = settings.minBackoff
        self.logger = logger
        self.logger[metadataKey: "upstream_connection"] = "\(index)"
    }

    /// Starts connecting; callable from any thread.
    func start() {
        eventLoop.execute { self.connect() }
    }

    /// Whether a connection to authzd is up. Only on `eventLoop`.
    var isConnected: Bool {
        eventLoop.preconditionInEventLoop()
        if case .connected = state { return true }
        return false
    }

    /// Sends one check. Only on `eventLoop`. Fails with an `UpstreamError` when there is no
    /// connection, too much is in flight, the connection drops, or no answer comes in time.
    func check(_ request: CheckRequest) -> EventLoopFuture<CheckAnswer> {
        eventLoop.preconditionInEventLoop()
        guard case .connected(let channel) = state else {
            nudge()
            return eventLoop.makeFailedFuture(UpstreamError(.notConnected, "no connection to authzd"))
        }
        guard pending.count < settings.maxInFlight else {
            return eventLoop.makeFailedFuture(UpstreamError(.overloaded, "\(pending.count) checks in flight"))
        }
        let promise = eventLoop.makePromise(of: CheckAnswer.self)
        let deadline = NIODeadline.now() + settings.timeout
        let id = pending.enqueue(promise, deadline: deadline)
        if timer == nil { armTimer(at: deadline) }
        // Lines of all checks made in this event-loop tick (nginx's subrequests arrive on many
        // connections at once) go out in one write: one system call here and one read, one
        // batched answer write in authzd, instead of one each per check.
        request.writeLine(id: id, to: &writer)
        if !flushScheduled {
            flushScheduled = true
            eventLoop.execute { self.flushLines(to: channel) }
        }
        return promise.futureResult
    }

    /// Closes the connection for good and fails what is in flight.
    func shutdown() -> EventLoopFuture<Void> {
        eventLoop.submit {
            let old = self.state
            self.state = .shutDown
            switch old {
            case .connected(let channel): channel.close(promise: nil)
            case .disconnected(let retry): retry?.cancel()
            case .connecting, .shutDown: break
            }
            self.failAll(UpstreamError(.shutdown, "shutting down"))
        }
    }

    // MARK: connecting

    /// A request found no connection: try now rather than wait out the backoff, but not more
    /// often than the shortest backoff, so a dead daemon under load costs little.
    func nudge() {
        eventLoop.preconditionInEventLoop()
        guard case .disconnected(let retry) = state else { return }
        guard NIODeadline.now() >= lastAttempt + settings.minBackoff else { return }
        retry?.cancel()
        connect()
    }

    private func connect() {
        eventLoop.preconditionInEventLoop()
        switch state {
        case .disconnected(let retry): retry?.cancel()
        case .connecting, .connected, .shutDown: return
        }
        state = .connecting
        lastAttempt = .now()
        let maxAnswerBytes = settings.maxAnswerBytes
        ClientBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(LineDecoder(maxLength: maxAnswerBytes)),
                        UpstreamChannelHandler(connection: self))
                }
            }
            .connect(unixDomainSocketPath: settings.socketPath)
            .whenComplete { result in self.connectFinished(result) }
    }

    private func connectFinished(_ result: Result<Channel, Error>) {
        eventLoop.preconditionInEventLoop()
        guard case .connecting = state else {
            // Shut down while connecting.
            if case .success(let channel) = result { channel.close(promise: nil) }
            return
        }
        switch result {
        case .success(let channel) where channel.isActive:
            state = .connected(channel)
            backoff = settings.minBackoff
            failureLogged = false
            logger.info("connected to authzd", metadata: ["socket": "\(settings.socketPath)"])
        case .success(let channel):
            channel.close(promise: nil)
            scheduleRetry(after: "connection closed at once")
        case .failure(let error):
            scheduleRetry(after: "\(error)")
        }
    }

    private func scheduleRetry(after problem: String) {
        let delay = backoff
        backoff = min(backoff * 2, settings.maxBackoff)
        if failureLogged {
            logger.debug("cannot reach authzd", metadata: ["error": "\(problem)", "retry_ms": "\(delay.nanoseconds / 1_000_000)"])
        } else {
            failureLogged = true
            logger.warning(
                "cannot reach authzd; answering 503 until it is back",
                metadata: ["socket": "\(settings.socketPath)", "error": "\(problem)"])
        }
        let retry = eventLoop.scheduleTask(in: delay) { self.connect() }
        state = .disconnected(retry: retry)
    }

    // MARK: events from the channel

    func channelInactive(_ channel: Channel) {
        guard case .connected(let current) = state, current === channel else { return }
        logger.warning("connection to authzd lost", metadata: ["in_flight": "\(pending.waitingCount)"])
        failureLogged = true
        failAll(UpstreamError(.connectionLost, "connection to authzd closed"))
        state = .disconnected(retry: nil)
        scheduleRetry(after: "connection lost")
    }

    func received(line: ByteBuffer, on channel: Channel) {
        guard case .connected(let current) = state, current === channel else { return }
        let answer: CheckAnswer
        do {
            answer = try CheckAnswer(line: line.readableBytesView)
        } catch {
            desync(channel, "\(error)")
            return
        }
        switch pending.answer(id: answer.id) {
        case .deliver(let promise): promise.succeed(answer)
        case .discard: break
        case .unexpected: desync(channel, "answer with nothing pending")
        case .idMismatch(let expected): desync(channel, "answer id \(answer.id?.jsonString ?? "none"), expected \(expected)")
        }
    }

    /// The answer stream no longer lines up with the requests: nothing after this can be
    /// trusted to belong to the right request, so drop the connection and start over.
    private func desync(_ channel: Channel, _ problem: String) {
        logger.error("unusable answer from authzd; reconnecting", metadata: ["error": "\(problem)"])
        channel.close(promise: nil)
    }

    // MARK: timeouts

    private func armTimer(at deadline: NIODeadline) {
        timer = eventLoop.scheduleTask(deadline: deadline) { self.timerFired() }
    }

    private func timerFired() {
        timer = nil
        let expired = pending.expire(now: .now())
        if !expired.isEmpty {
            logger.warning("authzd did not answer in time", metadata: ["requests": "\(expired.count)"])
            let error = UpstreamError(.timeout, "no answer from authzd in time")
            for p in expired { p.fail(error) }
        }
        if let next = pending.nextDeadline { armTimer(at: next) }
    }

    private func flushLines(to channel: Channel) {
        flushScheduled = false
        guard !writer.bytes.isEmpty else { return }
        // Lines written for a connection that has since gone were failed with it.
        if case .connected(let current) = state, current === channel {
            channel.writeAndFlush(channel.allocator.buffer(bytes: writer.bytes), promise: nil)
        }
        writer.bytes.removeAll(keepingCapacity: writer.bytes.capacity <= 1 << 16)
    }

    private func failAll(_ error: UpstreamError) {
        writer.bytes.removeAll(keepingCapacity: true)
        timer?.cancel()
        timer = nil
        for p in pending.removeAll() { p.fail(error) }
    }
}

/// Feeds answer lines and the connection's end to its `UpstreamConnection`.
final class UpstreamChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connection: UpstreamConnection

    init(connection: UpstreamConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.received(line: Self.unwrapInboundIn(data), on: context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.channelInactive(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A too-long answer or a socket error: the connection is not trustworthy any more.
        context.close(promise: nil)
    }
}
