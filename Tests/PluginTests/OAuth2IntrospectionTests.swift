import AuthzCore
import AuthzJSON
import Dispatch
import Foundation
import JWTSupport
@testable import OAuth2IntrospectionPlugin
import Testing

/// The introspection step's decisions, cache and single flight, over a scripted fetcher.
@Suite struct OAuth2IntrospectionTests {
    static let exp = Int(IntrospectionClocks.wallStart) + 3600

    static func active(_ extra: String = "") -> String {
        "{\"active\":true,\"scope\":\"broadcast:read\",\"client_id\":\"api\",\"sub\":\"svc\",\"exp\":\(exp)\(extra)}"
    }

    @Test func requestIsAFormPostWithBasicCredentialsFormEncodedFirst() throws {
        let h = try IntrospectionHarness()
        h.fetcher.answer(Self.active())
        _ = h.decide("to+ken/with=odd&chars")
        let r = try #require(h.fetcher.requests.first)
        #expect(r.method == .post)
        #expect(r.url == "https://idp.test/introspect")
        #expect(r.maxRedirects == 0)
        #expect(String(decoding: r.body ?? [], as: UTF8.self) == "token=to%2Bken%2Fwith%3Dodd%26chars&token_type_hint=access_token")
        let headers = Dictionary(uniqueKeysWithValues: r.headers.map { ($0.name.lowercased(), $0.value) })
        #expect(headers["content-type"] == "application/x-www-form-urlencoded")
        #expect(headers["accept"] == "application/json")
        #expect(headers["authorization"] == "Basic " + Data("authzd:s3cret".utf8).base64EncodedString())
    }

