import AuthzCore
import Synchronization

/// One introspection call in flight for one token, which every check of that token waits on.
/// It completes once: when the call ends or when its deadline passes, whichever comes first, so
/// a waiter is answered within the fetch timeout even when the fetch threads are busy elsewhere.
final class IntrospectionFlight: PendingResource {
    private struct State {
        var done = false
        var callbacks: [@Sendable () -> Void] = []
        var waiters = 0
    }

    private let state = Mutex(State())
    /// Monotonic clock reading after which the flight no longer holds checks back.
    let deadline: Double

    init(deadline: Double) {
        self.deadline = deadline
    }

    var isDone: Bool { state.withLock { $0.done } }

    /// Counts one more check waiting; false when `limit` are already waiting (the caller then
    /// answers at once instead of growing the list without bound).
    func join(limit: Int) -> Bool {
        state.withLock { s in
            guard !s.done, s.waiters < limit else { return false }
            s.waiters += 1
            return true
        }
    }

    func whenReady(_ callback: @escaping @Sendable () -> Void) {
        let now: Bool = state.withLock { s in
            if s.done { return true }
            s.callbacks.append(callback)
            return false
        }
        if now { callback() }
    }

    /// Wakes every waiter; later calls do nothing.
    func complete() {
        let callbacks: [@Sendable () -> Void] = state.withLock { s in
            guard !s.done else { return [] }
            s.done = true
            defer { s.callbacks = [] }
            return s.callbacks
        }
        for c in callbacks { c() }
    }
}
