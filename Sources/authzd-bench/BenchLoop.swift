import Histogram
import NIOCore

/// Everything the connections of one client event loop share. It is touched only on that loop
/// (connections are pinned to it), which is why it needs no lock; `@unchecked Sendable` lets
/// the main thread hand it to `loop.execute` closures.
final class BenchLoop: @unchecked Sendable {
    let loop: any EventLoop
    let workload: Workload
    let depth: Int
    /// This loop's share of `--rate`, per second; nil for closed-loop runs.
    let rate: Double?

    private(set) var handlers: [LoadHandler] = []
    private(set) var running = false
    private var recording = false
    private var sequence = 0
    private var window = WindowSnapshot.empty()
    private var windowStart: UInt64 = 0
    /// Errors outside the window (a connection lost during warmup) still count: a run with any
    /// error is not a clean measurement.
    private var errorsOutsideWindow = 0

    private var ticker: RepeatedTask?
    private var rateStart: UInt64 = 0
    private var issued = 0
    private var nextHandler = 0
    private var dirty: [LoadHandler] = []

    /// Values above a minute are clamped: such an answer is a failure whatever its exact time.
    static let highestMicroseconds: UInt64 = 60_000_000

    static func makeHistogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: highestMicroseconds,
                  numberOfSignificantValueDigits: .three)
    }

    init(loop: any EventLoop, workload: Workload, depth: Int, rate: Double?) {
        self.loop = loop
        self.workload = workload
        self.depth = depth
        self.rate = rate
    }

    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    func register(_ handler: LoadHandler) {
        handlers.append(handler)
        if running { handler.start() }
    }

    /// The next request of the run on this loop; apps and tokens are taken in turn from it.
    func nextSequence() -> Int {
        defer { sequence &+= 1 }
        return sequence
    }

    func start() {
        running = true
        for h in handlers { h.start() }
        guard let rate, rate > 0 else { return }
        rateStart = Self.now()
        // A 200 µs tick keeps pacing error well below the latencies being measured, while
        // costing the client only 5,000 wake-ups a second.
        ticker = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .microseconds(200)) { [self] _ in
            self.tick(rate: rate)
        }
    }

    private func tick(rate: Double) {
        guard running, !handlers.isEmpty else { return }
        let now = Self.now()
        let due = Int(rate * Double(now - rateStart) / 1e9) - issued
        guard due > 0 else { return }
        issued += due
        if recording { window.ticks += 1 }
        for _ in 0..<due {
            let h = handlers[nextHandler % handlers.count]
            nextHandler &+= 1
            if h.due(at: now) { recordLate() }
            if !h.dirty {
                h.dirty = true
                dirty.append(h)
            }
        }
        for h in dirty { h.flush() }
        dirty.removeAll(keepingCapacity: true)
    }

    func beginWindow() {
        window = WindowSnapshot.empty()
        windowStart = Self.now()
        recording = true
    }

    func endWindow() -> WindowSnapshot {
        recording = false
        var w = window
        w.seconds = Double(Self.now() - windowStart) / 1e9
        w.errors += errorsOutsideWindow
        return w
    }

    /// One answer: its latency in nanoseconds and whether it was a well-formed, in-order answer.
    @inline(__always)
    func recordAnswer(latencyNanos: UInt64, allow: Bool?) {
        guard recording else {
            if allow == nil { errorsOutsideWindow += 1 }
            return
        }
        window.answered += 1
        switch allow {
        case true?: window.allowed += 1
        case false?: window.denied += 1
        case nil: window.errors += 1
        }
        _ = window.histogram.record(min(latencyNanos / 1000, Self.highestMicroseconds))
    }

    func recordError() {
        if recording { window.errors += 1 } else { errorsOutsideWindow += 1 }
    }

    private func recordLate() {
        if recording { window.late += 1 }
    }

    /// Stops sending and closes every connection; the future completes when all are closed.
    func stop() -> EventLoopFuture<Void> {
        running = false
        ticker?.cancel()
        ticker = nil
        let closes = handlers.map { $0.close() }
        return EventLoopFuture.andAllComplete(closes, on: loop)
    }
}
