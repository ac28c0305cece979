@testable import AuthzServer
import Testing

private let s: UInt64 = 1_000_000_000

/// A connection opened at t = 100 s with idle_timeout 300 and request_timeout 10.
private func opened(idle: Int = 300, request: Int = 10) -> ConnectionTimeouts {
    var t = ConnectionTimeouts(idleSeconds: idle, requestSeconds: request, now: 100 * s)
    _ = t.start()
    return t
}

@Suite struct ConnectionTimeoutsTests {
    @Test func aFreshConnectionIsArmedForTheIdleTimeout() {
        var t = ConnectionTimeouts(idleSeconds: 300, requestSeconds: 10, now: 100 * s)
        #expect(t.start() == .arm(at: 400 * s))
        #expect(t.timerFired(now: 399 * s) == .arm(at: 400 * s))
        #expect(t.timerFired(now: 400 * s) == .expire(.idle))
    }

    @Test func anIdleTimeoutOfZeroNeverCloses() {
        var t = ConnectionTimeouts(idleSeconds: 0, requestSeconds: 10, now: 0)
        #expect(t.start() == .none)
        #expect(t.timerFired(now: 1_000_000 * s) == .none)
        #expect(t.deadline() == nil)
    }

    @Test func receivingAnythingPushesTheIdleDeadlineWithoutRearming() {
        var t = opened()
        // Activity moves the deadline later: the timer already set stays, no new one per read.
        #expect(t.received(now: 200 * s, endedLine: true, midLine: false) == .none)
        #expect(t.deadline()?.0 == 500 * s)
        // The timer set for 400 fires, finds the connection active, and re-arms at the new deadline.
        #expect(t.timerFired(now: 400 * s) == .arm(at: 500 * s))
        #expect(t.timerFired(now: 500 * s) == .expire(.idle))
    }

    @Test func aLineLeftIncompleteExpiresAfterTheRequestTimeout() {
        var t = opened()
        #expect(t.received(now: 110 * s, endedLine: false, midLine: true) == .arm(at: 120 * s))
        // More bytes of the same line do not extend its time: a trickle cannot hold a slot.
        #expect(t.received(now: 115 * s, endedLine: false, midLine: true) == .none)
        #expect(t.received(now: 119 * s, endedLine: false, midLine: true) == .none)
        #expect(t.timerFired(now: 120 * s) == .expire(.incompleteLine))
    }

    @Test func aLineFinishedInTimeDoesNotExpire() {
        var t = opened()
        #expect(t.received(now: 110 * s, endedLine: false, midLine: true) == .arm(at: 120 * s))
        #expect(t.received(now: 112 * s, endedLine: true, midLine: false) == .none)
        #expect(t.timerFired(now: 120 * s) == .arm(at: 412 * s))
    }

    @Test func eachNewLineGetsItsOwnRequestTimeout() {
        // A client streaming lines: every read ends one line and starts the next.
        var t = opened()
        #expect(t.received(now: 110 * s, endedLine: false, midLine: true) == .arm(at: 120 * s))
        for second in 111...125 {
            #expect(t.received(now: UInt64(second) * s, endedLine: true, midLine: true) == .none)
        }
        #expect(t.timerFired(now: 120 * s) == .arm(at: 135 * s))
        #expect(t.received(now: 130 * s, endedLine: true, midLine: false) == .none)
        #expect(t.timerFired(now: 135 * s) == .arm(at: 430 * s))
    }

    @Test func noClockRunsWhileAnAnswerIsOwed() {
        var t = opened(idle: 5, request: 2)
        #expect(t.received(now: 101 * s, endedLine: true, midLine: true) == .arm(at: 103 * s))
        // A decision waits for keys: the connection is busy, not idle, however long it takes.
        #expect(t.update(now: 101 * s, answersPending: true, readingPaused: false, midLine: true) == .none)
        #expect(t.deadline() == nil)
        #expect(t.timerFired(now: 103 * s) == .none)
        #expect(t.timerFired(now: 10_000 * s) == .none)
        // Once the answer is out, both clocks start again from that moment.
        #expect(t.update(now: 10_000 * s, answersPending: false, readingPaused: false, midLine: true) == .arm(at: 10_002 * s))
        #expect(t.timerFired(now: 10_002 * s) == .expire(.incompleteLine))
    }

