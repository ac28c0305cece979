/// Names one fetch of a remote source.
public struct SourceFetchID: Hashable, Sendable {
    public let value: UInt64
    public init(_ value: UInt64) { self.value = value }
}

/// Names one timer a remote source asked for.
public struct SourceTimerID: Hashable, Sendable {
    public let value: UInt64
    public init(_ value: UInt64) { self.value = value }
}

/// What a remote source's driver must do after an event.
public enum RemoteSourceAction: Hashable, Sendable {
    /// Start this fetch and report its end with `fetchFinished`.
    case startFetch(SourceFetchID)
    /// Wake every request waiting on this fetch (it ended, or waited past `waitLimit`).
    case completeWaiters(SourceFetchID)
    /// Report `timerFired` with this id when the clock reaches `at`.
    case scheduleTimer(SourceTimerID, at: Double)
}

/// Why a source has no document to serve.
public enum RemoteSourceUnavailable: Sendable, Equatable {
    /// The fetch under way ran past `waitLimit`.
    case timedOut
    /// Nothing was ever fetched: the last error, if a fetch has failed.
    case neverFetched(lastError: String?)
    /// The last good document is older than `max_stale` and fetches fail.
    case expired(lastError: String?)
}

/// The rules of one remote document (a JWK set, a discovery document) as a pure state machine:
/// fed events with the time they happen, it answers what the requests get and which actions
/// (start a fetch, wake waiters, set a timer) the driver must take. No clock, thread or I/O
/// here, so tests drive it through any schedule of events in virtual time.
///
/// The rules: one fetch at a time, which any number of requests wait on for at most
/// `waitLimit`; a document is fresh for the freshness its fetch was given and refreshed in the
/// background at 80% of it; a stale document serves at once while a refresh runs behind it; a
/// request may start a fetch at most once per `minRefetchInterval` (counted from the end of the
/// last one); failures retry with backoff and never replace the last good document, which keeps
/// serving up to `maxStale` past its freshness.
public struct RemoteSourceMachine<Document: Sendable>: Sendable {
    /// How a fetch ended.
    public enum Outcome: Sendable {
        /// A usable document, its raw content and its freshness in seconds.
        case document(Document, content: [UInt8], freshFor: Double)
        /// Why the fetch brought no usable document.
        case failure(String)
    }

    /// What a request gets.
    public enum Lookup: Sendable {
        case ready(RemoteDocument<Document>)
        case wait(SourceFetchID)
        case unavailable(RemoteSourceUnavailable)
    }

    /// The fetch under way.
    public struct InFlight: Sendable, Equatable {
        public let id: SourceFetchID
        public let startedAt: Double
        let deadlineTimer: SourceTimerID
        /// Its waiters were released at `waitLimit`; it still runs, and new requests do not wait.
        public internal(set) var pastWaitLimit = false
    }

    public let policy: RemoteSourcePolicy
    /// False without a fetcher (check-config): nothing is ever fetched.
    public let canFetch: Bool

    public private(set) var current: RemoteDocument<Document>?
    public private(set) var inFlight: InFlight?
    public private(set) var lastAttemptStart: Double?
    /// The rate limit counts from here, so the retry of a request that waited on a slow, failing
    /// fetch does not start another one.
    public private(set) var lastAttemptEnd: Double?
    public private(set) var lastError: String?
    public private(set) var fetchCount = 0
    public private(set) var failureCount = 0
    public private(set) var consecutiveFailures = 0
    public private(set) var isShutDown = false
    /// The one refresh timer that may still start a fetch; setting another cancels it.
    public private(set) var refreshTimer: SourceTimerID?
    private var nextFetch: UInt64 = 1
    private var nextTimer: UInt64 = 1
    private var nextGeneration: UInt64 = 1

    public init(policy: RemoteSourcePolicy, canFetch: Bool) {
        self.policy = policy
        self.canFetch = canFetch
    }

    /// `ok` after a good fetch, the error after a failed one, `never fetched` before any ended.
    public var lastResult: String {
        if let lastError { return lastError }
        return lastAttemptEnd == nil ? "never fetched" : "ok"
    }

    // MARK: - Events

    /// The source is wanted: the first fetch starts unless one has run or is running.
    public mutating func start(now: Double) -> [RemoteSourceAction] {
        guard canFetch, !isShutDown, inFlight == nil, lastAttemptStart == nil else { return [] }
        return begin(now: now)
    }

