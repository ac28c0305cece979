import Synchronization

/// How many decision records one bucket (a configured app, or every name that is not one) may
/// still write in the current second, shared by every event loop: `decision_rate_limit` is one
/// limit for the whole daemon, however many loops decide.
///
/// Lock-free, so the request path never waits for another loop: the second and the count of
/// records admitted in it share one atomic word, moved forward by compare-and-exchange. Records
/// over the limit are counted, and the first record of a later second takes that count with it
/// so one record can say how many were suppressed.
final class DecisionRecordBudget: Sendable {
    /// What the caller may do with one decision record.
    enum Admission: Equatable {
        /// Write it; first say that `suppressed` records were dropped since the last report.
        case write(suppressed: Int)
        /// Drop it: the bucket's records for this second are spent. It has been counted.
        case suppress
    }

    /// The second (unix time, low 32 bits) in the high half, the records admitted in it in the
    /// low half.
    private let window = Atomic<UInt64>(0)
    private let suppressed = Atomic<Int>(0)

    /// Admits one record decided at `now` (unix seconds) under a limit of `limit` per second.
    func admit(now: Int64, limit: Int) -> Admission {
        let second = UInt64(UInt32(truncatingIfNeeded: now))
        let cap = UInt64(max(0, min(limit, Int(UInt32.max))))
        var current = window.load(ordering: .relaxed)
        while true {
            let windowSecond = current >> 32
            let count = current & 0xFFFF_FFFF
            // A loop that read the clock just before another opened the next second counts in
            // that next second rather than reopening its own: windows only move forward, except
            // when the clock itself stepped back by more than that.
            let sameWindow = windowSecond == second || windowSecond == (second &+ 1) & 0xFFFF_FFFF
            if !sameWindow {
                let (exchanged, original) = window.compareExchange(
                    expected: current, desired: second << 32 | 1, ordering: .relaxed)
                if exchanged {
                    return .write(suppressed: suppressed.exchange(0, ordering: .relaxed))
                }
                current = original
                continue
            }
            guard count < cap else {
                suppressed.add(1, ordering: .relaxed)
                return .suppress
            }
            let (exchanged, original) = window.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return .write(suppressed: 0) }
            current = original
        }
    }
}
