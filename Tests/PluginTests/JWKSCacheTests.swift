import AuthzCore
import AuthzJSON
import JOSE
@testable import JWKSPlugin
import Synchronization
import Testing

/// The key cache's fetch, refresh, rate-limit and outage rules, on virtual time: background
/// refreshes and retries run when the test moves the clock past them, and nothing sleeps.
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
        // The retry comes by itself after min_refetch_interval (the first backoff step).
        h.fetcher.serve(keys: [k1.jwk()])
        h.clock.advance(9)
        #expect(h.fetcher.fetchCount == 1)
        h.clock.advance(1)
        #expect(h.fetcher.fetchCount == 2)
        #expect(h.evaluate(k1.token())?.allow == true)
        #expect(h.fetcher.fetchCount == 2)
    }

    @Test func aFetchPastItsDeadlineStopsHoldingRequestsAndItsLateAnswerStillCounts() {
        let h = JWKSHarness("url = \"https://idp.test/jwks.json\"\nfetch_timeout = 1")
        h.fetcher.hold()
        guard case .pending(let p) = h.plugin.evaluate(h.request(k1.token()), now: JWKSTestKey.now) else {
            Issue.record("expected a wait")
            return
        }
        let woken = Mutex(false)
        p.whenReady { woken.withLock { $0 = true } }
        h.clock.advance(1.4)
        #expect(woken.withLock { $0 } == false)
        // At fetch_timeout + 0.5 the waiter is woken although the fetch never answered.
        h.clock.advance(0.1)
        #expect(woken.withLock { $0 } == true)
        let r = h.evaluate(k1.token())
        #expect(r?.reason == .jwksUnavailable)
        #expect(r?.message == "key set fetch did not finish within fetch_timeout")
        #expect(h.fetcher.fetchCount == 1)
        // The fetch answers late: its set is taken all the same.
        h.fetcher.serve(keys: [k1.jwk()])
        h.fetcher.release()
        #expect(h.evaluate(k1.token())?.allow == true)
        #expect(h.fetcher.fetchCount == 1)
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

    @Test func theLastGoodSetServesStaleUpToMaxStaleWhileRetriesBackOffThenIsUnavailable() {
        let h = JWKSHarness("url = \"https://idp.test/jwks.json\"\ncache_ttl = 60\nmax_stale = 100")
        h.fetcher.serve(keys: [k1.jwk()])
        #expect(h.evaluate(k1.token())?.allow == true)
        #expect(h.clock.timerInstants.last == 1_800_000_048, "the refresh is set at 80% of freshness")
        h.fetcher.fail("HTTP status 500")
        // The refresh at 48 fails; retries back off from min_refetch_interval: 58, then 78.
        h.clock.advance(61)
        #expect(h.fetcher.fetchCount == 3)
        #expect(h.cache.stats["serving_stale"] == true)
        #expect(h.cache.report.state == .stale)
        #expect(h.cache.report.lastError == "HTTP status 500")
        // Stale: served at once, and no request-made fetch within min_refetch_interval of the last.
        #expect(h.evaluate(k1.token(JWKSTestKey.validClaims(sub: "b")))?.allow == true)
        #expect(h.fetcher.fetchCount == 3)
        // Fetched at 0, fresh until 60, servable until 160; retries at 78 and 118 fail too.
        h.clock.advance(98)
        #expect(h.fetcher.fetchCount == 5)
        // A stale request more than min_refetch_interval after the last failure starts a
        // refresh of its own; it fails too, and the next retry moves to 159 + 160.
        #expect(h.evaluate(k1.token(JWKSTestKey.validClaims(sub: "c")))?.allow == true)
        #expect(h.fetcher.fetchCount == 6)
        h.clock.advance(1)
        let r = h.evaluate(k1.token(JWKSTestKey.validClaims(sub: "d")))
        #expect(r?.reason == .jwksUnavailable)
        #expect(r?.status == 503)
        #expect(r?.message?.contains("older than max_stale") == true)
        #expect(h.cache.report.state == .unavailable)
        // The provider comes back: the next retry restores the set.
        h.fetcher.serve(keys: [k1.jwk()])
        h.clock.advance(158)
        #expect(h.fetcher.fetchCount == 6)
        h.clock.advance(1)
        #expect(h.fetcher.fetchCount == 7)
        #expect(h.evaluate(k1.token(JWKSTestKey.validClaims(sub: "e")))?.allow == true)
        #expect(h.cache.report.state == .ok)
    }

    @Test func aStaleSetServesAtOnceWhileItsRefreshRuns() {
        let h = JWKSHarness("url = \"https://idp.test/jwks.json\"\ncache_ttl = 60")
        h.fetcher.serve(keys: [k1.jwk()])
        #expect(h.evaluate(k1.token())?.allow == true)
        h.fetcher.hold()
        // The refresh at 48 is held; past 60 the set is stale and still answers at once.
        h.clock.advance(61)
        #expect(h.fetcher.heldCount == 1)
        #expect(h.evaluate(k1.token(JWKSTestKey.validClaims(sub: "b")))?.allow == true)
        #expect(h.fetcher.fetchCount == 2)
        h.fetcher.serve(keys: [k1.jwk()])
        h.fetcher.release()
        #expect(h.cache.stats["serving_stale"] == false)
    }

    @Test func aShorterCacheControlMaxAgeShortensFreshnessDownToAFloor() {
        let h = JWKSHarness()
        h.fetcher.serve(keys: [k1.jwk()], headers: [("cache-control", "public, max-age=40")])
        #expect(h.evaluate(k1.token())?.allow == true)
        // Fresh for 40 s: refreshed in the background at 32.
        h.clock.advance(31)
        #expect(h.fetcher.fetchCount == 1)
        h.clock.advance(2)
        #expect(h.fetcher.fetchCount == 2)

        let zero = JWKSHarness()
        zero.fetcher.serve(keys: [k1.jwk()], headers: [("cache-control", "max-age=0")])
        #expect(zero.evaluate(k1.token())?.allow == true)
        // max-age=0 still gets the 30 s floor: the refresh comes at 24, not at once.
        zero.clock.advance(23)
        _ = zero.evaluate(k1.token())
        #expect(zero.fetcher.fetchCount == 1)
        zero.clock.advance(2)
        #expect(zero.fetcher.fetchCount == 2)
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
        #expect(h.plugin.tokens.claims(for: token, generation: h.cache.freshSnapshot()!.generation) != nil)
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
        let report = h.cache.report
        #expect(report.kind == "jwks")
        #expect(report.name == "https://idp.test/jwks.json")
        #expect(report.state == .ok)
        #expect(report.summary == "2 keys")
        #expect(report.lastError == nil)
        #expect(report.json["state"] == "ok")
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

    @Test func theBackgroundRefreshRunsUntilShutdown() {
        // Fresh for one second (cache_ttl = 1), so refreshed every 0.8 s.
        let fetcher = ScriptedFetcher()
        fetcher.serve(keys: [k1.jwk()])
        let clock = VirtualClock()
        let cache = JWKSCache(settings: JWKSSourceSettings(url: "https://idp.test/jwks.json", cacheTTL: 1, minRefetchInterval: 1),
                              fetcher: fetcher, logger: .init(label: "jwks-test"), clock: clock)
        cache.startIfIdle()
        #expect(fetcher.fetchCount == 1)
        clock.advance(0.8)
        clock.advance(0.8)
        #expect(fetcher.fetchCount == 3)
        cache.shutdown()
        clock.advance(100)
        #expect(fetcher.fetchCount == 3)
        #expect(clock.pendingTimers == 0)
    }

    @Test func aRefreshDueWhileAFetchRunsStartsNoSecondOne() {
        let h = JWKSHarness("url = \"https://idp.test/jwks.json\"\ncache_ttl = 60\nfetch_timeout = 30")
        h.fetcher.serve(keys: [k1.jwk()])
        #expect(h.evaluate(k1.token())?.allow == true)
        h.fetcher.hold()
        // An unknown kid at 40 starts a fetch that hangs past the refresh due at 48.
        h.clock.advance(40)
        guard case .pending = h.plugin.evaluate(h.request(k2.token()), now: JWKSTestKey.now) else {
            Issue.record("an unknown kid did not wait for a refetch")
            return
        }
        h.clock.advance(10)
        #expect(h.fetcher.fetchCount == 2)
        h.fetcher.serve(keys: [k1.jwk(), k2.jwk()])
        h.fetcher.release()
        #expect(h.evaluate(k2.token())?.allow == true)
        #expect(h.fetcher.fetchCount == 2)
    }
}
