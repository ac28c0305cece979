import AuthzCore
import AuthzJSON
import JOSE
@testable import JWKSPlugin
import Synchronization
import Testing

/// The key cache's fetch, refresh, rate-limit and outage rules, on a manual clock.
struct JWKSCacheTests {
    let k1 = JWKSTestKey(kid: "k1", alg: .rs256, JWKSTestKey.rsa)
    let k2 = JWKSTestKey(kid: "k2", alg: .rs256, JWKSTestKey.rsaOther)

    @Test func requestsWaitForTheFirstFetchAndShareIt() {
        let h = JWKSHarness()
        h.fetcher.serve(keys: [k1.jwk()])
        h.fetcher.hold()
        let woken = Mutex(0)
        var pending: [any PendingResource] = []
        for _ in 0..<10 {
            guard case .pending(let p) = h.plugin.evaluate(h.request(k1.token()), now: JWKSTestKey.now) else {
                Issue.record("a request decided before any key set was fetched")
                return
            }
            pending.append(p)
        }
        #expect(h.fetcher.fetchCount == 1)
        for p in pending { p.whenReady { woken.withLock { $0 += 1 } } }
        #expect(woken.withLock { $0 } == 0)
        h.fetcher.release()
        #expect(woken.withLock { $0 } == 10)
        #expect(h.evaluate(k1.token())?.allow == true)
        #expect(h.fetcher.fetchCount == 1)
    }

    @Test func withNoSetEverFetchedTheAnswerIsJwksUnavailable503() {
        let h = JWKSHarness()
        h.fetcher.fail("Connection refused")
        let r = h.evaluate(k1.token())
        #expect(r?.reason == .jwksUnavailable)
        #expect(r?.status == 503)
        #expect(r?.message?.contains("Connection refused") == true)
        // Within min_refetch_interval, no new fetch: the answer is immediate.
        #expect(h.evaluate(k1.token())?.reason == .jwksUnavailable)
        #expect(h.fetcher.fetchCount == 1)
        h.clock.advance(10)
        h.fetcher.serve(keys: [k1.jwk()])
        #expect(h.evaluate(k1.token())?.allow == true)
        #expect(h.fetcher.fetchCount == 2)
    }

    @Test func aFetchPastItsDeadlineStopsHoldingRequests() async {
        let h = JWKSHarness("url = \"https://idp.test/jwks.json\"\nfetch_timeout = 1")
        h.fetcher.hold()
        guard case .pending(let p) = h.plugin.evaluate(h.request(k1.token()), now: JWKSTestKey.now) else {
            Issue.record("expected a wait")
            return
        }
        h.clock.advance(2)
        // The deadline timer wakes the waiter although the fetch never answers.
        await withCheckedContinuation { c in p.whenReady { c.resume() } }
        let r = h.evaluate(k1.token())
        #expect(r?.reason == .jwksUnavailable)
        #expect(h.fetcher.fetchCount == 1)
        h.fetcher.release()
    }

    @Test func anUnknownKidRefetchesAtMostOncePerMinRefetchInterval() {
        let h = JWKSHarness()
        h.fetcher.serve(keys: [k1.jwk()])
        #expect(h.evaluate(k1.token())?.allow == true)
        #expect(h.fetcher.fetchCount == 1)
        // Right after a fetch, an unknown kid does not fetch again.
        #expect(h.evaluate(k1.token(kid: "early"))?.reason == .unknownKid)
        #expect(h.fetcher.fetchCount == 1)
        h.clock.advance(10)
        for i in 0..<100 {
            #expect(h.evaluate(k1.token(kid: "random-\(i)"))?.reason == .unknownKid)
        }
        #expect(h.fetcher.fetchCount == 2)
        h.clock.advance(10)
        #expect(h.evaluate(k1.token(kid: "random-x"))?.reason == .unknownKid)
        #expect(h.fetcher.fetchCount == 3)
    }

    @Test func aRotatedInKeyIsFetchedOnFirstSightAndOldTokensDieWithTheOldSet() {
        let h = JWKSHarness()
        h.fetcher.serve(keys: [k1.jwk()])
        let old = k1.token()
        #expect(h.evaluate(old)?.allow == true)
        let before = h.cache.stats["generation"]
        h.fetcher.serve(keys: [k2.jwk()])
        h.clock.advance(10)
        #expect(h.evaluate(k2.token())?.allow == true)
        #expect(h.cache.stats["generation"] != before)
        // k1's token was in the verified-token cache, under the old generation.
        #expect(h.evaluate(old)?.reason == .unknownKid)
    }

    @Test func aResponseThatIsNotAUsableSetNeverReplacesTheLastGoodOne() {
        for bad in ["<html>oops", #"{"keys": "no"}"#, #"{"keys": []}"#, #"{"keys": [{"kty": "oct", "k": "AAAA"}]}"#] {
            let h = JWKSHarness()
            h.fetcher.serve(keys: [k1.jwk()])
            #expect(h.evaluate(k1.token())?.allow == true)
            h.fetcher.serve(Array(bad.utf8))
            h.clock.advance(10)
            // The unknown kid forces a fetch, which brings back the bad document.
            #expect(h.evaluate(k2.token())?.reason == .unknownKid)
            #expect(h.fetcher.fetchCount == 2)
            #expect(h.evaluate(k1.token(JWKSTestKey.validClaims(sub: "fresh")))?.allow == true)
            #expect(h.cache.stats["last_result"] != "ok")
        }
    }

    @Test func anHTTPErrorIsAFailedFetch() {
        let h = JWKSHarness()
        h.fetcher.serve(jwksDocument([k1.jwk()]), status: 500)
        let r = h.evaluate(k1.token())
        #expect(r?.reason == .jwksUnavailable)
        #expect(h.cache.stats["last_result"] == "HTTP status 500")
    }

