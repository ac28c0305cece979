import AuthzCore
import Dispatch
@testable import OAuth2IntrospectionPlugin
import Testing

/// The bounds and deadline of `oauth2_introspection`'s calls in flight, and the endpoint's
/// report of their outcomes.
@Suite struct OAuth2IntrospectionFlightTests {
    static let active = "{\"active\":true,\"sub\":\"alice\"}"

    /// The reason and message of an immediate answer, or nil when the check waits.
    static func immediate(_ outcome: StepOutcome) -> StepResult? {
        if case .result(let r) = outcome { return r }
        return nil
    }

    @Test func distinctTokensInFlightAreBoundedAndTheNextIsRefusedWithoutACall() throws {
        let h = try IntrospectionHarness()
        h.fetcher.answer(Self.active)
        h.fetcher.hold()
        for i in 0..<IntrospectionCache.maxFlights {
            #expect(Self.immediate(h.evaluate("token-\(i)")) == nil, "token-\(i) should wait")
        }
        let refused = try #require(Self.immediate(h.evaluate("one-too-many")))
        #expect(refused.reason == .introspectionUnavailable)
        #expect(refused.status == 503)
        #expect(refused.message == "too many introspection calls in flight")
        #expect(h.fetcher.requests.count == IntrospectionCache.maxFlights)
        h.fetcher.release()
        #expect(h.cache.counts.flights == 0)
        // Room again: the refused token gets its call.
        #expect(h.decide("one-too-many")?.allow == true)
        #expect(h.fetcher.requests.count == IntrospectionCache.maxFlights + 1)
    }

    @Test func checksWaitingOnOneCallAreBounded() throws {
        let h = try IntrospectionHarness()
        h.fetcher.answer(Self.active)
        h.fetcher.hold()
        for _ in 0..<IntrospectionCache.maxWaitersPerFlight {
            #expect(Self.immediate(h.evaluate("tok")) == nil)
        }
        let refused = try #require(Self.immediate(h.evaluate("tok")))
        #expect(refused.reason == .introspectionUnavailable)
        #expect(refused.message == "too many checks waiting on one introspection call")
        #expect(h.fetcher.requests.count == 1)
        h.fetcher.release()
        #expect(h.decide("tok")?.allow == true)
        #expect(h.fetcher.requests.count == 1)
    }

    @Test func aCallPastItsDeadlineReleasesItsWaitersWithoutMakingThemWaitAgain() throws {
        let h = try IntrospectionHarness("fetch_timeout = 1")
        h.fetcher.answer(Self.active)
        h.fetcher.hold()
        guard case .pending(let flight) = h.evaluate("tok") else {
            Issue.record("expected a wait")
            return
        }
        // The call never returns; the deadline (fetch_timeout plus a margin) wakes the waiter.
        let woken = DispatchSemaphore(value: 0)
        flight.whenReady { woken.signal() }
        #expect(woken.wait(timeout: .now() + 30) == .success)
        let late = try #require(Self.immediate(h.evaluate("tok")))
        #expect(late.reason == .introspectionUnavailable)
        #expect(late.message == "introspection call did not finish within fetch_timeout")
        #expect(h.fetcher.requests.count == 1)
        // When the call does end, its answer serves and the flight is gone.
        h.fetcher.release()
        #expect(h.cache.counts.flights == 0)
        #expect(h.decide("tok")?.allow == true)
        #expect(h.fetcher.requests.count == 1)
    }

    @Test func theEndpointReportsOutcomesWithoutTheToken() throws {
        let h = try IntrospectionHarness()
        let idle = h.cache.endpoint.report
        #expect(idle.kind == "oauth2_introspection")
        #expect(idle.name == "https://idp.test/introspect")
        #expect(idle.state == .ok)
        #expect(idle.summary == "no calls yet")

        h.fetcher.fail("Connection refused")
        #expect(h.decide("secret-token-1")?.reason == .introspectionUnavailable)
        let failing = h.cache.endpoint.report
        #expect(failing.state == .unavailable)
        #expect(failing.lastError == "introspection call failed: Connection refused")
        #expect(failing.summary == "1 call, 1 failed")

        h.clocks.advance(1.5)
        h.fetcher.answer("{\"active\":false}")
        #expect(h.decide("secret-token-1")?.reason == .tokenInactive)
        let back = h.cache.endpoint.report
        #expect(back.state == .ok)
        #expect(back.lastError == nil)
        #expect(back.summary == "2 calls, 1 failed")
        #expect(back.details["last_failure"] == "introspection call failed: Connection refused")
        #expect(back.details["inactive"] == 1)
        #expect(!back.details.jsonString.contains("secret-token"))
    }
}
