import AuthzCore
import AuthzJSON
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Asks a connection to finish what it has read, then close (SIGTERM).
struct DrainEvent {}

/// One client connection: frames lines, decides each on this event loop, and writes answers in
/// request order, batching all answers of one read into one write. Closes the connection when it
/// stays idle or holds an unfinished line too long (`ConnectionTimeouts` decides when).
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let loop: LoopState
    private let shared: ServerShared
    private var framer: LineFramer
    private var queue = AnswerQueue()
    private var output: [UInt8] = []
    private var context: ChannelHandlerContext?
    private var draining = false
    /// Reading is paused: the client is not reading its answers, or too many answers wait
    /// behind a pending decision.
    private var readingPaused = false
    /// Answers that may wait behind a pending decision before reading pauses.
    static let maxWaitingAnswers = 1024

    private var timeouts: ConnectionTimeouts
    private let idleSeconds: Int
    private let requestSeconds: Int
    private var timer: Scheduled<Void>?
    /// What `timeouts` was last told: whether answers were owed and reading paused.
    private var reported = (answersPending: false, readingPaused: false)
    private let events: ConnectionEvents

    init(loop: LoopState, shared: ServerShared, settings: ServerSettings, events: ConnectionEvents) {
        self.loop = loop
        self.shared = shared
        self.events = events
        self.framer = LineFramer(maxLineBytes: settings.maxLineBytes)
        self.idleSeconds = settings.idleTimeout
        self.requestSeconds = settings.requestTimeout
        self.timeouts = ConnectionTimeouts(idleSeconds: settings.idleTimeout, requestSeconds: settings.requestTimeout,
                                           now: loop.eventLoop.now.uptimeNanoseconds)
        output.reserveCapacity(4096)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        apply(timeouts.start())
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if draining { return }
        // The closure must not touch `framer`, which is being mutated by `feed`.
        let limit = framer.maxLineBytes
        var endedLine = false
        framer.feed(&buffer) { event in
            endedLine = true
            handle(event, limit: limit)
        }
        // After `feed`: a decision that began waiting in this read is seen here.
        let now = loop.eventLoop.now.uptimeNanoseconds
        apply(timeouts.received(now: now, endedLine: endedLine, midLine: framer.isMidLine))
        updateTimeouts(now: now)
    }

    private func handle(_ event: LineFramer.Event, limit: Int) {
        switch event {
        case .line(let line): handleLine(line)
        case .tooLong:
            shared.counters.recordBadLine(.lineTooLong)
            emit(decision: .refused(.lineTooLong, message: "line longer than max_line_bytes (\(limit))"), id: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        updateTimeouts()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainEvent {
            draining = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            closeIfDrained()
            return
        }
        if let e = event as? ChannelEvent, e == .inputClosed {
            // The client half-closed: answer its last line even without a newline, answer what
            // is pending, then close.
            if !draining, let last = framer.takeUnterminatedLine() {
                handle(last, limit: framer.maxLineBytes)
            }
            draining = true
            flush()
            closeIfDrained()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    // MARK: - Deciding

    private func handleLine(_ line: ByteBuffer) {
        let request = line.withUnsafeReadableBytes { WireRequest.decode($0) }
        switch request {
        case .invalid(let id, let message):
            shared.counters.recordBadLine(.badRequest)
            emit(decision: .refused(.badRequest, message: message), id: id)
        case .ping(let id):
            var w = JSONWriter(capacity: 32)
            WireAnswer.encodeOK(id: id, into: &w)
            emit(bytes: w.bytes)
        case .stats(let id):
            var w = JSONWriter(capacity: 512)
            WireAnswer.encodeOK(id: id, stats: shared.stats(runtime: loop.runtime), into: &w)
            emit(bytes: w.bytes)
        case .check(let check):
            decide(check)
        }
    }

    private func decide(_ request: CheckRequest) {
        let runtime = loop.runtime
        let started = NIODeadline.now().uptimeNanoseconds  // metrics: decision duration
        guard let app = runtime.apps[request.app] else {
            shared.counters.unknownApp.record(allow: false, reason: .unknownApp)
            shared.metrics.recordDecision(startedAt: started, now: NIODeadline.now().uptimeNanoseconds)
            let d = Decision.refused(.unknownApp, message: "no app named \(request.app)")
            log(d, request: request, runtime: runtime, now: Int64(time(nil)))
            emit(decision: d, id: request.id)
            return
        }
        let now = Int64(time(nil))
        switch app.chain.evaluate(request, now: now) {
        case .decided(let d):
            finish(d, request: request, app: app, runtime: runtime, now: now, started: started)
            emit(decision: d, id: request.id)
        case .pending(let run, let resource):
            let seq = queue.reserve()
            wait(on: resource, seq: seq, run: run, request: request, app: app, runtime: runtime, started: started)
        }
    }

    /// Resumes a chain once its pending resource is ready, back on this event loop.
    private func wait(on resource: any PendingResource, seq: Int, run: ChainRun, request: CheckRequest,
                      app: Runtime.App, runtime: Runtime, started: UInt64) {
        let bound = NIOLoopBound(self, eventLoop: loop.eventLoop)
        let eventLoop = loop.eventLoop
        resource.whenReady {
            eventLoop.execute {
                bound.value.resume(seq: seq, run: run, request: request, app: app, runtime: runtime, started: started)
            }
        }
    }

    private func resume(seq: Int, run: ChainRun, request: CheckRequest, app: Runtime.App, runtime: Runtime, started: UInt64) {
        var run = run
        let now = Int64(time(nil))
        switch run.advance(app.chain, request, now: now) {
        case .decided(let d):
            finish(d, request: request, app: app, runtime: runtime, now: now, started: started)
            var w = JSONWriter(capacity: 128)
            WireAnswer.encode(d, id: request.id, into: &w)
            queue.fill(seq, with: w.bytes)
            queue.drainReady(into: &output)
            flush()
            updateReading()
            updateTimeouts()
            closeIfDrained()
        case .pending(let again, let resource):
            wait(on: resource, seq: seq, run: again, request: request, app: app, runtime: runtime, started: started)
        }
    }

    private func finish(_ d: Decision, request: CheckRequest, app: Runtime.App, runtime: Runtime, now: Int64, started: UInt64) {
        app.counters.record(allow: d.allow, reason: d.reason)
        shared.metrics.recordDecision(startedAt: started, now: NIODeadline.now().uptimeNanoseconds)  // metrics
        log(d, request: request, runtime: runtime, now: now)
    }

    private func log(_ d: Decision, request: CheckRequest, runtime: Runtime, now: Int64) {
        loop.decisionLog.record(d, request: request, settings: runtime.configuration.log,
                                logger: shared.logger, now: now)
    }

    // MARK: - Writing

    private func emit(decision: Decision, id: JSONValue?) {
        if queue.isEmpty {
            var w = JSONWriter(capacity: 0)
            swap(&w.bytes, &output)
            WireAnswer.encode(decision, id: id, into: &w)
            swap(&w.bytes, &output)
        } else {
            var w = JSONWriter(capacity: 128)
            WireAnswer.encode(decision, id: id, into: &w)
            queue.appendReady(w.bytes)
            updateReading()
        }
    }

    private func emit(bytes: [UInt8]) {
        if queue.isEmpty {
            output.append(contentsOf: bytes)
        } else {
            queue.appendReady(bytes)
            updateReading()
        }
    }

    private func flush() {
        guard let context, !output.isEmpty else { return }
        let buffer = context.channel.allocator.buffer(bytes: output)
        output.removeAll(keepingCapacity: output.capacity <= 1 << 16)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        updateReading()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            apply(timeouts.clientRead(now: loop.eventLoop.now.uptimeNanoseconds))
        }
        updateReading()
        updateTimeouts()
        context.fireChannelWritabilityChanged()
    }

    /// A client must not make us buffer without bound, whether by not reading its answers (the
    /// socket stops being writable) or by pipelining behind a decision that waits for keys
    /// (answers pile up in the queue): reading pauses until that clears.
    private func updateReading() {
        guard let context, !draining else { return }
        let pause = !context.channel.isWritable || queue.waitingCount > Self.maxWaitingAnswers
        guard pause != readingPaused else { return }
        readingPaused = pause
        context.channel.setOption(ChannelOptions.autoRead, value: !pause).whenComplete { _ in }
    }

    // MARK: - Timeouts

    /// Tells the timeouts when answers start or stop being owed, or reading pauses or resumes.
    private func updateTimeouts(now: UInt64? = nil) {
        let state = (answersPending: !queue.isEmpty, readingPaused: readingPaused)
        guard !draining, state != reported else { return }
        reported = state
        apply(timeouts.update(now: now ?? loop.eventLoop.now.uptimeNanoseconds, answersPending: state.answersPending,
                              readingPaused: state.readingPaused, midLine: framer.isMidLine))
    }

    private func apply(_ action: ConnectionTimeouts.Action) {
        switch action {
        case .none:
            return
        case .arm(let at):
            timer?.cancel()
            let bound = NIOLoopBound(self, eventLoop: loop.eventLoop)
            timer = loop.eventLoop.scheduleTask(deadline: .uptimeNanoseconds(at)) {
                bound.value.timerFired()
            }
        case .expire(let expiry):
            expire(expiry)
        }
    }

    private func timerFired() {
        timer = nil
        guard context != nil, !draining else { return }
        apply(timeouts.timerFired(now: loop.eventLoop.now.uptimeNanoseconds))
    }

    /// Gives up on the connection: an unfinished line gets a `bad_request` answer saying why (an
    /// overlong one being skipped was answered already), then the connection closes.
    private func expire(_ expiry: ConnectionTimeouts.Expiry) {
        guard let context, !draining else { return }
        let why: String
        switch expiry {
        case .idle:
            why = "nothing received for \(idleSeconds) s (idle_timeout)"
            events.record(.idle, logger: shared.logger, level: .debug, "closed an idle connection: \(why)")
        case .incompleteLine:
            why = "request line incomplete after \(requestSeconds) s (request_timeout)"
            events.record(.incompleteLine, logger: shared.logger, level: .notice, "closed a connection: \(why)")
        }
        if framer.hasPartialLine {
            shared.counters.recordBadLine(.badRequest)
            emit(decision: .refused(.badRequest, message: "\(why); closing the connection"), id: nil)
        }
        framer.dropPartialLine()
        draining = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        flush()
        closeIfDrained()
    }

    private func closeIfDrained() {
        guard draining, queue.isEmpty, let context else { return }
        flush()
        context.close(promise: nil)
    }
}
