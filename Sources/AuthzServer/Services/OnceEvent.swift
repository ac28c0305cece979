import Synchronization

/// Something that happens once, such as "the daemon listens with its configuration loaded" or
/// "this JWKS source's first fetch ended". Any number of tasks wait for it; each gives up when
/// its task is cancelled (a service group shutting down), so nothing waits past the daemon.
final class OnceEvent: Sendable {
    private struct State {
        var happened = false
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    init() {}

    /// Whether ``signal()`` has been called.
    var hasHappened: Bool { state.withLock { $0.happened } }

    /// Marks the event as happened and wakes every waiter; later calls do nothing.
    func signal() {
        let waiting: [CheckedContinuation<Void, any Error>] = state.withLock { s in
            guard !s.happened else { return [] }
            s.happened = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for w in waiting { w.resume() }
    }

    /// Returns once the event has happened (at once if it has); throws `CancellationError` when
    /// the waiting task is cancelled first.
    func wait() async throws {
        let id = state.withLock { s in
            defer { s.nextWaiter &+= 1 }
            return s.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now: Result<Void, any Error>? = state.withLock { s in
                    if s.happened { return .success(()) }
                    // Cancelled before the handler below could find this waiter: it never will.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.waiters[id] = continuation
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
