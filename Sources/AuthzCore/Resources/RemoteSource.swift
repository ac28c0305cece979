import Synchronization

/// A remote document kept fresh for the request path: the driver of a `RemoteSourceMachine`.
/// It owns the lock, the waiters' flights, the timers (through its `SourceClock`) and the call
/// that fetches; the rules are the machine's. Users (the JWKS key set, its OIDC discovery
/// document) give it a `load` that fetches and parses, and read `lookup` on the request path.
public final class RemoteSource<Document: Sendable>: Sendable {
    public typealias Machine = RemoteSourceMachine<Document>

    /// Fetches and parses one document. `current` is the document held now (to recognise an
    /// unchanged one cheaply); `done` must be called exactly once, on any thread.
    public typealias Load = @Sendable (_ current: RemoteDocument<Document>?,
                                       _ done: @escaping @Sendable (Machine.Outcome) -> Void) -> Void

    /// What a fetch brought, told to `observe` after the waiters are woken (to log it).
    public enum Event: Sendable {
        /// A usable document; `changed` when its content differs from the previous one.
        case loaded(RemoteDocument<Document>, changed: Bool)
        case failed(String)
    }

    /// What a request gets.
    public enum Lookup: Sendable {
        case ready(RemoteDocument<Document>)
        /// Step back and run again when this completes.
        case wait(Flight<Void>)
        case unavailable(RemoteSourceUnavailable)
    }

    private struct State {
        var machine: Machine
        /// The flight of the fetch under way while requests may wait on it (at most one).
        var flights: [SourceFetchID: Flight<Void>] = [:]
    }

    private let state: Mutex<State>
    private let clock: any SourceClock
    private let load: Load?
    private let observe: @Sendable (Event) -> Void

    /// A source that fetches with `load` (nil: never fetches, as under check-config).
    public init(policy: RemoteSourcePolicy, clock: any SourceClock, load: Load?,
                observe: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.state = Mutex(State(machine: Machine(policy: policy, canFetch: load != nil)))
        self.clock = clock
        self.load = load
        self.observe = observe
    }

    /// Timers and fetches hold the source weakly: if it goes while requests wait, they are
    /// woken here (and find no source when they run again) rather than left hanging.
    deinit {
        let waiting = state.withLock { s in
            defer { s.flights = [:] }
            return Array(s.flights.values)
        }
        for flight in waiting { flight.complete() }
    }

    public var policy: RemoteSourcePolicy { state.withLock { $0.machine.policy } }

    /// Starts the first fetch unless one has run or is running.
    public func start() {
        let now = clock.now
        run { $0.start(now: now) }
    }

    /// The document while it is fresh, without starting anything (a fast path).
    public func freshDocument() -> RemoteDocument<Document>? {
        let now = clock.now
        return state.withLock { s in
            guard let doc = s.machine.current, now < doc.freshUntil else { return nil }
            return doc
        }
    }

    /// A document that may serve, a fetch to wait on, or why there is none.
    public func lookup() -> Lookup {
        let now = clock.now
        let (lookup, flights) = step { $0.lookup(now: now) }
        switch lookup {
        case .ready(let doc): return .ready(doc)
        case .unavailable(let why): return .unavailable(why)
        case .wait(let id): return flights[id].map { .wait($0) } ?? .unavailable(.timedOut)
        }
    }

    /// A fetch to wait on for a newer document (running, or started if the rate limit allows),
    /// or nil when the request must be answered with what there is.
    public func refetch() -> Flight<Void>? {
        let now = clock.now
        let (id, flights) = step { $0.refetch(now: now) }
        return id.flatMap { flights[$0] }
    }

    /// Fetches now unless a fetch is running (the document is known to have moved).
    public func refreshNow() {
        let now = clock.now
        run { $0.refreshNow(now: now) }
    }

    /// Calls back once the fetch under way has ended or passed its wait limit; at once if none runs.
    public func whenIdle(_ callback: @escaping @Sendable () -> Void) {
        let flight = state.withLock { $0.flights.values.first }
        if let flight { flight.whenReady(callback) } else { callback() }
    }

