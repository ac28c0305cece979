import AuthzJSON
import AuthzWire
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
/// authzd may also close a connection that has been idle (its `idle_timeout`). Such a close, with
/// nothing in flight, is not a failure: the connection is reopened at once, and checks that arrive
/// meanwhile wait for it (within their timeout) instead of being refused. An idle connection also
/// sends a `ping` line every `pingInterval` so that authzd does not see it idle in the first place.
///
/// All mutable state is touched only on `eventLoop`; that confinement is what makes the
/// `@unchecked Sendable` sound (the same discipline as NIO's own channels).
final class UpstreamConnection: @unchecked Sendable {
    struct Settings: Sendable {
        var socketPath: String
        var timeout: TimeAmount
        var maxInFlight: Int
        var maxAnswerBytes: Int
        /// The longest check line (without its newline) authzd accepts: its `max_line_bytes`.
        var maxLineBytes: Int
        var minBackoff: TimeAmount
        var maxBackoff: TimeAmount
        /// How often an otherwise idle connection sends a `ping`.
        var pingInterval: TimeAmount
        /// A connection that was up at least this long (or got an answer) and closes with nothing
        /// in flight is taken to have been closed for idleness and is reopened without a backoff.
        var settledAfter: TimeAmount = .seconds(1)
    }

    /// What waits for an answer line.
    enum Waiter {
        case check(EventLoopPromise<CheckAnswer>)
        /// A keep-alive `ping`; its answer is only consumed.
        case ping
        /// A health `ping` (the metrics listener's /healthz): succeeds when answered.
        case health(EventLoopPromise<Void>)
    }

    private enum State {
        /// Not started yet, or waiting for `retry` to fire.
        case disconnected(retry: Scheduled<Void>?)
        /// `queueing`: checks wait for this attempt rather than being refused (a reconnect after
        /// an idle close, which is expected to succeed at once).
        case connecting(queueing: Bool)
        case connected(Channel, since: NIODeadline)
        case shutDown
    }

    let eventLoop: EventLoop
    let settings: Settings
    private var logger: Logger

    private var state: State = .disconnected(retry: nil)
    private var pending = PendingChecks<Waiter>()
    private var timer: Scheduled<Void>?
    /// Check lines not yet written; flushed once per event-loop tick.
    private var out = ByteBufferAllocator().buffer(capacity: 4096)
    private var flushScheduled = false
    private var backoff: TimeAmount
    private var lastAttempt = NIODeadline.uptimeNanoseconds(0)
    /// Logs the first failure of a streak loudly and the retries quietly.
    private var failureLogged = false
    /// Whether the current connection has delivered an answer (it works, whatever closes it later).
    private var answeredOnCurrent = false
    private var pingTask: RepeatedTask?
    private var lastWrite = NIODeadline.uptimeNanoseconds(0)
    /// authzd refusing a line as too long means the two limits disagree; said once in a while.
    private var refusedLineLog = LogThrottle(interval: .seconds(60))

    init(eventLoop: EventLoop, settings: Settings, logger: Logger, index: Int) {
        self.eventLoop = eventLoop
        self.settings = settings
        self.backoff = settings.minBackoff
        self.logger = logger
        self.logger[metadataKey: "upstream_connection"] = "\(index)"
    }

    /// Starts connecting; callable from any thread.
    func start() {
        eventLoop.execute { self.connect(queueing: false) }
    }

    /// Whether a check sent now would be written: a connection is up, or is being reopened after
    /// an idle close. Only on `eventLoop`.
    var isUsable: Bool {
        eventLoop.preconditionInEventLoop()
        switch state {
        case .connected, .connecting(queueing: true): return true
        case .connecting(queueing: false), .disconnected, .shutDown: return false
        }
    }