    @Test func theIdleClockRestartsWhenTheLastAnswerIsOut() {
        var t = opened(idle: 5, request: 2)
        #expect(t.received(now: 101 * s, endedLine: true, midLine: false) == .none)
        #expect(t.update(now: 101 * s, answersPending: true, readingPaused: false, midLine: false) == .none)
        #expect(t.timerFired(now: 105 * s) == .none)
        #expect(t.update(now: 130 * s, answersPending: false, readingPaused: false, midLine: false) == .arm(at: 135 * s))
        #expect(t.timerFired(now: 134 * s) == .arm(at: 135 * s))
        #expect(t.timerFired(now: 135 * s) == .expire(.idle))
    }

    @Test func aClientThatDoesNotReadItsAnswersIsClosedAfterTheIdleTimeout() {
        var t = opened(idle: 5, request: 2)
        #expect(t.received(now: 101 * s, endedLine: true, midLine: true) == .arm(at: 103 * s))
        // Backpressure paused reading: the half-read line is not the client's delay...
        #expect(t.update(now: 101 * s, answersPending: false, readingPaused: true, midLine: true) == .none)
        #expect(t.timerFired(now: 103 * s) == .arm(at: 106 * s))
        // ...but neither sending nor reading for idle_timeout is idle.
        #expect(t.timerFired(now: 106 * s) == .expire(.idle))
    }

    @Test func aClientThatReadsSlowlyIsNotIdle() {
        var t = opened(idle: 5, request: 2)
        #expect(t.received(now: 101 * s, endedLine: true, midLine: true) == .arm(at: 103 * s))
        #expect(t.update(now: 101 * s, answersPending: false, readingPaused: true, midLine: true) == .none)
        #expect(t.clientRead(now: 104 * s) == .none)
        #expect(t.timerFired(now: 103 * s) == .arm(at: 109 * s))
        // Reading resumes: the unfinished line gets a full request_timeout from now.
        #expect(t.update(now: 108 * s, answersPending: false, readingPaused: false, midLine: true) == .none)
        #expect(t.timerFired(now: 109 * s) == .arm(at: 110 * s))
        #expect(t.timerFired(now: 110 * s) == .expire(.incompleteLine))
    }

    @Test func aRequestTimeoutOfZeroLeavesOnlyTheIdleTimeout() {
        var t = opened(idle: 300, request: 0)
        #expect(t.received(now: 110 * s, endedLine: false, midLine: true) == .none)
        #expect(t.timerFired(now: 400 * s) == .arm(at: 410 * s))
        #expect(t.timerFired(now: 410 * s) == .expire(.idle))
    }

    @Test func anExpiredConnectionExpiresOnlyOnce() {
        var t = opened(idle: 1, request: 0)
        #expect(t.timerFired(now: 101 * s) == .expire(.idle))
        #expect(t.timerFired(now: 102 * s) == .none)
        #expect(t.received(now: 102 * s, endedLine: true, midLine: false) == .none)
        #expect(t.deadline() == nil)
    }

    @Test func theEarlierDeadlineWins() {
        // idle shorter than request: a half-sent line on a quiet connection ends at the idle deadline.
        var t = opened(idle: 3, request: 10)
        #expect(t.received(now: 101 * s, endedLine: false, midLine: true) == .none)
        #expect(t.timerFired(now: 103 * s) == .arm(at: 104 * s))
        #expect(t.timerFired(now: 104 * s) == .expire(.idle))
    }
}
