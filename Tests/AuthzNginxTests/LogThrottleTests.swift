import NIOCore
import Testing

@testable import AuthzNginx

@Suite struct LogThrottleTests {
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func oneRecordPerIntervalCarriesTheCountHeldBack() {
        var l = LogThrottle(interval: .seconds(1))
        #expect(l.record(now: t0) == 1)
        for i in 1...99 {
            #expect(l.record(now: t0 + .milliseconds(Int64(i))) == nil)
        }
        #expect(l.nextReport == t0 + .seconds(1))
        #expect(l.flush(now: t0 + .milliseconds(500)) == nil)
        #expect(l.record(now: t0 + .seconds(1)) == 100)
        #expect(l.held == 0)
    }

    @Test func aHeldBackCountIsFlushedWhenTheIntervalHasPassed() {
        var l = LogThrottle(interval: .seconds(1))
        _ = l.record(now: t0)
        _ = l.record(now: t0 + .milliseconds(10))
        #expect(l.flush(now: t0 + .seconds(2)) == 1)
        #expect(l.flush(now: t0 + .seconds(4)) == nil)
        #expect(l.nextReport == nil)
    }
}