    /// Calls `body` once with a document that may serve, or why there is none, waiting for a
    /// fetch if one must run first (for a source that needs another's document to fetch).
    public func withDocument(_ body: @escaping @Sendable (Result<RemoteDocument<Document>, RemoteSourceFailure>) -> Void) {
        switch lookup() {
        case .ready(let doc): body(.success(doc))
        case .unavailable(let why): body(.failure(RemoteSourceFailure(why)))
        case .wait(let flight):
            flight.whenReady { [self] in
                switch lookup() {
                case .ready(let doc): body(.success(doc))
                case .unavailable(let why): body(.failure(RemoteSourceFailure(why)))
                case .wait: body(.failure(RemoteSourceFailure(.timedOut)))
                }
            }
        }
    }

    /// Stops refreshing; a fetch under way ends and wakes its waiters but schedules nothing.
    public func shutdown() {
        state.withLock { $0.machine.shutdown() }
    }

    /// The machine as it is now, for reports.
    public var machine: Machine { state.withLock { $0.machine } }

    /// Unix seconds for a reading of the source's clock.
    public func unixTime(_ reading: Double) -> Double { clock.unixTime(reading) }

    /// Now, on the source's clock.
    public var now: Double { clock.now }

    // MARK: - Driving the machine

    /// Feeds one event under the lock (making there the flights of fetches it starts, so a
    /// request can wait on them even if the fetch ends before it gets to), then carries out its
    /// actions outside the lock. Returns the event's answer and the flights as they were then.
    private func step<T>(_ event: (inout Machine) -> (T, [RemoteSourceAction])) -> (T, [SourceFetchID: Flight<Void>]) {
        let (value, actions, flights, wake) = state.withLock { s in
            let (value, actions) = event(&s.machine)
            let wake = Self.bookFlights(actions, in: &s)
            return (value, actions, s.flights, wake)
        }
        perform(actions, waking: wake)
        return (value, flights)
    }

    private func run(_ event: (inout Machine) -> [RemoteSourceAction]) {
        _ = step { ((), event(&$0)) }
    }

    /// Adds a flight for each fetch started; takes out those whose waiters are to be woken.
    private static func bookFlights(_ actions: [RemoteSourceAction], in s: inout State) -> [Flight<Void>] {
        var wake: [Flight<Void>] = []
        for action in actions {
            switch action {
            case .startFetch(let id): s.flights[id] = Flight()
            case .completeWaiters(let id): if let f = s.flights.removeValue(forKey: id) { wake.append(f) }
            case .scheduleTimer: break
            }
        }
        return wake
    }

    private func perform(_ actions: [RemoteSourceAction], waking flights: [Flight<Void>]) {
        for flight in flights { flight.complete() }
        for action in actions {
            switch action {
            case .startFetch(let id): startFetch(id)
            case .scheduleTimer(let timer, let at):
                clock.schedule(at: at) { [weak self] in
                    guard let self else { return }
                    let now = self.clock.now
                    self.run { $0.timerFired(timer, now: now) }
                }
            case .completeWaiters: break  // woken above
            }
        }
    }

    private func startFetch(_ id: SourceFetchID) {
        guard let load else {
            finished(id, .failure("fetching is not available"))
            return
        }
        let current = state.withLock { $0.machine.current }
        load(current) { [weak self] outcome in self?.finished(id, outcome) }
    }

    private func finished(_ id: SourceFetchID, _ outcome: Machine.Outcome) {
        let now = clock.now
        var event: Event?
        run { s in
            let before = s.current
            let actions = s.fetchFinished(id, outcome, now: now)
            switch outcome {
            case .failure(let why): event = .failed(why)
            case .document:
                if let doc = s.current, doc !== before { event = .loaded(doc, changed: doc.generation != before?.generation) }
            }
            return actions
        }
        if let event { observe(event) }
    }
}

/// Why a source gave no document to a caller that needed one, as an error.
public struct RemoteSourceFailure: Error, Sendable {
    public let reason: RemoteSourceUnavailable
    public init(_ reason: RemoteSourceUnavailable) { self.reason = reason }
}
