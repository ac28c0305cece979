import NIOCore
import Testing

@testable import AuthzNginx

@Suite struct ConnectionTimeoutsTests {
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func make() -> ConnectionTimeouts {
        ConnectionTimeouts(headerTimeout: .seconds(10), idleTimeout: .seconds(75), now: t0)
    }

    @Test func aNewConnectionWithoutACompleteHeadIsClosedAtTheHeaderTimeout() {
        let t = make()
        #expect(t.wakeUp(now: t0 + .seconds(9)) == .sleep(until: t0 + .seconds(10)))
        #expect(t.wakeUp(now: t0 + .seconds(10)) == .close(.header))
    }

    @Test func nothingIsTimedWhileARequestIsAnswered() {
        var t = make()
        t.requestStarted()
        #expect(t.deadline == nil)
        #expect(t.wakeUp(now: t0 + .seconds(3600)) == .stop)
        #expect(t.nextWakeUp(now: t0) == nil)
    }

    @Test func anIdleConnectionIsClosedAtTheIdleTimeoutWakingAtLeastEveryHeaderTimeout() {
        var t = make()
        t.requestStarted()
        t.responseFinished(now: t0)
        #expect(t.isIdle)
        #expect(t.nextWakeUp(now: t0) == t0 + .seconds(10))
        #expect(t.wakeUp(now: t0 + .seconds(70)) == .sleep(until: t0 + .seconds(75)))
        #expect(t.wakeUp(now: t0 + .seconds(75)) == .close(.idle))
    }

    /// The first byte after an idle period starts the head's clock, even when the idle deadline
    /// is further away: a slow head cannot hide in the idle time.
    @Test func theFirstByteAfterIdleStartsTheHeaderTimeout() {
        var t = make()
        t.requestStarted()
        t.responseFinished(now: t0)
        t.bytesReceived(now: t0 + .seconds(1))
        #expect(!t.isIdle)
        #expect(t.deadline == t0 + .seconds(11))
        #expect(t.wakeUp(now: t0 + .seconds(11)) == .close(.header))
        // Later bytes of the same head do not push it back.
        t.bytesReceived(now: t0 + .seconds(5))
        #expect(t.deadline == t0 + .seconds(11))
    }

    /// With an idle timeout shorter than the header timeout, wake-ups come often enough for it.
    @Test func wakeUpsComeAtLeastEveryShorterTimeout() {
        var t = ConnectionTimeouts(headerTimeout: .seconds(600), idleTimeout: .seconds(1), now: t0)
        #expect(t.nextWakeUp(now: t0) == t0 + .seconds(1))
        #expect(t.wakeUp(now: t0 + .seconds(1)) == .sleep(until: t0 + .seconds(2)))
        t.requestStarted()
        t.responseFinished(now: t0 + .seconds(2))
        #expect(t.wakeUp(now: t0 + .seconds(3)) == .close(.idle))
    }

    @Test func aClientThatKeepsSendingRequestsIsNeverDue() {
        var t = make()
        var now = t0
        for _ in 0..<100 {
            t.requestStarted()
            now = now + .seconds(30)
            t.responseFinished(now: now)
            now = now + .seconds(30)
            #expect(t.wakeUp(now: now) != .close(.idle))
            t.bytesReceived(now: now)
        }
    }
}
