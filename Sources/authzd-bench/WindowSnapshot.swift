import Histogram

/// What one event loop measured during the window: the counts and the latency distribution.
struct WindowSnapshot: Sendable {
    var histogram: Histogram<UInt64>
    var answered = 0
    var allowed = 0
    var denied = 0
    var errors = 0
    /// Rate mode: requests that were due while their connection already had `depth` in flight.
    var late = 0
    /// Rate mode: pacing ticks that sent something (how finely arrivals were spread).
    var ticks = 0
    var seconds = 0.0

    static func empty() -> WindowSnapshot {
        WindowSnapshot(histogram: BenchLoop.makeHistogram())
    }

    mutating func add(_ other: WindowSnapshot) {
        histogram.add(other.histogram)
        answered += other.answered
        allowed += other.allowed
        denied += other.denied
        errors += other.errors
        late += other.late
        ticks += other.ticks
        seconds = max(seconds, other.seconds)
    }
}
