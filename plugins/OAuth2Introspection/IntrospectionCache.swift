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
/// (single flight), so a burst of requests with one new token costs one call.
final class IntrospectionCache: Sendable {
    /// What a check gets: an answer with the seconds it stays valid, or a call to wait on.
    enum Lookup {
        case answer(IntrospectionAnswer, remaining: Double)
        case wait(IntrospectionFlight)
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
        var flights: [TokenDigest: IntrospectionFlight] = [:]
        /// Whether the last call failed, so that an outage is logged once, not per call.
        var failing = false
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
    private let logger: Logger
    private let monotonic: @Sendable () -> Double
    private let wall: @Sendable () -> Double
    private let keyed = TokenDigest.Keyed()
    private let state = Mutex(State())
    private static let timers = DispatchQueue(label: "authzd.introspection.timers")

    /// `capacity` answers at most (0: reuse nothing). Without a fetcher (check-config) every
    /// call fails. The clocks give seconds: `monotonic` for lifetimes, `wall` to compare with `exp`.
    init(settings: IntrospectionSettings, capacity: Int, fetcher: (any HTTPFetcher)?, logger: Logger,
         monotonic: @escaping @Sendable () -> Double = IntrospectionCache.uptime,
         wall: @escaping @Sendable () -> Double = IntrospectionCache.epochSeconds) {
        self.settings = settings
        self.reuses = capacity > 0
        self.capacity = capacity > 0 ? capacity : Self.holdCapacity
        self.fetcher = fetcher
        self.logger = logger
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
        var started: IntrospectionFlight?
        let result: Lookup = state.withLock { s in
            if let e = s.answers[digest], now < e.until {
                return .answer(e.answer, remaining: e.until - now)
            }
            if let f = s.flights[digest] {
                // A flight woken by its deadline is not waited on again: the retry would loop.
                guard now < f.deadline, f.join(limit: Self.maxWaitersPerFlight) else {
                    return .answer(.unavailable("introspection call did not finish within fetch_timeout"), remaining: 0)
                }
                return .wait(f)
            }
            guard s.flights.count < Self.maxFlights else {
                return .answer(.unavailable("too many introspection calls in flight"), remaining: 0)
            }
            let f = IntrospectionFlight(deadline: now + Double(settings.fetchTimeout) + 0.5)
            _ = f.join(limit: Self.maxWaitersPerFlight)
            s.flights[digest] = f
            started = f
            return .wait(f)
        }
        if let started { launch(started, digest: digest, token: token) }
        return result
    }

    /// Answers held and calls in flight, for tests.
    var counts: (answers: Int, flights: Int) {
        state.withLock { ($0.answers.count, $0.flights.count) }
    }

    // MARK: - Calling the server

    private func launch(_ flight: IntrospectionFlight, digest: TokenDigest, token: String) {
        guard let fetcher else {
            finish(flight, digest: digest, .failure(HTTPFetchError("fetching is not available")))
            return
        }
        Self.timers.asyncAfter(deadline: .now() + Double(settings.fetchTimeout) + 0.5) { flight.complete() }
        fetcher.fetch(IntrospectionCall.request(token: token, settings: settings)) { [weak self] result in
            guard let self else {
                flight.complete()
                return
            }
            self.finish(flight, digest: digest, result)
        }
    }

    private func finish(_ flight: IntrospectionFlight, digest: TokenDigest, _ result: Result<HTTPFetchResponse, HTTPFetchError>) {
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
        let (wasFailing, isFailing): (Bool, Bool) = state.withLock { s in
            if s.flights[digest] === flight { s.flights.removeValue(forKey: digest) }
            insert(&s, digest, Entry(answer: answer, until: now + lifetime, sequence: 0))
            let before = s.failing
            if case .unavailable = answer { s.failing = true } else { s.failing = false }
            return (before, s.failing)
        }
        if isFailing && !wasFailing, case .unavailable(let why) = answer {
            logger.warning("introspection endpoint unavailable; checks that need it are denied (503)",
                           metadata: ["url": .string(settings.url), "error": .string(why)])
        } else if wasFailing && !isFailing {
            logger.info("introspection endpoint answers again", metadata: ["url": .string(settings.url)])
        }
        flight.complete()
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
