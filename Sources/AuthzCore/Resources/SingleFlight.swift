import Synchronization

/// At most one flight per key (one fetch per URL, one introspection call per token), which every
/// request asking for the same key joins. The number of keys in flight is bounded: past
/// `capacity` a new key is refused, so client data (a token) cannot grow it without limit.
public final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// What `join` found.
    public enum Join {
        /// A new flight: the caller does the work and calls `finish` (with nil when it brought nothing).
        case started(Flight<Value>)
        /// The flight already under way for this key: wait on it.
        case joined(Flight<Value>)
        /// `capacity` keys are in flight already.
        case full
    }

    private let flights = Mutex<[Key: Flight<Value>]>([:])
    /// Most keys in flight at once.
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The flight for `key`, started if there is none.
    public func join(_ key: Key) -> Join {
        flights.withLock { f in
            if let existing = f[key] { return .joined(existing) }
            guard f.count < capacity else { return .full }
            let flight = Flight<Value>()
            f[key] = flight
            return .started(flight)
        }
    }

    /// Ends the flight for `key`: it leaves the table, then its waiters are woken with `value`.
    public func finish(_ key: Key, with value: Value?) {
        let flight = flights.withLock { $0.removeValue(forKey: key) }
        flight?.complete(value)
    }

    /// Keys in flight now.
    public var count: Int { flights.withLock { $0.count } }
}