    @Test func clientCredentialsAreFormEncodedBeforeBasic() {
        let c = ClientCredentials(id: "a:b c", secret: Array("p@ss+w%rd:é".utf8))
        let expected = "a%3Ab+c:p%40ss%2Bw%25rd%3A%C3%A9"
        #expect(c.authorization == "Basic " + Data(expected.utf8).base64EncodedString())
        #expect(!c.description.contains("p@ss"))
        for n in 0...7 {
            let bytes = (0..<n).map { UInt8($0 * 37 % 256) }
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString())
        }
    }

    @Test func activeAnswerAllowsWithForwardedClaimsAndSubject() throws {
        let h = try IntrospectionHarness("forward_claims = { client_id = \"x-client\", scope = \"x-scope\" }")
        h.fetcher.answer(Self.active())
        let r = try #require(h.decide("tok"))
        #expect(r.allow)
        #expect(r.subject == "svc")
        #expect(r.headers.contains { $0 == ("x-client", "api") })
        #expect(r.headers.contains { $0 == ("x-scope", "broadcast:read") })
        #expect(r.ttl == 60)
    }

    @Test func activeAnswerIsReusedForCacheTTLThenAskedAgain() throws {
        let h = try IntrospectionHarness("cache_ttl = 10")
        h.fetcher.answer(Self.active())
        #expect(h.decide("tok")?.allow == true)
        h.clocks.advance(9)
        h.fetcher.answer("{\"active\":false}")
        let cached = try #require(h.decide("tok"))
        #expect(cached.allow, "served from the cache")
        #expect((cached.ttl ?? 99) <= 1, "a caller may not cache past our own reuse")
        #expect(h.fetcher.requests.count == 1)
        h.clocks.advance(1.5)
        let after = try #require(h.decide("tok"))
        #expect(!after.allow)
        #expect(after.reason == .tokenInactive)
        #expect(after.status == 401)
        #expect(h.fetcher.requests.count == 2)
    }

    @Test func answerIsNeverReusedPastExp() throws {
        let h = try IntrospectionHarness("cache_ttl = 600")
        h.fetcher.answer("{\"active\":true,\"exp\":\(Int(IntrospectionClocks.wallStart) + 5)}")
        #expect(h.decide("tok")?.allow == true)
        h.clocks.advance(6)
        // Had the answer been reused, the claim check would still refuse it; it is asked again.
        h.fetcher.answer("{\"active\":false}")
        #expect(h.decide("tok")?.reason == .tokenInactive)
        #expect(h.fetcher.requests.count == 2)
    }

    @Test func concurrentChecksOfOneTokenShareOneCall() throws {
        let h = try IntrospectionHarness()
        h.fetcher.answer(Self.active())
        h.fetcher.hold()
        var flights: [any PendingResource] = []
        for _ in 0..<5 {
            guard case .pending(let p) = h.evaluate("tok") else {
                Issue.record("expected a wait")
                return
            }
            flights.append(p)
        }
        #expect(h.fetcher.requests.count == 1)
        #expect(flights.allSatisfy { ($0 as AnyObject) === (flights[0] as AnyObject) })
        // Another token gets its own call.
        guard case .pending = h.evaluate("other") else {
            Issue.record("expected a wait")
            return
        }
        #expect(h.fetcher.requests.count == 2)
        h.fetcher.release()
        for _ in 0..<5 { #expect(h.decide("tok")?.allow == true) }
        #expect(h.fetcher.requests.count == 2)
        #expect(h.cache.counts.flights == 0)
    }

    @Test func inactiveAnswerDeniesAndIsKeptOnlyBriefly() throws {
        let h = try IntrospectionHarness("cache_ttl = 60")
        h.fetcher.answer("{\"active\":false}")
        let r = try #require(h.decide("garbage"))
        #expect(!r.allow)
        #expect(r.reason == .tokenInactive)
        #expect(r.headers.first?.1.contains("error=\"invalid_token\"") == true)
        _ = h.decide("garbage")
        #expect(h.fetcher.requests.count == 1)
        h.clocks.advance(5.5)
        _ = h.decide("garbage")
        #expect(h.fetcher.requests.count == 2)
    }

    @Test(arguments: [
        (500, "{\"active\":true}"), (401, "{\"error\":\"invalid_client\"}"), (200, "[]"), (200, "not json"),
        (200, "{\"scope\":\"x\"}"), (200, "{\"active\":\"true\"}"), (302, ""),
    ])
    func unusableAnswersFailClosedWith503(status: Int, body: String) throws {
        let h = try IntrospectionHarness()
        h.fetcher.answer(body, status: status)
        let r = try #require(h.decide("tok"))
        #expect(!r.allow)
        #expect(r.reason == .introspectionUnavailable)
        #expect(r.status == 503)
    }

    // Found by FuzzIntrospectionAnswer: the first of two `active` members decided, where most
    // JSON readers keep the last, so one answer meant "active" here and "inactive" elsewhere.
    @Test(arguments: [
        "{\"active\":true,\"active\":false}", "{\"active\":false,\"active\":true}",
        "{\"active\":true,\"exp\":1,\"exp\":99999999999}", "{\"active\":true,\"ext\":{\"a\":1,\"a\":2}}",
    ])
    func answersNamingAMemberTwiceFailClosed(body: String) throws {
        let answer = IntrospectionAnswer(.success(HTTPFetchResponse(status: 200, headers: [], body: Array(body.utf8))))
        guard case .unavailable(let why) = answer else {
            Issue.record("\(body) was read as an answer")
            return
        }
        #expect(why.contains("twice"))
    }

    @Test func transportFailureFailsClosedAndIsRetriedAfterAMoment() throws {
        let h = try IntrospectionHarness()
        h.fetcher.fail("Connection refused")
        let r = try #require(h.decide("tok"))
        #expect(r.reason == .introspectionUnavailable)
        #expect(r.message?.contains("Connection refused") == true)
        h.clocks.advance(1.5)
        h.fetcher.answer(Self.active())
        #expect(h.decide("tok")?.allow == true)
        #expect(h.fetcher.requests.count == 2)
    }

    @Test func claimChecksApplyToTheAnswer() throws {
        let h = try IntrospectionHarness("issuer = \"https://idp.test\"\naudience = \"api\"\nrequired_claims = [\"username\"]")
        h.fetcher.answer(Self.active(",\"iss\":\"https://other\",\"aud\":\"api\",\"username\":\"u\""))
        #expect(h.decide("a")?.reason == .badIssuer)
        h.fetcher.answer(Self.active(",\"iss\":\"https://idp.test\",\"aud\":[\"web\"],\"username\":\"u\""))
        #expect(h.decide("b")?.reason == .badAudience)
        h.fetcher.answer(Self.active(",\"iss\":\"https://idp.test\",\"aud\":[\"web\",\"api\"]"))
        #expect(h.decide("c")?.reason == .missingClaim)
        h.fetcher.answer(Self.active(",\"iss\":\"https://idp.test\",\"aud\":[\"web\",\"api\"],\"username\":\"u\""))
        #expect(h.decide("d")?.allow == true)
    }

    @Test func noTokenAndOversizedTokensMakeNoCall() throws {
        let h = try IntrospectionHarness()
        let none = h.plugin.evaluate(CheckRequest(app: "test"), now: h.clocks.now)
        guard case .result(let r) = none else {
            Issue.record("no token must not wait")
            return
        }
        #expect(r.reason == .noToken)
        #expect(h.decide(String(repeating: "x", count: 20_000))?.reason == .malformedToken)
        #expect(h.fetcher.requests.isEmpty)
    }

    @Test func answersAreBoundedByTheCacheSize() throws {
        let h = try IntrospectionHarness(cacheSize: 3)
        h.fetcher.answer(Self.active())
        for i in 0..<10 { #expect(h.decide("tok\(i)")?.allow == true) }
        #expect(h.cache.counts.answers <= 3)
        // The newest answers are the ones kept.
        _ = h.decide("tok9")
        #expect(h.fetcher.requests.count == 10)
        _ = h.decide("tok0")
        #expect(h.fetcher.requests.count == 11)
    }

    @Test func withReuseOffEachCheckAsksOnceTheHoldHasPassed() throws {
        let h = try IntrospectionHarness(cacheSize: 0)
        h.fetcher.answer(Self.active())
        #expect(h.decide("tok")?.allow == true)
        h.clocks.advance(1.1)
        #expect(h.decide("tok")?.allow == true)
        #expect(h.fetcher.requests.count == 2)
    }

    @Test func cacheKeysAreKeyedDigestsNotTokens() throws {
        let h = try IntrospectionHarness()
        let other = try IntrospectionHarness()
        #expect(h.cache.digest("tok") == h.cache.digest("tok"))
        #expect(h.cache.digest("tok") != h.cache.digest("tok2"))
        // Each cache draws its own key, so a digest says nothing outside it.
        #expect(h.cache.digest("tok") != other.cache.digest("tok"))
    }
}
