import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The time a remote source runs on: one clock for every decision (freshness, rate limits,
/// deadlines) and the timers that wake it. Tests pass a virtual one and move it by hand.
public protocol SourceClock: Sendable {
    /// Seconds on a clock that never steps back.
    var now: Double { get }
    /// Unix seconds for a reading of `now`, for reports.
    func unixTime(_ reading: Double) -> Double
    /// Runs `action` once, on some thread, when `now` reaches `reading` (at once if it has).
    func schedule(at reading: Double, _ action: @escaping @Sendable () -> Void)
}

/// The monotonic system clock, with Dispatch timers.
public final class SystemSourceClock: SourceClock {
    /// The one every production source uses.
    public static let shared = SystemSourceClock()

    private let timers = DispatchQueue(label: "authzd.remote-source.timers")

    public init() {}

    public var now: Double { Self.read(CLOCK_MONOTONIC) }

    public func unixTime(_ reading: Double) -> Double {
        Self.read(CLOCK_REALTIME) - (now - reading)
    }

    public func schedule(at reading: Double, _ action: @escaping @Sendable () -> Void) {
        let delay = max(0, reading - now)
        timers.asyncAfter(deadline: .now() + delay, execute: action)
    }

    private static func read(_ id: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(id, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
