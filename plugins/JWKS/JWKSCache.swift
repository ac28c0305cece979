import AuthzCore
import AuthzJSON
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JOSE
import Logging
import Synchronization

/// The keys of one JWKS endpoint, shared by every app that names it and kept across reloads.
///
/// The request path reads an immutable snapshot under a short lock and verifies after releasing
/// it. Fetches run on the fetcher's threads; one fetch at a time, which any number of requests
/// may wait on. The set is refreshed in the background before it goes stale; an unknown kid
/// triggers a refetch at most once per `min_refetch_interval`; while fetches fail the last good
/// set keeps serving for up to `max_stale`; a response that is not a usable set never replaces it.
public final class JWKSCache: StatsReporting {
    /// What the request path gets: keys, a fetch to wait for, or why there are none.
    enum Lookup {
        case ready(KeySnapshot)
        case wait(FetchAttempt)
        case unavailable(String)
    }

    private struct State {
        var snapshot: KeySnapshot?
        var inFlight: FetchAttempt?
        /// When the last attempt ended: the rate limit counts from there, so the retry of a
        /// request that waited on a slow, failing fetch does not start another one.
        var lastAttemptEnd: Double?
        var lastAttemptStart: Double?
        var lastResult = "never fetched"
        var lastError: String?
        var fetchCount = 0
        var failureCount = 0
        var consecutiveFailures = 0
        var nextGeneration: UInt64 = 1
        /// Identifies the one scheduled refresh that may still run; bumping it cancels the others.
        var refreshToken: UInt64 = 0
        var isShutDown = false
    }

    public let settings: JWKSSourceSettings
    private let fetcher: (any HTTPFetcher)?
    private let clock: @Sendable () -> Double
    private let logger: Logger
    private let refreshesInBackground: Bool
    private let state = Mutex(State())
    private let timers = DispatchQueue(label: "authzd.jwks.timers")

    /// A cache for `settings.url`. Without a fetcher (check-config) it never fetches.
    /// `clock` gives seconds since the epoch; `refreshesInBackground: false` leaves refreshes to
    /// requests (tests with a fake clock).
    public init(settings: JWKSSourceSettings, fetcher: (any HTTPFetcher)?, logger: Logger,
                clock: @escaping @Sendable () -> Double = wallClock, refreshesInBackground: Bool = true) {
        self.settings = settings
        self.fetcher = fetcher
        self.logger = logger
        self.clock = clock
        self.refreshesInBackground = refreshesInBackground
    }

