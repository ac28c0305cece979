import AuthzCore
import AuthzJSON
import AuthzWire
import NIOCore

/// The logic of one client connection, without a channel: framing, answer order, backpressure,
/// timeouts and drain. `ConnectionHandler` tells it what happened and carries out the returned
/// ``Action``; tests drive it directly.
///
/// The rules:
/// - Answers go out in request order. An answer ready while none waits ahead of it is written
///   straight into ``output``; one behind a pending decision waits in an ``AnswerQueue`` slot.
/// - Reading pauses while the client does not read its answers (the socket is not writable) or
///   more than ``maxWaitingAnswers`` answers wait behind a pending decision, so a client cannot
///   make the daemon buffer without bound; it resumes when both clear.
/// - Draining (shutdown, the client's half-close, a timeout): nothing more is read, and the
///   connection closes as soon as every answer owed is written.
/// - ``ConnectionTimeouts`` is told whenever answers start or stop being owed or reading pauses
///   or resumes, and its timer requests are passed on.
struct ConnectionStateMachine {
    /// What the handler must do, in this order: switch reading, write ``output``, set or fire
    /// the timer, close.
    struct Action: Equatable {
        /// Write and flush ``output``, then call ``wrote(isWritable:now:)``.
        var write = false
        /// Turn the channel's reading on (true) or off (false).
        var reading: Bool?
        var timer: ConnectionTimeouts.Action = .none
        /// Close the connection (after the write).
        var close = false

        static let none = Action()

        fileprivate mutating func add(_ timer: ConnectionTimeouts.Action) {
            // Deadlines only move earlier between two timer requests, so the later one wins.
            if timer != .none { self.timer = timer }
        }
    }

    /// One answer line, encoded by the machine into its place in the output.
    enum Answer {
        /// The answer to a `check` (or a line refused as `bad_request` or `line_too_long`).
        case decision(Decision, id: JSONValue?)
        /// The answer to a `ping`, or with stats to a `stats`.
        case ok(id: JSONValue?, stats: JSONValue?)

        fileprivate func encode(into buffer: inout ByteBuffer) {
            switch self {
            case .decision(let d, let id): WireAnswer.encode(d, id: id, into: &buffer)
            case .ok(let id, let stats): WireAnswer.encodeOK(id: id, stats: stats, into: &buffer)
            }
        }
    }

    private enum State: Equatable {
        case open
        /// No more reading; close when nothing is owed.
        case draining
        case closed
    }

    /// Answers that may wait behind a pending decision before reading pauses.
    static let maxWaitingAnswers = 1024

    /// Answers ready to go to the socket, in order.
    private(set) var output: ByteBuffer
    private let allocator: ByteBufferAllocator
    private var framer: LineFramer
    private var queue = AnswerQueue()
    private var timeouts: ConnectionTimeouts
    private var state = State.open
    private var writable = true
    private var readingPaused = false
    /// Whether a line (or overlong line) ended in the current read.
    private var endedLine = false
    /// What `timeouts` was last told: whether answers were owed and reading paused.
    private var reported = (answersPending: false, readingPaused: false)

    /// `now`: the event loop's uptime in nanoseconds when the connection opened.
    init(maxLineBytes: Int, idleSeconds: Int, requestSeconds: Int, now: UInt64,
         allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.allocator = allocator
        self.output = allocator.buffer(capacity: 4096)
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
        self.timeouts = ConnectionTimeouts(idleSeconds: idleSeconds, requestSeconds: requestSeconds, now: now)
    }

    var maxLineBytes: Int { framer.maxLineBytes }

    /// Whether bytes that arrive are still read (not draining or closed).
    var isReading: Bool { state == .open }

    /// Whether an answer is owed that is not ready yet.
    var answersPending: Bool { !queue.isEmpty }

    /// Whether reading is paused by backpressure.
    var isReadingPaused: Bool { readingPaused }

    // MARK: - Events

    /// The connection opened: arms the first timer.
    mutating func start() -> Action {
        var action = Action()
        action.add(timeouts.start())
        return action
    }

    /// The next line of a read (see ``LineFramer/next(_:)``); nil when the read is used up or
    /// the connection no longer reads. Answer each line before asking for the next.
    mutating func nextLine(_ input: inout ByteBuffer) -> LineFramer.Event? {
        guard state == .open else {
            input.moveReaderIndex(to: input.writerIndex)
            return nil
        }
        let event = framer.next(&input)
        if case .some = event { endedLine = true }
        return event
    }

