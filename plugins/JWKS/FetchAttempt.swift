import AuthzCore
import Synchronization

/// One fetch in flight, which any number of requests wait on. It completes once: when the fetch
/// ends (success or failure) or when its deadline passes, whichever comes first, so a waiter is
/// answered within the fetch timeout even if the fetch threads are busy elsewhere.
final class FetchAttempt: PendingResource {
    private struct State {
        var done = false
        var callbacks: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())
    /// Clock reading after which the attempt no longer holds requests back.
    let deadline: Double

    init(deadline: Double) {
        self.deadline = deadline
    }

    var isDone: Bool { state.withLock { $0.done } }

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
