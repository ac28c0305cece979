import AuthzCore
import AuthzJSON
import AuthzWire
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Asks a connection to finish what it has read, then close (SIGTERM).
struct DrainEvent {}

/// One client connection: decides each line on this event loop and carries out what its
/// ``ConnectionStateMachine`` says (write answers in order, batched one write per read; pause
/// reading; arm the timer; close).
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let loop: LoopState
    private let shared: ServerShared
    private let events: ConnectionEvents
    private let idleSeconds: Int
    private let requestSeconds: Int
    private var machine: ConnectionStateMachine
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    /// What the channel's `autoRead` was last set to (tests read it: `EmbeddedChannel` does not
    /// report the option).
    private(set) var isReading = true

    init(loop: LoopState, shared: ServerShared, settings: ServerSettings, events: ConnectionEvents) {
        self.loop = loop
        self.shared = shared
        self.events = events
        self.idleSeconds = settings.idleTimeout
        self.requestSeconds = settings.requestTimeout
        self.machine = ConnectionStateMachine(
            maxLineBytes: settings.maxLineBytes, idleSeconds: settings.idleTimeout,
            requestSeconds: settings.requestTimeout, now: loop.eventLoop.now.uptimeNanoseconds)
    }

    private var now: UInt64 { loop.eventLoop.now.uptimeNanoseconds }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        perform(machine.start())
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = Self.unwrapInboundIn(data)
        guard machine.isReading else { return }
        while let event = machine.nextLine(&buffer) {
            handle(event)
        }
        perform(machine.readFinished(now: now))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        perform(machine.readComplete(now: now))
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        perform(machine.writabilityChanged(isWritable: context.channel.isWritable, now: now))
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainEvent {
            perform(machine.drain())
            return
        }
        if let e = event as? ChannelEvent, e == .inputClosed {
            // The client half-closed: answer its last line even without a newline, answer what
            // is pending, then close.
            if let last = machine.inputClosed() { handle(last) }
            perform(machine.drain())
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    // MARK: - Deciding

    private func handle(_ event: LineFramer.Event) {
        switch event {
        case .line(let line):
            handleLine(line)
        case .tooLong:
            refuse(.refused(.lineTooLong, message: "line longer than max_line_bytes (\(machine.maxLineBytes))"), id: nil)
        }
    }

    private func handleLine(_ line: ByteBuffer) {
        switch WireRequest.decode(line) {
        case .invalid(let id, let message):
            refuse(.refused(.badRequest, message: message), id: id)
        case .ping(let id):
            perform(machine.answer(.ok(id: id, stats: nil)))
        case .stats(let id):
            perform(machine.answer(.ok(id: id, stats: shared.stats(runtime: loop.runtime))))
        case .check(let request):
            decide(request)
        }
    }

    /// A line refused before any app looked at it (`bad_request`, `line_too_long`).
    private func refuse(_ d: Decision, id: JSONValue?) {
        record(d, request: nil, app: nil, runtime: loop.runtime, now: Int64(time(nil)), started: nil)
        perform(machine.answer(.decision(d, id: id)))
    }

    private func decide(_ request: CheckRequest) {
        let runtime = loop.runtime
        let now = Int64(time(nil))
        let started = NIODeadline.now().uptimeNanoseconds
        guard let app = runtime.apps[request.app] else {
            let d = Decision.refused(.unknownApp, message: "no app named \(request.app)")
            record(d, request: request, app: nil, runtime: runtime, now: now, started: started)
            perform(machine.answer(.decision(d, id: request.id)))
            return
        }
        switch app.chain.evaluate(request, now: now) {
        case .decided(let d):
            record(d, request: request, app: app, runtime: runtime, now: now, started: started)
            perform(machine.answer(.decision(d, id: request.id)))
        case .pending(let run, let resource):
            let seq = machine.reserve()
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

    private func resume(seq: Int, run: ChainRun, request: CheckRequest, app: Runtime.App, runtime: Runtime,
                        started: UInt64) {
        var run = run
        let now = Int64(time(nil))
        switch run.advance(app.chain, request, now: now) {
        case .decided(let d):
            record(d, request: request, app: app, runtime: runtime, now: now, started: started)
            perform(machine.fill(seq, with: .decision(d, id: request.id), now: self.now))
        case .pending(let again, let resource):
            wait(on: resource, seq: seq, run: again, request: request, app: app, runtime: runtime, started: started)
        }
    }

    /// Every answer to a line is recorded here, once, as it is decided: the per-app counts, the
    /// decision record, the metrics (`started`: when the decision began, for its duration), and
    /// lines refused before reaching an app (`request` nil).
    private func record(_ d: Decision, request: CheckRequest?, app: Runtime.App?, runtime: Runtime, now: Int64,
                        started: UInt64?) {
        guard let request else {
            shared.counters.recordBadLine(d.reason)
            return
        }
        if let app {
            app.counters.record(allow: d.allow, reason: d.reason)
        } else {
            shared.counters.unknownApp.record(allow: false, reason: .unknownApp)
        }
        if let started {
            shared.metrics.recordDecision(startedAt: started, now: NIODeadline.now().uptimeNanoseconds)
        }
        loop.decisionLog.record(d, request: request, settings: runtime.configuration.log,
                                logger: shared.logger, now: now)
    }

    // MARK: - Carrying out actions

    private func perform(_ action: ConnectionStateMachine.Action) {
        guard let context else { return }
        // Reading first: a write may make the socket unwritable, and what `wrote` says then must
        // be the last word.
        if let reading = action.reading {
            isReading = reading
            context.channel.setOption(ChannelOptions.autoRead, value: reading).whenComplete { _ in }
        }
        if action.write {
            context.writeAndFlush(Self.wrapOutboundOut(machine.output), promise: nil)
            perform(machine.wrote(isWritable: context.channel.isWritable, now: now))
        }
        switch action.timer {
        case .none:
            break
        case .arm(let at):
            timer?.cancel()
            let bound = NIOLoopBound(self, eventLoop: loop.eventLoop)
            timer = loop.eventLoop.scheduleTask(deadline: .uptimeNanoseconds(at)) {
                bound.value.timerFired()
            }
        case .expire(let expiry):
            expire(expiry)
        }
        if action.close {
            context.close(promise: nil)
        }
    }

    private func timerFired() {
        timer = nil
        guard context != nil else { return }
        perform(machine.timerFired(now: now))
    }

    /// Gives up on the connection: an unfinished line gets a `bad_request` answer saying why (an
    /// overlong one being skipped was answered already), then the connection closes.
    private func expire(_ expiry: ConnectionTimeouts.Expiry) {
        let why: String
        switch expiry {
        case .idle:
            why = "nothing received for \(idleSeconds) s (idle_timeout)"
            events.record(.idle, logger: shared.logger, level: .debug, "closed an idle connection: \(why)")
        case .incompleteLine:
            why = "request line incomplete after \(requestSeconds) s (request_timeout)"
            events.record(.incompleteLine, logger: shared.logger, level: .notice, "closed a connection: \(why)")
        }
        if machine.dropPartialLine() {
            refuse(.refused(.badRequest, message: "\(why); closing the connection"), id: nil)
        }
        perform(machine.drain())
    }
}