    /// Every line of a read has been answered or queued.
    mutating func readFinished(now: UInt64) -> Action {
        defer { endedLine = false }
        guard state == .open else { return .none }
        var action = Action()
        action.add(timeouts.received(now: now, endedLine: endedLine, midLine: framer.isMidLine))
        reportToTimeouts(now: now, into: &action)
        return action
    }

    /// An answer that is ready now, in its place in the order.
    mutating func answer(_ answer: Answer) -> Action {
        if queue.isEmpty {
            answer.encode(into: &output)
            return .none
        }
        var bytes = allocator.buffer(capacity: 128)
        answer.encode(into: &bytes)
        queue.appendReady(bytes)
        var action = Action()
        updateReading(into: &action)
        return action
    }

    /// Holds a place for an answer that is not ready yet; returns its sequence number for
    /// ``fill(_:with:now:)``.
    mutating func reserve() -> Int {
        queue.reserve()
    }

    /// The answer for a reserved place is ready: whatever is now in order is written.
    mutating func fill(_ seq: Int, with answer: Answer, now: UInt64) -> Action {
        guard state != .closed else { return .none }
        var bytes = allocator.buffer(capacity: 128)
        answer.encode(into: &bytes)
        queue.fill(seq, with: bytes)
        queue.drainReady(into: &output)
        var action = Action()
        action.write = output.readableBytes > 0
        updateReading(into: &action)
        reportToTimeouts(now: now, into: &action)
        closeIfDrained(into: &action)
        return action
    }

    /// The read is complete: what it answered goes out in one write.
    mutating func readComplete(now: UInt64) -> Action {
        var action = Action()
        action.write = state != .closed && output.readableBytes > 0
        reportToTimeouts(now: now, into: &action)
        return action
    }

    /// ``output`` was handed to the channel. Clearing it reuses its storage when the channel has
    /// already written and released it, which is the usual case.
    mutating func wrote(isWritable: Bool, now: UInt64) -> Action {
        // A burst may have grown the buffer; a connection keeps at most 64 KiB between reads.
        if output.capacity <= 1 << 16 { output.clear() } else { output = allocator.buffer(capacity: 4096) }
        writable = isWritable
        var action = Action()
        updateReading(into: &action)
        reportToTimeouts(now: now, into: &action)
        return action
    }

    /// The socket became writable or stopped being so.
    mutating func writabilityChanged(isWritable: Bool, now: UInt64) -> Action {
        var action = Action()
        if isWritable { action.add(timeouts.clientRead(now: now)) }
        writable = isWritable
        updateReading(into: &action)
        reportToTimeouts(now: now, into: &action)
        return action
    }

    /// The client closed its side: its last line counts even without a newline. Returns it, to be
    /// answered before ``drain()``.
    mutating func inputClosed() -> LineFramer.Event? {
        guard state == .open else { return nil }
        return framer.takeUnterminatedLine()
    }

    /// Stops reading and closes once every answer owed is written (shutdown, half-close, expiry).
    mutating func drain() -> Action {
        var action = Action()
        if state == .open {
            state = .draining
            action.reading = false
        }
        action.write = state != .closed && output.readableBytes > 0
        closeIfDrained(into: &action)
        return action
    }

    /// The timer set by an `.arm` action ran.
    mutating func timerFired(now: UInt64) -> Action {
        guard state == .open else { return .none }
        var action = Action()
        action.add(timeouts.timerFired(now: now))
        return action
    }

    /// The connection is being given up after a timeout: forgets the unfinished line and says
    /// whether there was one (it is then owed a `bad_request` answer, given before ``drain()``).
    mutating func dropPartialLine() -> Bool {
        let had = framer.hasPartialLine
        framer.dropPartialLine()
        return had
    }

    // MARK: - Rules

    private mutating func updateReading(into action: inout Action) {
        guard state == .open else { return }
        let pause = !writable || queue.waitingCount > Self.maxWaitingAnswers
        guard pause != readingPaused else { return }
        readingPaused = pause
        action.reading = !pause
    }

    /// Tells the timeouts when answers start or stop being owed, or reading pauses or resumes.
    private mutating func reportToTimeouts(now: UInt64, into action: inout Action) {
        let current = (answersPending: !queue.isEmpty, readingPaused: readingPaused)
        guard state == .open, current != reported else { return }
        reported = current
        action.add(timeouts.update(now: now, answersPending: current.answersPending,
                                   readingPaused: current.readingPaused, midLine: framer.isMidLine))
    }

    private mutating func closeIfDrained(into action: inout Action) {
        guard state == .draining, queue.isEmpty else { return }
        state = .closed
        action.write = output.readableBytes > 0
        action.close = true
    }
}
