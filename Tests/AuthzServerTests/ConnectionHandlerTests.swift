@testable import AuthzServer
import AuthzCore
import AuthzJSON
import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

/// Something a test opens by hand, standing in for a key set being fetched.
private final class Gate: PendingResource, Sendable {
    private let state = Mutex<(open: Bool, waiting: [@Sendable () -> Void])>((false, []))

    var isOpen: Bool { state.withLock { $0.open } }

    func whenReady(_ callback: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            if s.open { return true }
            s.waiting.append(callback)
            return false
        }
        if now { callback() }
    }

    func open() {
        let callbacks = state.withLock { s -> [@Sendable () -> Void] in
            s.open = true
            defer { s.waiting = [] }
            return s.waiting
        }
        for c in callbacks { c() }
    }
}

/// A step that waits for its gate, then allows.
private struct GatedStep: ChainPlugin {
    let gate: Gate
    func evaluate(_ request: CheckRequest, now: Int64) -> StepOutcome {
        gate.isOpen ? .result(.allowed()) : .pending(gate)
    }
}

/// A `ConnectionHandler` on an `EmbeddedChannel`, whose event loop's clock the test moves.
private final class Harness {
    let loop = EmbeddedEventLoop()
    let channel: EmbeddedChannel
    let handler: ConnectionHandler
    let gate = Gate()

    init(idle: Int, request: Int) throws {
        var settings = ServerSettings()
        settings.idleTimeout = idle
        settings.requestTimeout = request
        settings.maxLineBytes = 1024
        let chain = AppChain(name: "held", steps: [.init(pluginName: "gated", control: .required, plugin: GatedStep(gate: gate))])
        let configuration = Configuration(file: "test.toml", server: settings, log: LogSettings(), apps: ["held": chain], files: [])
        let runtime = Runtime(configuration: configuration, counters: CounterRegistry(), generation: 1)
        let state = LoopState(runtime: runtime, eventLoop: loop)
        let shared = ServerShared(resources: SharedResources(), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        handler = ConnectionHandler(loop: state, shared: shared, settings: settings, events: ConnectionEvents())
        channel = EmbeddedChannel(handler: handler, loop: loop)
        try channel.connect(to: SocketAddress(unixDomainSocketPath: "/authzd-test")).wait()
    }

    deinit { _ = try? channel.finish() }

    func send(_ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    /// Every answer line written so far.
    func answers() throws -> [JSONValue] {
        var text = ""
        while let b = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: b) }
        return try text.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    func advance(seconds: Int64) {
        loop.advanceTime(by: .seconds(seconds))
    }

    var isOpen: Bool { channel.isActive }
}

@Suite struct ConnectionHandlerTests {
    @Test func anIncompleteLineIsAnsweredThenClosedAfterTheRequestTimeout() throws {
        let h = try Harness(idle: 300, request: 10)
        try h.send("{\"id\":1,\"op\":\"ping\"}\n{\"id\":2,\"op\":\"pi")
        #expect(try h.answers() == [try JSONParser.parse("{\"id\":1,\"ok\":true}")])
        h.advance(seconds: 9)
        #expect(h.isOpen)
        h.advance(seconds: 1)
        #expect(!h.isOpen)
        let last = try h.answers()
        #expect(last.count == 1)
        #expect(last.first?["reason"] == "bad_request")
        #expect(last.first?["status"] == 400)
        #expect(last.first?["message"]?.stringValue?.contains("request_timeout") == true)
    }

    @Test func aTrickledLineDoesNotExtendItsTime() throws {
        let h = try Harness(idle: 300, request: 10)
        for piece in ["{\"op\"", ":", "\"pi", "n"] {
            try h.send(piece)
            h.advance(seconds: 2)
            #expect(h.isOpen)
        }
        // A byte every 2 s, but the line's 10 s count from its first byte.
        h.advance(seconds: 1)
        #expect(h.isOpen)
        h.advance(seconds: 1)
        #expect(!h.isOpen)
    }

    @Test func anIdleConnectionIsClosedAfterTheIdleTimeout() throws {
        let h = try Harness(idle: 30, request: 10)
        try h.send("{\"op\":\"ping\"}\n")
        #expect(try h.answers().count == 1)
        h.advance(seconds: 29)
        #expect(h.isOpen)
        h.advance(seconds: 1)
        #expect(!h.isOpen)
        #expect(try h.answers().isEmpty, "an idle close says nothing: no line was unanswered")
    }

    @Test func aConnectionThatNeverSendsIsClosedAfterTheIdleTimeout() throws {
        let h = try Harness(idle: 30, request: 10)
        h.advance(seconds: 29)
        #expect(h.isOpen)
        h.advance(seconds: 1)
        #expect(!h.isOpen)
    }

