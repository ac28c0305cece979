import AuthzCore
import AuthzJSON
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Synchronization

/// One step's introspection answers and the calls in flight, keyed by token digest.
///
/// Bounded everywhere: at most `capacity` answers (the oldest go first), at most
/// `maxFlights` distinct tokens being asked about at once, at most `maxWaitersPerFlight`
/// checks waiting on one call. An active answer is reused for `cache_ttl` seconds but never past
/// the token's `exp`; an inactive one for `min(cache_ttl, 5)` seconds; a failed call for one
/// second, so the checks that waited on it see its outcome and a failing server is not hammered.
/// With a capacity of 0 (`token_cache_size = 0`) nothing is reused beyond that second.
///
/// Every check of a token that arrives while a call about it is in flight waits on that call
/// (the shared `SingleFlight`), so a burst of requests with one new token costs one call. A
/// flight completes when its call ends or when its deadline passes, whichever comes first, so a
/// waiter is answered within the fetch timeout even when the fetch threads are busy elsewhere.
///
/// Every call's outcome is also recorded in the step's `IntrospectionEndpoint`, which `stats`
/// reports and which logs an outage once.
final class IntrospectionCache: Sendable {
    /// What a check gets: an answer with the seconds it stays valid, or a call to wait on.
    enum Lookup {
        case answer(IntrospectionAnswer, remaining: Double)
        case wait(Flight<Void>)
    }

    private struct Entry {
        let answer: IntrospectionAnswer
        /// Monotonic clock reading when the answer stops being reused.
        let until: Double
        let sequence: UInt64
    }

    private struct State {
        var answers: [TokenDigest: Entry] = [:]
        /// Insertion order, for eviction; a slot whose sequence no longer matches is stale.
        var order: [(TokenDigest, UInt64)] = []
        var head = 0
        var nextSequence: UInt64 = 0
        /// Checks waiting on each call in flight (the keys of `flights`, so bounded by it).
        var waiters: [TokenDigest: Int] = [:]
    }

    static let maxFlights = 256
    static let maxWaitersPerFlight = 4096
    /// How long a failed call's outcome, or any answer when reuse is off, is kept for its waiters.
    static let holdSeconds = 1.0
    /// Answers kept when reuse is off (only for the waiters of a call, for `holdSeconds`).
    static let holdCapacity = 1024

    let settings: IntrospectionSettings
    let capacity: Int
    private let reuses: Bool
    private let fetcher: (any HTTPFetcher)?
    /// Where each call's outcome is recorded (shared with other steps asking the same endpoint).
    let endpoint: IntrospectionEndpoint
    private let flights = SingleFlight<TokenDigest, Void>(capacity: IntrospectionCache.maxFlights)
    private let monotonic: @Sendable () -> Double
    private let wall: @Sendable () -> Double
    private let keyed = TokenDigest.Keyed()
    private let state = Mutex(State())
    private static let timers = DispatchQueue(label: "authzd.introspection.timers")

    /// `capacity` answers at most (0: reuse nothing). Without a fetcher (check-config) every
    /// call fails. Outcomes go to `endpoint` (by default one of the step's own). The clocks give
    /// seconds: `monotonic` for lifetimes, `wall` to compare with `exp`.
    init(settings: IntrospectionSettings, capacity: Int, fetcher: (any HTTPFetcher)?, logger: Logger,
         endpoint: IntrospectionEndpoint? = nil,
         monotonic: @escaping @Sendable () -> Double = IntrospectionCache.uptime,
         wall: @escaping @Sendable () -> Double = IntrospectionCache.epochSeconds) {
        self.settings = settings
        self.reuses = capacity > 0
        self.capacity = capacity > 0 ? capacity : Self.holdCapacity
        self.fetcher = fetcher
        self.endpoint = endpoint ?? IntrospectionEndpoint(settings: settings, logger: logger)
        self.monotonic = monotonic
        self.wall = wall
    }

    static let uptime: @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    static let epochSeconds: @Sendable () -> Double = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func digest(_ token: String) -> TokenDigest { keyed.digest(token) }

