import AuthzCore
import Testing

/// The remote-source rules as a pure state machine: events in, actions out, time given with
/// each event; no clock, thread or fetcher.
struct RemoteSourceMachineTests {
    typealias Machine = RemoteSourceMachine<String>

    static let policy = RemoteSourcePolicy(cacheTTL: 300, minRefetchInterval: 10, maxStale: 1000, fetchTimeout: 5)

    func document(_ text: String, fresh: Double = 300) -> Machine.Outcome {
        .document(text, content: Array(text.utf8), freshFor: fresh)
    }

    /// The fetch a list of actions starts, if any.
    func started(_ actions: [RemoteSourceAction]) -> SourceFetchID? {
        for case .startFetch(let id) in actions { return id }
        return nil
    }

    func timers(_ actions: [RemoteSourceAction]) -> [(SourceTimerID, Double)] {
        actions.compactMap { if case .scheduleTimer(let id, let at) = $0 { (id, at) } else { nil } }
    }

    @Test func startFetchesOnceAndSetsTheWaitLimit() throws {
        var m = Machine(policy: Self.policy, canFetch: true)
        let actions = m.start(now: 100)
        let id = try #require(started(actions))
        #expect(timers(actions).map(\.1) == [105.5])
        #expect(m.start(now: 101).isEmpty)
        #expect(m.inFlight?.id == id)
        #expect(m.fetchCount == 1)
    }

    @Test func waitersShareTheOneFetchAndAreWokenWhenItEnds() throws {
        var m = Machine(policy: Self.policy, canFetch: true)
        let (first, actions) = m.lookup(now: 0)
        let id = try #require(started(actions))
        guard case .wait(let waited) = first, waited == id else {
            Issue.record("the first lookup did not wait on the fetch it started")
            return
        }
        for t in 1...50 {
            let (l, more) = m.lookup(now: Double(t) / 100)
            guard case .wait(let w) = l, w == id, more.isEmpty else {
                Issue.record("a later lookup did not join the fetch")
                return
            }
        }
        let done = m.fetchFinished(id, document("v1"), now: 1)
        #expect(done.first == .completeWaiters(id))
        // Refreshed at 80% of its freshness.
        #expect(timers(done).map(\.1) == [1 + 240])
        guard case .ready(let doc) = m.lookup(now: 2).0 else {
            Issue.record("no document after a good fetch")
            return
        }
        #expect(doc.document == "v1")
        #expect(m.fetchCount == 1)
    }

    @Test func theWaitLimitReleasesWaitersAndLaterRequestsDoNotWait() throws {
        var m = Machine(policy: Self.policy, canFetch: true)
        let actions = m.start(now: 0)
        let id = try #require(started(actions))
        let (deadline, at) = try #require(timers(actions).first)
        #expect(at == 5.5)
        #expect(m.timerFired(deadline, now: 5.5) == [.completeWaiters(id)])
        #expect(m.inFlight?.pastWaitLimit == true)
        guard case .unavailable(.timedOut) = m.lookup(now: 6).0 else {
            Issue.record("a request waited on a fetch past its wait limit")
            return
        }
        #expect(m.refetch(now: 6).0 == nil)
        // Firing again (a late duplicate) does nothing; the late answer still installs.
        #expect(m.timerFired(deadline, now: 7).isEmpty)
        _ = m.fetchFinished(id, document("late"), now: 8)
        guard case .ready(let doc) = m.lookup(now: 9).0 else {
            Issue.record("a late answer was dropped")
            return
        }
        #expect(doc.document == "late")
    }

    @Test func requestMadeFetchesRespectMinRefetchIntervalFromTheEndOfTheLast() throws {
        var m = Machine(policy: Self.policy, canFetch: true)
        let id = try #require(started(m.start(now: 0)))
        _ = m.fetchFinished(id, .failure("refused"), now: 3)
        // 10 s from the end (3), not the start (0).
        guard case .unavailable(.neverFetched(let why)) = m.lookup(now: 12.9).0 else {
            Issue.record("a fetch started within min_refetch_interval")
            return
        }
        #expect(why == "refused")
        #expect(m.refetch(now: 12.9).0 == nil)
        let (again, actions) = m.refetch(now: 13)
        #expect(again != nil)
        #expect(started(actions) == again)
        #expect(m.fetchCount == 2)
    }

    @Test func failuresBackOffDoublingUpToTheCapAndSuccessResetsIt() throws {
        var m = Machine(policy: Self.policy, canFetch: true)
        var now = 0.0
        var id = try #require(started(m.start(now: now)))
        var delays: [Double] = []
        for _ in 0..<8 {
            let actions = m.fetchFinished(id, .failure("HTTP status 500"), now: now)
            let (timer, at) = try #require(timers(actions).first)
            delays.append(at - now)
            now = at
            id = try #require(started(m.timerFired(timer, now: now)))
        }
        #expect(delays == [10, 20, 40, 80, 160, 300, 300, 300])
        #expect(m.failureCount == 8)
        let ok = m.fetchFinished(id, document("v1", fresh: 100), now: now)
        #expect(timers(ok).map { $0.1 - now } == [80])
        #expect(m.consecutiveFailures == 0)
        #expect(m.lastResult == "ok")
    }

