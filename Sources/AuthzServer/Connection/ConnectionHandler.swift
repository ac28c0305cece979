import AuthzCore
import AuthzJSON
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Asks a connection to finish what it has read, then close (SIGTERM).
struct DrainEvent {}

/// One client connection: frames lines, decides each on this event loop, and writes answers in
/// request order, batching all answers of one read into one write.
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

    init(loop: LoopState, shared: ServerShared, maxLineBytes: Int) {
        self.loop = loop
        self.shared = shared
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
        output.reserveCapacity(4096)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if draining { return }
        // The closure must not touch `framer`, which is being mutated by `feed`.
        let limit = framer.maxLineBytes
        framer.feed(&buffer) { event in handle(event, limit: limit) }
    }

    private func handle(_ event: LineFramer.Event, limit: Int) {
        switch event {
        case .line(let line): handleLine(line)
        case .tooLong:
            shared.counters.badRequests.add(1, ordering: .relaxed)
            emit(decision: .refused(.lineTooLong, message: "line longer than max_line_bytes (\(limit))"), id: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
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
            shared.counters.badRequests.add(1, ordering: .relaxed)
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
        guard let app = runtime.apps[request.app] else {
            shared.counters.unknownApp.record(allow: false)
            let d = Decision.refused(.unknownApp, message: "no app named \(request.app)")
            log(d, request: request, runtime: runtime, now: Int64(time(nil)))
            emit(decision: d, id: request.id)
            return
        }
        let now = Int64(time(nil))
        switch app.chain.evaluate(request, now: now) {
        case .decided(let d):
            finish(d, request: request, app: app, runtime: runtime, now: now)
            emit(decision: d, id: request.id)
        case .pending(let run, let resource):
            let seq = queue.reserve()
            wait(on: resource, seq: seq, run: run, request: request, app: app, runtime: runtime)
        }
    }

    /// Resumes a chain once its pending resource is ready, back on this event loop.
    private func wait(on resource: any PendingResource, seq: Int, run: ChainRun, request: CheckRequest,
                      app: Runtime.App, runtime: Runtime) {
        let bound = NIOLoopBound(self, eventLoop: loop.eventLoop)
        let eventLoop = loop.eventLoop
        resource.whenReady {
            eventLoop.execute {
                bound.value.resume(seq: seq, run: run, request: request, app: app, runtime: runtime)
            }
        }
    }

    private func resume(seq: Int, run: ChainRun, request: CheckRequest, app: Runtime.App, runtime: Runtime) {
        var run = run
        let now = Int64(time(nil))
        switch run.advance(app.chain, request, now: now) {
        case .decided(let d):
            finish(d, request: request, app: app, runtime: runtime, now: now)
            var w = JSONWriter(capacity: 128)
            WireAnswer.encode(d, id: request.id, into: &w)
            queue.fill(seq, with: w.bytes)
            queue.drainReady(into: &output)
            flush()
            updateReading()
            closeIfDrained()
        case .pending(let again, let resource):
            wait(on: resource, seq: seq, run: again, request: request, app: app, runtime: runtime)
        }
    }

    private func finish(_ d: Decision, request: CheckRequest, app: Runtime.App, runtime: Runtime, now: Int64) {
        app.counters.record(allow: d.allow)
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
        updateReading()
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

    private func closeIfDrained() {
        guard draining, queue.isEmpty, let context else { return }
        flush()
        context.close(promise: nil)
    }
}