    @Test func aClientSendingLinesSteadilyIsNeverClosed() throws {
        let h = try Harness(idle: 5, request: 2)
        for i in 0..<60 {
            // Each ping arrives in two pieces a second apart: lines are always half-sent for a while.
            try h.send("{\"id\":\(i),")
            h.advance(seconds: 1)
            try h.send("\"op\":\"ping\"}\n")
            h.advance(seconds: 1)
            #expect(h.isOpen)
        }
        #expect(try h.answers().count == 60)
    }

    @Test func aConnectionOwedAnAnswerIsNotClosed() throws {
        let h = try Harness(idle: 5, request: 2)
        try h.send("{\"id\":1,\"app\":\"held\",\"remote_addr\":\"127.0.0.1\"}\n{\"id\":2,\"op\":\"ping\"}\n{\"id\":3,")
        h.advance(seconds: 600)
        #expect(h.isOpen, "a decision waiting for keys keeps its connection, half-sent line and all")
        #expect(try h.answers().isEmpty, "the ping waits behind the pending decision")
        h.gate.open()
        h.loop.run()
        let answers = try h.answers()
        #expect(answers.map { $0["id"] } == [1, 2])
        #expect(answers.first?["allow"] == .bool(true))
        // From the moment the answers are out, the half-sent line has its full request_timeout.
        h.advance(seconds: 1)
        #expect(h.isOpen)
        h.advance(seconds: 1)
        #expect(!h.isOpen)
    }

    @Test func theIdleClockStartsWhenTheOwedAnswerIsOut() throws {
        let h = try Harness(idle: 5, request: 2)
        try h.send("{\"id\":1,\"app\":\"held\",\"remote_addr\":\"127.0.0.1\"}\n")
        h.advance(seconds: 100)
        h.gate.open()
        h.loop.run()
        #expect(try h.answers().count == 1)
        h.advance(seconds: 4)
        #expect(h.isOpen)
        h.advance(seconds: 1)
        #expect(!h.isOpen)
    }

    @Test func aClientThatDoesNotReadItsAnswersIsClosedAfterTheIdleTimeout() throws {
        let h = try Harness(idle: 5, request: 2)
        try h.send("{\"id\":1,\"op\":\"ping\"}\n{\"id\":2,\"op\"")
        // The socket stops being writable: the client is not reading; reading pauses.
        h.channel.isWritable = false
        h.channel.pipeline.fireChannelWritabilityChanged()
        h.advance(seconds: 4)
        #expect(h.isOpen, "the half-read line is not the client's delay while authzd is not reading")
        h.advance(seconds: 1)
        #expect(!h.isOpen)
    }

    @Test func aClientThatReadsItsAnswersSlowlyIsKept() throws {
        let h = try Harness(idle: 5, request: 2)
        try h.send("{\"id\":1,\"op\":\"ping\"}\n")
        for _ in 0..<10 {
            h.channel.isWritable = false
            h.channel.pipeline.fireChannelWritabilityChanged()
            h.advance(seconds: 4)
            h.channel.isWritable = true
            h.channel.pipeline.fireChannelWritabilityChanged()
            #expect(h.isOpen)
        }
    }

    @Test func zeroTimeoutsNeverClose() throws {
        let h = try Harness(idle: 0, request: 0)
        try h.send("{\"op\":\"pi")
        h.advance(seconds: 86_400 * 30)
        #expect(h.isOpen)
        try h.send("ng\"}\n")
        #expect(try h.answers().first?["ok"] == .bool(true))
    }

    @Test func anOverlongLineBeingSkippedIsClosedWithoutASecondAnswer() throws {
        let h = try Harness(idle: 300, request: 10)
        try h.send("{\"path\":\"" + String(repeating: "a", count: 2000))
        let first = try h.answers()
        #expect(first.map { $0["reason"] } == ["line_too_long"])
        h.advance(seconds: 10)
        #expect(!h.isOpen)
        #expect(try h.answers().isEmpty)
    }

    // MARK: - Order, backpressure, drain

    /// A decision that waits for keys holds its place: a ping, an unknown app and a line that is
    /// not JSON pipelined behind it are answered after it, in the order they were sent.
    @Test func pipelinedAnswersKeepRequestOrderBehindAPendingDecision() throws {
        let h = try Harness(idle: 300, request: 10)
        try h.send("{\"id\":1,\"app\":\"held\",\"remote_addr\":\"127.0.0.1\"}\n{\"id\":2,\"op\":\"ping\"}\n"
                   + "{\"id\":3,\"app\":\"nope\"}\nnot json\n")
        #expect(try h.answers().isEmpty, "everything waits behind the pending decision")
        h.gate.open()
        h.loop.run()
        let answers = try h.answers()
        #expect(answers.map { $0["id"] } == [1, 2, 3, nil])
        #expect(answers.map { $0["reason"] } == ["ok", nil, "unknown_app", "bad_request"])
        #expect(h.isOpen)
    }