    /// The answer for a token if one may be reused; else the call in flight for it, joined, or a
    /// new one started. The token itself is used only to build a new call's body.
    func lookup(_ digest: TokenDigest, token: String) -> Lookup {
        let now = monotonic()
        var started: Flight<Void>?
        // Lock order: this state, then the flights' table (finish never holds both).
        let result: Lookup = state.withLock { s in
            if let e = s.answers[digest], now < e.until {
                return .answer(e.answer, remaining: e.until - now)
            }
            switch flights.join(digest) {
            case .joined(let f):
                // A flight still in the table yet done was released by its deadline while the
                // call runs on; it is not waited on again: the retry would loop.
                guard !f.isDone else {
                    return .answer(.unavailable("introspection call did not finish within fetch_timeout"), remaining: 0)
                }
                guard s.waiters[digest, default: 0] < Self.maxWaitersPerFlight else {
                    return .answer(.unavailable("too many checks waiting on one introspection call"), remaining: 0)
                }
                s.waiters[digest, default: 0] += 1
                return .wait(f)
            case .full:
                return .answer(.unavailable("too many introspection calls in flight"), remaining: 0)
            case .started(let f):
                s.waiters[digest] = 1
                started = f
                return .wait(f)
            }
        }
        if let started { launch(started, digest: digest, token: token) }
        return result
    }

    /// Answers held and calls in flight, for tests.
    var counts: (answers: Int, flights: Int) {
        (state.withLock { $0.answers.count }, flights.count)
    }

    // MARK: - Calling the server

    private func launch(_ flight: Flight<Void>, digest: TokenDigest, token: String) {
        guard let fetcher else {
            finish(digest, .failure(HTTPFetchError("fetching is not available")))
            return
        }
        Self.timers.asyncAfter(deadline: .now() + Double(settings.fetchTimeout) + 0.5) { flight.complete() }
        fetcher.fetch(IntrospectionCall.request(token: token, settings: settings)) { [weak self] result in
            guard let self else {
                flight.complete()
                return
            }
            self.finish(digest, result)
        }
    }

    private func finish(_ digest: TokenDigest, _ result: Result<HTTPFetchResponse, HTTPFetchError>) {
        let answer = IntrospectionAnswer(result)
        let now = monotonic()
        var lifetime: Double
        switch answer {
        case .active(let claims):
            lifetime = Double(settings.cacheTTL)
            if let exp = claims["exp"]?.numberValue?.double { lifetime = min(lifetime, exp - wall()) }
        case .inactive:
            lifetime = settings.inactiveTTL
        case .unavailable:
            lifetime = Self.holdSeconds
        }
        if !reuses { lifetime = min(lifetime, Self.holdSeconds) }
        // Even an answer that may not be reused is held a moment for the checks that waited on
        // it; they re-run right after completion and must not start another call. An expired
        // token's answer, held this way, is still refused by the claim checks.
        lifetime = max(lifetime, 0.25)
        // The answer is in place before the flight leaves the table, so a check arriving in
        // between finds one or the other, never neither (which would start a second call).
        state.withLock { s in
            s.waiters.removeValue(forKey: digest)
            insert(&s, digest, Entry(answer: answer, until: now + lifetime, sequence: 0))
        }
        endpoint.record(answer)
        flights.finish(digest, with: ())
    }

    private func insert(_ s: inout State, _ digest: TokenDigest, _ entry: Entry) {
        s.nextSequence &+= 1
        let seq = s.nextSequence
        s.answers[digest] = Entry(answer: entry.answer, until: entry.until, sequence: seq)
        if s.order.count < capacity {
            s.order.append((digest, seq))
            return
        }
        // Full: the oldest slot gives way (its answer too, unless it was replaced since).
        let (old, oldSeq) = s.order[s.head]
        if old != digest, s.answers[old]?.sequence == oldSeq { s.answers.removeValue(forKey: old) }
        s.order[s.head] = (digest, seq)
        s.head = (s.head + 1) % capacity
    }
}