    /// Seconds since the epoch.
    public static let wallClock: @Sendable () -> Double = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Starts the first fetch unless one has run or is running (the factory calls this for every
    /// step that names the source; only the first call does anything).
    public func startIfIdle() {
        let attempt: FetchAttempt? = state.withLock { s in
            guard fetcher != nil, !s.isShutDown, s.inFlight == nil, s.lastAttemptStart == nil else { return nil }
            return begin(&s, now: clock())
        }
        if let attempt { launch(attempt) }
    }

    /// Stops the refresh timer; a fetch in flight completes but schedules nothing.
    public func shutdown() {
        state.withLock { s in
            s.isShutDown = true
            s.refreshToken &+= 1
        }
    }

    /// What `stats` reports, read under one lock.
    struct StatsView {
        let snapshot: KeySnapshot?
        let fetchCount: Int
        let failureCount: Int
        let lastAttemptStart: Double?
        /// When the last fetch ended; `min_refetch_interval` counts from here.
        let lastAttemptEnd: Double?
        let lastResult: String
        let fetching: Bool
    }

    func statsSnapshot() -> StatsView {
        state.withLock { s in
            StatsView(snapshot: s.snapshot, fetchCount: s.fetchCount, failureCount: s.failureCount,
                      lastAttemptStart: s.lastAttemptStart, lastAttemptEnd: s.lastAttemptEnd, lastResult: s.lastResult,
                      fetching: s.inFlight != nil)
        }
    }

    func clockReading() -> Double { clock() }

    /// The fetch in flight, if any.
    func currentAttempt() -> FetchAttempt? {
        state.withLock { $0.inFlight }
    }

    // MARK: - The request path

    /// The current keys if they may serve; otherwise a fetch to wait on (one that is running,
    /// or a new one if the rate limit allows), or why there are no keys.
    /// The key set while it is fresh, without starting a fetch (the verified-token fast path;
    /// a stale set goes through `lookup`, which starts its refresh).
    func freshSnapshot() -> KeySnapshot? {
        let now = clock()
        return state.withLock { s in
            guard let snap = s.snapshot, now < snap.freshUntil else { return nil }
            return snap
        }
    }

    func lookup() -> Lookup {
        let now = clock()
        var started: FetchAttempt?
        let result: Lookup = state.withLock { s in
            if let snap = s.snapshot, now < snap.staleUntil {
                // Stale but servable: answer now, refresh behind the request.
                if now >= snap.freshUntil, canStart(s, now: now) { started = begin(&s, now: now) }
                return .ready(snap)
            }
            if let a = s.inFlight {
                // An attempt already woken by its deadline timer (monotonic) must not be waited on
                // again even if the wall clock says it is early (a clock stepped back): that would
                // resume and re-wait in a loop.
                return now < a.deadline && !a.isDone ? .wait(a) : .unavailable("key set fetch did not finish within fetch_timeout")
            }
            if canStart(s, now: now) {
                let a = begin(&s, now: now)
                started = a
                return .wait(a)
            }
            if let snap = s.snapshot, now >= snap.staleUntil {
                return .unavailable("last key set is older than max_stale and fetching fails: \(s.lastError ?? "no fetch since")")
            }
            return .unavailable(s.lastError.map { "no key set: \($0)" } ?? "no key set fetched yet")
        }
        if let started { launch(started) }
        return result
    }

    /// A token names a kid the set lacks: a fetch to wait on (running, or started now if the
    /// rate limit allows), or nil when the answer must be `unknown_kid` now.
    func refetchForUnknownKid() -> FetchAttempt? {
        let now = clock()
        var started: FetchAttempt?
        let wait: FetchAttempt? = state.withLock { s in
            if let a = s.inFlight { return now < a.deadline ? a : nil }
            guard canStart(s, now: now) else { return nil }
            let a = begin(&s, now: now)
            started = a
            return a
        }
        if let started { launch(started) }
        return wait
    }

    private func canStart(_ s: State, now: Double) -> Bool {
        guard fetcher != nil, !s.isShutDown, s.inFlight == nil else { return false }
        guard let last = s.lastAttemptEnd else { return true }
        return now - last >= Double(settings.minRefetchInterval)
    }

    // MARK: - Fetching

    private func begin(_ s: inout State, now: Double) -> FetchAttempt {
        // The slack lets the fetcher's own timeout, with its better message, usually win.
        let a = FetchAttempt(deadline: now + Double(settings.fetchTimeout) + 0.5)
        s.inFlight = a
        s.lastAttemptStart = now
        s.fetchCount += 1
        return a
    }

    private func launch(_ attempt: FetchAttempt) {
        guard let fetcher else {
            finish(attempt, .failure(HTTPFetchError("fetching is not available")))
            return
        }
        timers.asyncAfter(deadline: .now() + Double(settings.fetchTimeout) + 0.5) { attempt.complete() }
        let request = HTTPFetchRequest(url: settings.url, timeoutSeconds: Double(settings.fetchTimeout),
                                       caFile: settings.caFile.isEmpty ? nil : settings.caFile,
                                       headers: [("Accept", "application/jwk-set+json, application/json")])
        fetcher.fetch(request) { [weak self] result in
            guard let self else {
                attempt.complete()
                return
            }
            self.finish(attempt, result)
        }
    }

    /// A usable set from a response, or why it is not one.
    private func parse(_ result: Result<HTTPFetchResponse, HTTPFetchError>, current: KeySnapshot?) -> Result<(JWKSet, [UInt8], String?), HTTPFetchError> {
        let response: HTTPFetchResponse
        switch result {
        case .failure(let e): return .failure(e)
        case .success(let r): response = r
        }
        guard (200..<300).contains(response.status) else {
            return .failure(HTTPFetchError("HTTP status \(response.status)"))
        }
        let cacheControl = response.header("cache-control")
        if let current, current.body == response.body {
            return .success((current.keys, response.body, cacheControl))
        }
        let set: JWKSet
        do {
            set = try JWKSet.parse(response.body)
        } catch {
            return .failure(HTTPFetchError(error.message))
        }
        guard !set.keys.isEmpty else {
            let why = set.skipped.isEmpty ? "it is empty" : set.skipped.joined(separator: "; ")
            return .failure(HTTPFetchError("key set has no usable key: \(why)"))
        }
        return .success((set, response.body, cacheControl))
    }

    private func finish(_ attempt: FetchAttempt, _ result: Result<HTTPFetchResponse, HTTPFetchError>) {
        let current = state.withLock { $0.snapshot }
        let parsed = parse(result, current: current)
        let now = clock()
        var delay: Double?
        var changed = false
        var outcome = ""
        state.withLock { s in
            if s.inFlight === attempt { s.inFlight = nil }
            s.lastAttemptEnd = now
            switch parsed {
            case .success(let (set, body, cacheControl)):
                let fresh = settings.freshness(cacheControl: cacheControl)
                let same = s.snapshot.map { $0.body == body } ?? false
                let generation: UInt64
                if same, let old = s.snapshot {
                    generation = old.generation
                } else {
                    generation = s.nextGeneration
                    s.nextGeneration += 1
                    changed = true
                }
                s.snapshot = KeySnapshot(keys: set, generation: generation, body: body, fetchedAt: now,
                                         freshUntil: now + fresh, staleUntil: now + fresh + Double(settings.maxStale))
                s.lastResult = "ok"
                s.lastError = nil
                s.consecutiveFailures = 0
                // Refresh at 80% of freshness, so requests never see the set go stale.
                delay = fresh * 0.8
            case .failure(let e):
                s.lastResult = e.message
                s.lastError = e.message
                s.failureCount += 1
                s.consecutiveFailures += 1
                let backoff = Double(max(1, settings.minRefetchInterval)) * Double(1 << min(s.consecutiveFailures - 1, 10))
                delay = min(backoff, 300)
                outcome = e.message
            }
            if s.isShutDown || !refreshesInBackground || fetcher == nil { delay = nil }
        }
        attempt.complete()
        switch parsed {
        case .success(let (set, _, _)):
            if changed {
                logger.info("JWKS key set loaded", metadata: ["url": "\(settings.url)", "keys": "\(set.keys.count)"])
                for skip in set.skipped {
                    logger.warning("JWKS key skipped", metadata: ["url": "\(settings.url)", "key": "\(skip)"])
                }
            }
        case .failure:
            logger.warning("JWKS fetch failed", metadata: ["url": "\(settings.url)", "error": "\(outcome)"])
        }
        if let delay { scheduleRefresh(after: delay) }
    }

    private func scheduleRefresh(after delay: Double) {
        let token: UInt64? = state.withLock { s in
            guard !s.isShutDown else { return nil }
            s.refreshToken &+= 1
            return s.refreshToken
        }
        guard let token else { return }
        timers.asyncAfter(deadline: .now() + delay) { [weak self] in self?.refreshFired(token) }
    }

    private func refreshFired(_ token: UInt64) {
        let attempt: FetchAttempt? = state.withLock { s in
            // A fetch already running (an unknown kid's) schedules the next refresh itself.
            guard s.refreshToken == token, !s.isShutDown, s.inFlight == nil else { return nil }
            return begin(&s, now: clock())
        }
        if let attempt { launch(attempt) }
    }
}
