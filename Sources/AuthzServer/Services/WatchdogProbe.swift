import NIOCore
import Synchronization

/// Proves the event loops answer before the watchdog is pinged: every loop runs a task, and the
/// ping is sent from the last of them to finish. A loop that is stuck never runs its task, so
/// no ping goes out and systemd restarts the daemon.
///
/// While a probe is unanswered no other is started, so a stuck loop does not collect one task
/// per period.
final class WatchdogProbe: Sendable {
    private let loops: [any EventLoop]
    private let ping: @Sendable () -> Void
    private let inFlight = Atomic<Bool>(false)

    /// A probe of `loops` that calls `ping` (on one of them) when all of them have answered.
    init(loops: [any EventLoop], ping: @escaping @Sendable () -> Void) {
        precondition(!loops.isEmpty, "a watchdog probe needs an event loop")
        self.loops = loops
        self.ping = ping
    }

    /// Starts a probe; returns false, starting nothing, while the previous one is unanswered.
    @discardableResult
    func probe() -> Bool {
        guard inFlight.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return false
        }
        let answers = loops.map { $0.submit {} }
        let ping = self.ping
        EventLoopFuture.andAllSucceed(answers, on: loops[0]).whenComplete { [self] result in
            inFlight.store(false, ordering: .releasing)
            if case .success = result { ping() }
        }
        return true
    }
}
