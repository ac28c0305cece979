/// Decisions per second and the share of them denied, between two readings of the allow and
/// deny totals (``CounterRegistry/totals()``).
struct DecisionRate {
    /// One period's figures.
    struct Sample: Equatable {
        var perSecond: Double
        var denyShare: Double
        /// Nothing decided.
        static let zero = Sample(perSecond: 0, denyShare: 0)
    }

    private var last: (allowed: Int, denied: Int)

    /// Counts from `totals` on.
    init(totals: (allowed: Int, denied: Int)) {
        last = totals
    }

    /// The figures since the previous reading, `seconds` ago; remembers `totals` for the next.
    mutating func sample(totals: (allowed: Int, denied: Int), seconds: Double) -> Sample {
        // Totals only grow; max() keeps a rate from going negative should a counter ever restart.
        let allowed = max(0, totals.allowed - last.allowed)
        let denied = max(0, totals.denied - last.denied)
        last = totals
        let total = Double(allowed + denied)
        guard total > 0, seconds > 0 else { return .zero }
        return Sample(perSecond: total / seconds, denyShare: Double(denied) / total)
    }
}