    /// Sends one check. Only on `eventLoop`. Fails with an `UpstreamError` when there is no
    /// connection, too much is in flight, the line would be longer than authzd accepts, the
    /// connection drops, or no answer comes in time.
    func check(_ request: SubrequestMapping) -> EventLoopFuture<CheckAnswer> {
        eventLoop.preconditionInEventLoop()
        guard isUsable else {
            nudge()
            return eventLoop.makeFailedFuture(UpstreamError(.notConnected, "no connection to authzd"))
        }
        guard pending.count < settings.maxInFlight else {
            return eventLoop.makeFailedFuture(UpstreamError(.overloaded, "\(pending.count) checks in flight"))
        }
        // The line is measured as written, id included, so the limit is exact. A line authzd
        // would refuse is taken back before anything is sent: its refusal would cost the
        // connection nothing, but the request cannot pass either way.
        let mark = out.writerIndex
        request.writeLine(id: pending.upcomingID, to: &out)
        let length = out.writerIndex - mark - 1
        guard length <= settings.maxLineBytes else {
            out.moveWriterIndex(to: mark)
            return eventLoop.makeFailedFuture(
                UpstreamError(.lineTooLong, "check line of \(length) bytes, over \(settings.maxLineBytes)"))
        }
        let promise = eventLoop.makePromise(of: CheckAnswer.self)
        let deadline = NIODeadline.now() + settings.timeout
        _ = pending.enqueue(.check(promise), deadline: deadline)
        if timer == nil { armTimer(at: deadline) }
        scheduleFlush()
        return promise.futureResult
    }

