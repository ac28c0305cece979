import Synchronization

/// One piece of asynchronous work (a fetch) that any number of requests wait on. It completes
/// once, with a value or without one (the work failed, or its waiters were released at a
/// deadline while it still runs); every waiter is called back then, and a waiter that arrives
/// later is called back at once.
public final class Flight<Value: Sendable>: PendingResource {
    private struct State {
        var done = false
        var value: Value?
        var callbacks: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether `complete` has run.
    public var isDone: Bool { state.withLock { $0.done } }

    /// What the flight completed with; nil before completion or when it brought nothing.
    public var value: Value? { state.withLock { $0.value } }

    public func whenReady(_ callback: @escaping @Sendable () -> Void) {
        let now: Bool = state.withLock { s in
            if s.done { return true }
            s.callbacks.append(callback)
            return false
        }
        if now { callback() }
    }

    /// Wakes every waiter, outside the lock; later calls do nothing (the first value stays).
    public func complete(_ value: Value? = nil) {
        let callbacks: [@Sendable () -> Void] = state.withLock { s in
            guard !s.done else { return [] }
            s.done = true
            s.value = value
            defer { s.callbacks = [] }
            return s.callbacks
        }
        for c in callbacks { c() }
    }
}