    /// A client pipelining without end behind a pending decision cannot make authzd queue
    /// answers without bound: reading pauses past the limit and resumes once they are out.
    @Test func readingPausesWhenTooManyAnswersWaitBehindAPendingDecision() throws {
        let h = try Harness(idle: 300, request: 10)
        let pings = ConnectionStateMachine.maxWaitingAnswers + 1
        var text = "{\"id\":0,\"app\":\"held\",\"remote_addr\":\"127.0.0.1\"}\n"
        for i in 1...pings { text += "{\"id\":\(i),\"op\":\"ping\"}\n" }
        try h.send(text)
        #expect(!h.handler.isReading)
        #expect(try h.answers().isEmpty)
        h.gate.open()
        h.loop.run()
        #expect(h.handler.isReading)
        let answers = try h.answers()
        #expect(answers.count == pings + 1)
        #expect(answers.map { $0["id"]?.numberValue?.int64 } == (0...pings).map { Int64($0) })
    }

    @Test func readingPausesWhileTheClientDoesNotReadItsAnswers() throws {
        let h = try Harness(idle: 300, request: 10)
        h.channel.isWritable = false
        h.channel.pipeline.fireChannelWritabilityChanged()
        #expect(!h.handler.isReading)
        h.channel.isWritable = true
        h.channel.pipeline.fireChannelWritabilityChanged()
        #expect(h.handler.isReading)
    }

    /// SIGTERM: nothing more is read, the answer still owed is written, then the connection closes.
    @Test func drainOnShutdownFinishesWhatWasReadThenCloses() throws {
        let h = try Harness(idle: 300, request: 10)
        try h.send("{\"id\":1,\"app\":\"held\",\"remote_addr\":\"127.0.0.1\"}\n")
        h.channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        #expect(h.isOpen, "an answer is still owed")
        #expect(!h.handler.isReading)
        try h.send("{\"id\":2,\"op\":\"ping\"}\n")
        h.gate.open()
        h.loop.run()
        #expect(!h.isOpen)
        #expect(try h.answers().map { $0["id"] } == [1], "the line sent after the drain is not read")
    }

    @Test func drainWithNothingOwedClosesAtOnce() throws {
        let h = try Harness(idle: 300, request: 10)
        try h.send("{\"id\":1,\"op\":\"ping\"}\n")
        h.channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        #expect(!h.isOpen)
        #expect(try h.answers().map { $0["id"] } == [1])
    }

    /// An overlong line between two good ones gets its own `line_too_long` answer in its place,
    /// whether it arrives in one read or across several, and the lines after it are unaffected.
    @Test func aLineTooLongInTheMiddleIsAnsweredInPlace() throws {
        let h = try Harness(idle: 300, request: 10)
        let long = "{\"app\":\"" + String(repeating: "a", count: 2000) + "\"}"
        try h.send("{\"id\":1,\"op\":\"ping\"}\n" + long + "\n{\"id\":2,\"op\":\"ping\"}\n")
        try h.send("{\"id\":3,\"op\":\"ping\"}\n" + long.prefix(1500))
        try h.send(long.dropFirst(1500) + "\n{\"id\":4,\"op\":\"ping\"}\n")
        let answers = try h.answers()
        #expect(answers.map { $0["id"] } == [1, nil, 2, 3, nil, 4])
        #expect(answers.map { $0["reason"] } == [nil, "line_too_long", nil, nil, "line_too_long", nil])
        #expect(answers[1]["status"] == 400)
        #expect(h.isOpen)
    }

    /// The client closes its side after a last line without a newline: that line is answered,
    /// with the decision still pending before it, then the connection closes.
    @Test func halfCloseAnswersTheLastLineAndWhatIsPendingThenCloses() throws {
        let h = try Harness(idle: 300, request: 10)
        try h.send("{\"id\":1,\"app\":\"held\",\"remote_addr\":\"127.0.0.1\"}\n{\"id\":2,\"op\":\"ping\"}")
        h.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(h.isOpen)
        #expect(try h.answers().isEmpty)
        h.gate.open()
        h.loop.run()
        #expect(try h.answers().map { $0["id"] } == [1, 2])
        #expect(!h.isOpen)
    }
}