    @Test func theLastGoodSetServesStaleUpToMaxStaleThenIsUnavailable() {
        let h = JWKSHarness("url = \"https://idp.test/jwks.json\"\ncache_ttl = 60\nmax_stale = 100")
        h.fetcher.serve(keys: [k1.jwk()])
        #expect(h.evaluate(k1.token())?.allow == true)
        h.fetcher.fail("HTTP status 500")
        h.clock.advance(61)
        // Stale: served at once while a refresh runs behind it (and fails).
        #expect(h.evaluate(k1.token(JWKSTestKey.validClaims(sub: "b")))?.allow == true)
        #expect(h.fetcher.fetchCount == 2)
        #expect(h.cache.stats["serving_stale"] == true)
        // Fetched at 0, fresh until 60, servable until 160.
        h.clock.advance(98)
        #expect(h.evaluate(k1.token(JWKSTestKey.validClaims(sub: "c")))?.allow == true)
        h.clock.advance(1)
        let r = h.evaluate(k1.token(JWKSTestKey.validClaims(sub: "d")))
        #expect(r?.reason == .jwksUnavailable)
        #expect(r?.status == 503)
    }

    @Test func aShorterCacheControlMaxAgeShortensFreshnessDownToAFloor() {
        let h = JWKSHarness()
        h.fetcher.serve(keys: [k1.jwk()], headers: [("cache-control", "public, max-age=40")])
        #expect(h.evaluate(k1.token())?.allow == true)
        h.clock.advance(39)
        _ = h.evaluate(k1.token())
        #expect(h.fetcher.fetchCount == 1)
        h.clock.advance(2)
        _ = h.evaluate(k1.token())
        #expect(h.fetcher.fetchCount == 2)

        let zero = JWKSHarness()
        zero.fetcher.serve(keys: [k1.jwk()], headers: [("cache-control", "max-age=0")])
        #expect(zero.evaluate(k1.token())?.allow == true)
        zero.clock.advance(29)
        _ = zero.evaluate(k1.token())
        #expect(zero.fetcher.fetchCount == 1)
    }

    @Test func freshnessIsCacheTTLOrASmallerMaxAgeNeverBelowTheFloor() {
        let s = JWKSSourceSettings(url: "https://x.test/", cacheTTL: 300)
        #expect(s.freshness(cacheControl: nil) == 300)
        #expect(s.freshness(cacheControl: "max-age=600") == 300)
        #expect(s.freshness(cacheControl: "public, max-age=120, must-revalidate") == 120)
        #expect(s.freshness(cacheControl: "max-age=5") == 30)
        #expect(s.freshness(cacheControl: "no-store") == 30)
        #expect(JWKSSourceSettings(url: "https://x.test/", cacheTTL: 10).freshness(cacheControl: "max-age=1") == 10)
    }

    @Test func anUnchangedSetKeepsItsGenerationAndTheVerifiedTokens() {
        let h = JWKSHarness()
        h.fetcher.serve(keys: [k1.jwk()])
        let token = k1.token()
        #expect(h.evaluate(token)?.allow == true)
        let generation = h.cache.stats["generation"]
        h.clock.advance(10)
        #expect(h.evaluate(k2.token())?.reason == .unknownKid)
        #expect(h.fetcher.fetchCount == 2)
        #expect(h.cache.stats["generation"] == generation)
        #expect(h.plugin.tokens.claims(for: token, generation: h.cache.statsSnapshot().snapshot!.generation) != nil)
    }

    @Test func statsReportTheSourcesState() {
        let h = JWKSHarness()
        h.fetcher.serve(keys: [k1.jwk(), k2.jwk()])
        _ = h.evaluate(k1.token())
        let s = h.cache.stats
        #expect(s["url"] == "https://idp.test/jwks.json")
        #expect(s["keys"] == 2)
        #expect(s["fetches"] == 1)
        #expect(s["failures"] == 0)
        #expect(s["last_result"] == "ok")
        #expect(s["last_fetch"] == .number(JSONNumber(1_800_000_000)))
        #expect(s["serving_stale"] == false)
        #expect(h.cache.statsKey == "https://idp.test/jwks.json")
    }

    @Test func aCacheWithoutFetcherNeverFetchesAndAnswersUnavailable() {
        let table = jwksStepTable("url = \"https://idp.test/jwks.json\"")
        let resources = SharedResources()
        let plugin = try! JWKSFactory().makePlugin(config: table, context: jwksContext(fetcher: nil, resources: resources))
        guard case .result(let r) = plugin.evaluate(JWKSHarness().request(k1.token()), now: JWKSTestKey.now) else {
            Issue.record("a cache without fetcher waited")
            return
        }
        #expect(r.reason == .jwksUnavailable)
    }

    @Test func theBackgroundRefreshRunsUntilShutdown() async throws {
        // Fresh for one second (cache_ttl = 1), so refreshed about every 0.8 s on the real clock.
        let fetcher = ScriptedFetcher()
        fetcher.serve(keys: [k1.jwk()])
        let cache = JWKSCache(settings: JWKSSourceSettings(url: "https://idp.test/jwks.json", cacheTTL: 1, minRefetchInterval: 1),
                              fetcher: fetcher, logger: .init(label: "jwks-test"))
        cache.startIfIdle()
        for _ in 0..<200 where fetcher.fetchCount < 3 {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(fetcher.fetchCount >= 3)
        cache.shutdown()
        let after = fetcher.fetchCount
        try await Task.sleep(nanoseconds: 2_000_000_000)
        #expect(fetcher.fetchCount == after)
    }
}
