@testable import AuthzServer
import AuthzJSON
import NIOCore
import Testing

private let second: UInt64 = 1_000_000_000

private func machine(idle: Int = 300, request: Int = 10, maxLineBytes: Int = 64) -> ConnectionStateMachine {
    ConnectionStateMachine(maxLineBytes: maxLineBytes, idleSeconds: idle, requestSeconds: request, now: second)
}

/// A `ping` answer carrying `id`, standing in for any answer.
private func ok(_ id: Int) -> ConnectionStateMachine.Answer {
    .ok(id: .number(JSONNumber(id)), stats: nil)
}

/// The ids of the answer lines in `buffer`, in order.
private func ids(_ buffer: ByteBuffer) -> [Int] {
    String(buffer: buffer).split(separator: "\n").compactMap { line in
        (try? JSONParser.parse(String(line)))?["id"]?.numberValue?.int64.map { Int($0) }
    }
}

/// Every line event of one read, as text (nil for an overlong line).
private func lines(_ m: inout ConnectionStateMachine, _ text: String) -> [String?] {
    var input = ByteBuffer(string: text)
    var out: [String?] = []
    while let event = m.nextLine(&input) {
        switch event {
        case .line(let b): out.append(String(buffer: b))
        case .tooLong: out.append(nil)
        }
    }
    #expect(input.readableBytes == 0, "a read is always used up")
    return out
}

@Suite struct ConnectionStateMachineTests {
    @Test func readyAnswersGoStraightToTheOutputAndOutInOneWritePerRead() {
        var m = machine()
        #expect(m.answer(ok(1)) == .none)
        #expect(m.answer(ok(2)) == .none)
        #expect(ids(m.output) == [1, 2])
        let action = m.readComplete(now: second)
        #expect(action.write)
        #expect(!action.close)
        _ = m.wrote(isWritable: true, now: second)
        #expect(m.output.readableBytes == 0)
        #expect(!m.readComplete(now: second).write, "nothing left to write")
    }

    @Test func answersBehindAPendingDecisionWaitForItAndKeepRequestOrder() {
        var m = machine()
        _ = m.answer(ok(1))
        let two = m.reserve()
        _ = m.answer(ok(3))
        let four = m.reserve()
        _ = m.answer(ok(5))
        #expect(ids(m.output) == [1])
        #expect(m.answersPending)
        #expect(m.readComplete(now: second).write)
        _ = m.wrote(isWritable: true, now: second)
        let afterFour = m.fill(four, with: ok(4), now: second)
        #expect(!afterFour.write, "4 is ready but 2 is not")
        #expect(m.output.readableBytes == 0)
        let afterTwo = m.fill(two, with: ok(2), now: second)
        #expect(afterTwo.write)
        #expect(ids(m.output) == [2, 3, 4, 5])
        #expect(!m.answersPending)
    }

    @Test func readingPausesWhenTooManyAnswersWaitAndResumesWhenTheyAreOut() {
        var m = machine()
        let first = m.reserve()
        for _ in 0..<ConnectionStateMachine.maxWaitingAnswers - 1 {
            #expect(m.answer(ok(0)).reading == nil)
        }
        #expect(!m.isReadingPaused)
        #expect(m.answer(ok(0)).reading == false, "one over the limit pauses reading")
        #expect(m.isReadingPaused)
        #expect(m.answer(ok(0)).reading == nil, "already paused")
        let filled = m.fill(first, with: ok(1), now: second)
        #expect(filled.reading == true)
        #expect(filled.write)
        #expect(!m.isReadingPaused)
    }

    @Test func readingPausesWhileTheClientDoesNotReadItsAnswers() {
        var m = machine()
        #expect(m.writabilityChanged(isWritable: false, now: second).reading == false)
        #expect(m.isReadingPaused)
        #expect(m.writabilityChanged(isWritable: true, now: second).reading == true)
        // A write that fills the socket pauses reading too.
        _ = m.answer(ok(1))
        #expect(m.wrote(isWritable: false, now: second).reading == false)
    }

    @Test func drainWithNothingOwedStopsReadingAndClosesAtOnce() {
        var m = machine()
        _ = m.answer(ok(1))
        let action = m.drain()
        #expect(action.reading == false)
        #expect(action.write, "what is answered goes out before the close")
        #expect(action.close)
        #expect(!m.isReading)
    }

    @Test func drainWaitsForAnAnswerStillOwedThenCloses() {
        var m = machine()
        let seq = m.reserve()
        let drained = m.drain()
        #expect(!drained.close)
        #expect(drained.reading == false)
        var more = ByteBuffer(string: "{\"op\":\"ping\"}\n")
        #expect(m.nextLine(&more) == nil, "nothing more is read while draining")
        #expect(more.readableBytes == 0)
        let filled = m.fill(seq, with: ok(7), now: second)
        #expect(filled.write)
        #expect(filled.close)
        #expect(ids(m.output) == [7])
        #expect(m.drain() == .none, "closed already")
    }

    @Test func anOverlongLineInTheMiddleIsOneEventAndTheNextLineStillComes() {
        var m = machine(maxLineBytes: 8)
        #expect(lines(&m, "one\n" + String(repeating: "x", count: 20) + "\ntwo\n") == ["one", nil, "two"])
        // Across reads: reported once, skipped to its newline.
        #expect(lines(&m, "a\n" + String(repeating: "y", count: 12)) == ["a", nil])
        #expect(lines(&m, String(repeating: "y", count: 30)) == [])
        #expect(lines(&m, "yy\r\nb\r\n") == ["b"])
    }

    @Test func aHalfCloseHandsOverTheUnterminatedLastLine() {
        var m = machine()
        #expect(lines(&m, "{\"op\":\"ping\"}\n{\"op\"") == ["{\"op\":\"ping\"}"])
        guard case .line(let last) = m.inputClosed() else {
            Issue.record("the unterminated line was not handed over")
            return
        }
        #expect(String(buffer: last) == "{\"op\"")
        #expect(m.drain().close)
        #expect(m.inputClosed() == nil)
    }

    @Test func noTimerRunsWhileAnAnswerIsOwed() {
        var m = machine(idle: 5, request: 2)
        #expect(m.start().timer == .arm(at: 6 * second))
        _ = m.reserve()
        _ = m.readFinished(now: second)
        #expect(m.timerFired(now: 1000 * second).timer == .none)
        #expect(m.timerFired(now: 1000 * second).close == false)
    }

    @Test func anIdleConnectionExpires() {
        var m = machine(idle: 5, request: 2)
        _ = m.start()
        #expect(m.timerFired(now: 6 * second).timer == .expire(.idle))
        let hadPartialLine = m.dropPartialLine()
        #expect(!hadPartialLine, "no line was half-sent")
        #expect(m.drain().close)
    }
}
