import AuthzCore
import Synchronization

/// A `SourceClock` that moves only when the test says: `advance` runs, in order, every timer
/// that falls due, each at its own instant. Starts at the unix time the unit tests use, and
/// reports readings as unix times unchanged.
final class VirtualClock: SourceClock {
    private struct Timer {
        let at: Double
        let order: Int
        let action: @Sendable () -> Void
    }

    private struct State {
        var now: Double
        var timers: [Timer] = []
        var scheduled = 0
    }

    private let state: Mutex<State>

    init(start: Double = 1_800_000_000) {
        state = Mutex(State(now: start))
    }

    var now: Double { state.withLock { $0.now } }

    func unixTime(_ reading: Double) -> Double { reading }

    func schedule(at reading: Double, _ action: @escaping @Sendable () -> Void) {
        state.withLock { s in
            s.scheduled += 1
            s.timers.append(Timer(at: reading, order: s.scheduled, action: action))
        }
    }

    /// Timers not yet run.
    var pendingTimers: Int { state.withLock { $0.timers.count } }

    /// The instants of the timers not yet run, earliest first.
    var timerInstants: [Double] { state.withLock { $0.timers.map(\.at).sorted() } }

    /// Moves time forward by `seconds`, running each timer due on the way at its instant (the
    /// earliest first; timers they set run too if due).
    func advance(_ seconds: Double) {
        let end = state.withLock { $0.now + seconds }
        while let timer = takeNext(until: end) { timer.action() }
        state.withLock { $0.now = end }
    }

    private func takeNext(until end: Double) -> Timer? {
        state.withLock { s in
            guard let i = s.timers.indices.filter({ s.timers[$0].at <= end })
                .min(by: { (s.timers[$0].at, s.timers[$0].order) < (s.timers[$1].at, s.timers[$1].order) })
            else { return nil }
            let timer = s.timers.remove(at: i)
            s.now = max(s.now, timer.at)
            return timer
        }
    }
}