    /// Sends a `ping` and succeeds when authzd answers it in time (health checks). Only on
    /// `eventLoop`. Fails with an `UpstreamError` as `check` does.
    func ping() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        guard isUsable else {
            nudge()
            return eventLoop.makeFailedFuture(UpstreamError(.notConnected, "no connection to authzd"))
        }
        guard pending.count < settings.maxInFlight else {
            return eventLoop.makeFailedFuture(UpstreamError(.overloaded, "\(pending.count) checks in flight"))
        }
        let promise = eventLoop.makePromise(of: Void.self)
        let deadline = NIODeadline.now() + settings.timeout
        let id = pending.enqueue(.health(promise), deadline: deadline)
        if timer == nil { armTimer(at: deadline) }
        WireRequest.encodePing(id: id, into: &out)
        scheduleFlush()
        return promise.futureResult
    }

    /// Closes the connection for good and fails what is in flight.
    func shutdown() -> EventLoopFuture<Void> {
        eventLoop.submit {
            let old = self.state
            self.state = .shutDown
            self.stopPinging()
            switch old {
            case .connected(let channel, _): channel.close(promise: nil)
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
        connect(queueing: false)
    }

    private func connect(queueing: Bool) {
        eventLoop.preconditionInEventLoop()
        switch state {
        case .disconnected(let retry): retry?.cancel()
        case .connecting, .connected, .shutDown: return
        }
        state = .connecting(queueing: queueing)
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
            state = .connected(channel, since: .now())
            answeredOnCurrent = false
            backoff = settings.minBackoff
            if failureLogged {
                logger.info("connected to authzd", metadata: ["socket": "\(settings.socketPath)"])
            } else {
                logger.debug("connected to authzd", metadata: ["socket": "\(settings.socketPath)"])
            }
            failureLogged = false
            startPinging()
            // Checks that waited for this connection go out now.
            scheduleFlush()
        case .success(let channel):
            channel.close(promise: nil)
            connectFailed("connection closed at once")
        case .failure(let error):
            connectFailed("\(error)")
        }
    }

    private func connectFailed(_ problem: String) {
        failAll(UpstreamError(.notConnected, "cannot connect to authzd: \(problem)"))
        scheduleRetry(after: problem)
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
        let retry = eventLoop.scheduleTask(in: delay) { self.connect(queueing: false) }
        state = .disconnected(retry: retry)
    }

    // MARK: keeping an idle connection alive

    private func startPinging() {
        stopPinging()
        lastWrite = .now()
        let interval = settings.pingInterval
        pingTask = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in self.pingIfIdle() }
    }

    private func stopPinging() {
        pingTask?.cancel()
        pingTask = nil
    }

    /// Sends a `ping` unless a line went out in the last half interval, so a connection is never
    /// silent for more than about one and a half intervals.
    private func pingIfIdle() {
        guard case .connected = state, pending.count < settings.maxInFlight else { return }
        let now = NIODeadline.now()
        guard now - lastWrite >= TimeAmount.nanoseconds(settings.pingInterval.nanoseconds / 2) else { return }
        let id = pending.enqueue(.ping, deadline: now + settings.timeout)
        if timer == nil { armTimer(at: now + settings.timeout) }
        WireRequest.encodePing(id: id, into: &out)
        scheduleFlush()
    }

    // MARK: events from the channel

    func channelInactive(_ channel: Channel) {
        guard case .connected(let current, let since) = state, current === channel else { return }
        stopPinging()
        state = .disconnected(retry: nil)
        let settled = answeredOnCurrent || NIODeadline.now() - since >= settings.settledAfter
        if pending.count == 0 && settled {
            // authzd closed a connection that had nothing to answer (its idle timeout, or a
            // reload): nothing failed, so reopen it at once and let checks wait for it.
            logger.debug("authzd closed an idle connection; reopening it")
            connect(queueing: true)
            return
        }
        logger.warning("connection to authzd lost", metadata: ["in_flight": "\(pending.waitingCount)"])
        failureLogged = true
        failAll(UpstreamError(.connectionLost, "connection to authzd closed"))
        scheduleRetry(after: "connection lost")
    }

    func received(line: ByteBuffer, on channel: Channel) {
        guard case .connected(let current, _) = state, current === channel else { return }
        let answer: WireAnswer
        do {
            answer = try WireAnswer.decode(line.readableBytesView)
        } catch {
            desync(channel, "\(error)")
            return
        }
        let id = answer.id
        switch pending.answer(id: id) {
        case .deliver(let waiter):
            answeredOnCurrent = true
            if id == nil { noteAnswerWithoutID(answer) }
            if case .health(let promise) = waiter {
                if case .ok = answer {
                    promise.succeed(())
                } else {
                    promise.fail(UpstreamError(.badAnswer, "authzd did not answer the ping ok"))
                }
                return
            }
            guard case .check(let promise) = waiter else { return }
            // An answer in its place that is not a check answer fails its own check only: the
            // stream is still aligned, one answer per line.
            switch answer {
            case .check(let decision):
                promise.succeed(decision)
            case .ok:
                logger.error("unusable answer from authzd", metadata: ["error": "an ok answer to a check"])
                promise.fail(UpstreamError(.badAnswer, "answer has no valid status"))
            case .unusable(_, let error):
                logger.error("unusable answer from authzd", metadata: ["error": "\(error)"])
                promise.fail(UpstreamError(.badAnswer, error.message))
            }
        case .discard:
            answeredOnCurrent = true
        case .unexpected:
            desync(channel, "answer with nothing pending")
        case .idMismatch(let expected):
            desync(channel, "answer id \(id?.jsonString ?? "none"), expected \(expected)")
        }
    }

    /// The shim sends an id with every line, so an answer without one is authzd saying it could not
    /// read the line; `line_too_long` means `--max-line-bytes` is above authzd's `max_line_bytes`.
    private func noteAnswerWithoutID(_ answer: WireAnswer) {
        var reason = "none"
        if case .check(let decision) = answer { reason = decision.reason }
        guard let count = refusedLineLog.record(now: .now()) else { return }
        if reason == "line_too_long" {
            logger.warning(
                "authzd refused a check line as too long: set --max-line-bytes to authzd's max_line_bytes",
                metadata: ["max_line_bytes": "\(settings.maxLineBytes)", "count": "\(count)"])
        } else {
            logger.warning("authzd answered a check without its id", metadata: ["reason": "\(reason)", "count": "\(count)"])
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
        var checks = 0
        let error = UpstreamError(.timeout, "no answer from authzd in time")
        for waiter in pending.expire(now: .now()) {
            if case .health(let promise) = waiter { promise.fail(error) }
            guard case .check(let promise) = waiter else { continue }
            checks += 1
            promise.fail(error)
        }
        if checks > 0 {
            logger.warning("authzd did not answer in time", metadata: ["requests": "\(checks)"])
        }
        if let next = pending.nextDeadline { armTimer(at: next) }
    }

    private func scheduleFlush() {
        guard !flushScheduled, case .connected = state else { return }
        flushScheduled = true
        eventLoop.execute { self.flushLines() }
    }

    /// Writes the lines of this tick on the current connection. Lines written for a connection
    /// that has since gone were failed with it (and cleared), so whatever is here belongs to it.
    private func flushLines() {
        flushScheduled = false
        guard out.readableBytes > 0, case .connected(let channel, _) = state else { return }
        channel.writeAndFlush(out, promise: nil)
        // Reuses the storage once the channel has written it (usually at once), unless a burst
        // made it large.
        if out.capacity <= 1 << 16 { out.clear() } else { out = channel.allocator.buffer(capacity: 4096) }
        lastWrite = .now()
    }

    private func failAll(_ error: UpstreamError) {
        out.clear()
        timer?.cancel()
        timer = nil
        for waiter in pending.removeAll() {
            if case .check(let promise) = waiter { promise.fail(error) }
            if case .health(let promise) = waiter { promise.fail(error) }
        }
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