    @Test func aFailureKeepsTheLastGoodDocumentUntilMaxStale() throws {
        var m = Machine(policy: RemoteSourcePolicy(cacheTTL: 60, minRefetchInterval: 10, maxStale: 100, fetchTimeout: 5),
                        canFetch: true)
        let first = try #require(started(m.start(now: 0)))
        _ = m.fetchFinished(first, document("good", fresh: 60), now: 0)
        let (stale, actions) = m.lookup(now: 70)
        guard case .ready(let doc) = stale, doc.document == "good" else {
            Issue.record("a stale document did not serve")
            return
        }
        let refresh = try #require(started(actions))
        _ = m.fetchFinished(refresh, .failure("garbage"), now: 71)
        #expect(m.current?.document == "good")
        #expect(m.lastResult == "garbage")
        let (last, lastActions) = m.lookup(now: 159.9)
        guard case .ready = last else {
            Issue.record("the last good document stopped serving before max_stale")
            return
        }
        // That stale request started a refresh, which fails as well.
        let lastRefresh = try #require(started(lastActions))
        _ = m.fetchFinished(lastRefresh, .failure("garbage"), now: 159.95)
        guard case .unavailable(.expired(let why)) = m.lookup(now: 160).0 else {
            Issue.record("a document past max_stale served")
            return
        }
        #expect(why == "garbage")
    }

    @Test func theGenerationChangesOnlyWhenTheContentDoes() throws {
        var m = Machine(policy: Self.policy, canFetch: true)
        let a = try #require(started(m.start(now: 0)))
        _ = m.fetchFinished(a, document("v1"), now: 0)
        let g1 = try #require(m.current?.generation)
        let b = try #require(m.refetch(now: 20).0)
        _ = m.fetchFinished(b, document("v1"), now: 21)
        #expect(m.current?.generation == g1)
        #expect(m.current?.fetchedAt == 21)
        let c = try #require(m.refetch(now: 40).0)
        _ = m.fetchFinished(c, document("v2"), now: 41)
        #expect(m.current?.generation != g1)
    }

    @Test func onlyTheLatestRefreshTimerStartsAFetch() throws {
        var m = Machine(policy: Self.policy, canFetch: true)
        let a = try #require(started(m.start(now: 0)))
        let (old, _) = try #require(timers(m.fetchFinished(a, document("v1"), now: 0)).first)
        let b = try #require(m.refetch(now: 20).0)
        let (new, _) = try #require(timers(m.fetchFinished(b, document("v1"), now: 20)).first)
        #expect(m.timerFired(old, now: 240).isEmpty)
        #expect(started(m.timerFired(new, now: 260)) != nil)
    }

    @Test func refreshNowSkipsTheRateLimitButNeverRunsTwoFetches() throws {
        var m = Machine(policy: Self.policy, canFetch: true)
        let a = try #require(started(m.start(now: 0)))
        #expect(m.refreshNow(now: 0.1).isEmpty)
        _ = m.fetchFinished(a, document("v1"), now: 1)
        #expect(started(m.refreshNow(now: 1.5)) != nil)
    }

    @Test func afterShutdownNothingStartsButWaitersAreStillReleased() throws {
        var m = Machine(policy: Self.policy, canFetch: true)
        let actions = m.start(now: 0)
        let id = try #require(started(actions))
        let (deadline, _) = try #require(timers(actions).first)
        m.shutdown()
        #expect(m.timerFired(deadline, now: 5.5) == [.completeWaiters(id)])
        #expect(m.fetchFinished(id, .failure("x"), now: 6) == [.completeWaiters(id)])
        #expect(m.refreshNow(now: 100).isEmpty)
        #expect(m.refetch(now: 100).0 == nil)
    }

    @Test func withoutAFetcherNothingIsFetchedAndLookupsSaySo() {
        var m = Machine(policy: Self.policy, canFetch: false)
        #expect(m.start(now: 0).isEmpty)
        guard case .unavailable(.neverFetched(nil)) = m.lookup(now: 0).0 else {
            Issue.record("a source without fetcher waited or served")
            return
        }
        #expect(m.lastResult == "never fetched")
    }

    @Test func freshnessIsCacheTTLOrASmallerMaxAgeNeverBelowTheFloor() {
        let p = RemoteSourcePolicy(cacheTTL: 300, minRefetchInterval: 10, maxStale: 0, fetchTimeout: 5)
        #expect(p.freshness(cacheControl: nil) == 300)
        #expect(p.freshness(cacheControl: "max-age=600") == 300)
        #expect(p.freshness(cacheControl: " public,\tmax-age=\"120\" , must-revalidate") == 120)
        #expect(p.freshness(cacheControl: "max-age=5") == 30)
        #expect(p.freshness(cacheControl: "no-cache") == 30)
        #expect(p.freshness(cacheControl: "max-age=-3") == 300)
        let short = RemoteSourcePolicy(cacheTTL: 10, minRefetchInterval: 10, maxStale: 0, fetchTimeout: 5)
        #expect(short.freshness(cacheControl: "max-age=1") == 10)
    }
}