    /// A request wants a document: one that may serve (a stale one starts its refresh), else a
    /// fetch to wait on (running, or started if the rate limit allows), else why there is none.
    public mutating func lookup(now: Double) -> (Lookup, [RemoteSourceAction]) {
        if let doc = current, now < doc.staleUntil {
            let actions = now >= doc.freshUntil && canStart(now: now) ? begin(now: now) : []
            return (.ready(doc), actions)
        }
        if let f = inFlight {
            return f.pastWaitLimit ? (.unavailable(.timedOut), []) : (.wait(f.id), [])
        }
        if canStart(now: now) {
            let actions = begin(now: now)
            return (.wait(inFlight!.id), actions)
        }
        if current != nil { return (.unavailable(.expired(lastError: lastError)), []) }
        return (.unavailable(.neverFetched(lastError: lastError)), [])
    }

    /// A request found the document lacking (a token's unknown kid): a fetch to wait on, running
    /// or started now if the rate limit allows, or nil when it must be answered with what there is.
    public mutating func refetch(now: Double) -> (SourceFetchID?, [RemoteSourceAction]) {
        if let f = inFlight { return (f.pastWaitLimit ? nil : f.id, []) }
        guard canStart(now: now) else { return (nil, []) }
        let actions = begin(now: now)
        return (inFlight!.id, actions)
    }

    /// Something outside says the document changed (a discovery document moved the key set):
    /// fetch now unless a fetch is running, without waiting for the rate limit.
    public mutating func refreshNow(now: Double) -> [RemoteSourceAction] {
        guard canFetch, !isShutDown, inFlight == nil else { return [] }
        return begin(now: now)
    }

    /// A fetch ended. Its waiters are woken; a usable document replaces the current one (keeping
    /// its generation when the content is unchanged); the next refresh or retry is scheduled.
    public mutating func fetchFinished(_ id: SourceFetchID, _ outcome: Outcome, now: Double) -> [RemoteSourceAction] {
        var actions: [RemoteSourceAction] = [.completeWaiters(id)]
        guard inFlight?.id == id else { return actions }
        inFlight = nil
        lastAttemptEnd = now
        let delay: Double
        switch outcome {
        case .document(let document, let content, let fresh):
            let generation: UInt64
            if let old = current, old.content == content {
                generation = old.generation
            } else {
                generation = nextGeneration
                nextGeneration += 1
            }
            current = RemoteDocument(document: document, generation: generation, content: content, fetchedAt: now,
                                     freshUntil: now + fresh, staleUntil: now + fresh + policy.maxStale)
            lastError = nil
            consecutiveFailures = 0
            delay = policy.refreshDelay(fresh: fresh)
        case .failure(let why):
            lastError = why
            failureCount += 1
            consecutiveFailures += 1
            delay = policy.backoff(afterFailures: consecutiveFailures)
        }
        guard !isShutDown else { return actions }
        let timer = newTimer()
        refreshTimer = timer
        actions.append(.scheduleTimer(timer, at: now + delay))
        return actions
    }

    /// A timer asked for earlier fired: a fetch's wait limit (its waiters are released), or the
    /// refresh (a fetch starts unless one is running, which schedules the next itself).
    public mutating func timerFired(_ id: SourceTimerID, now: Double) -> [RemoteSourceAction] {
        if let f = inFlight, f.deadlineTimer == id, !f.pastWaitLimit {
            inFlight?.pastWaitLimit = true
            return [.completeWaiters(f.id)]
        }
        guard id == refreshTimer else { return [] }
        refreshTimer = nil
        guard canFetch, !isShutDown, inFlight == nil else { return [] }
        return begin(now: now)
    }

    /// No configuration uses the source any more: nothing new starts; a fetch under way ends
    /// and wakes its waiters but schedules nothing.
    public mutating func shutdown() {
        isShutDown = true
        refreshTimer = nil
    }

    // MARK: - Rules

    /// Whether a request may start a fetch now.
    public func canStart(now: Double) -> Bool {
        guard canFetch, !isShutDown, inFlight == nil else { return false }
        guard let last = lastAttemptEnd else { return true }
        return now - last >= policy.minRefetchInterval
    }

    private mutating func begin(now: Double) -> [RemoteSourceAction] {
        let id = SourceFetchID(nextFetch)
        nextFetch += 1
        let deadline = newTimer()
        inFlight = InFlight(id: id, startedAt: now, deadlineTimer: deadline)
        lastAttemptStart = now
        fetchCount += 1
        return [.startFetch(id), .scheduleTimer(deadline, at: now + policy.waitLimit)]
    }

    private mutating func newTimer() -> SourceTimerID {
        defer { nextTimer += 1 }
        return SourceTimerID(nextTimer)
    }
}
