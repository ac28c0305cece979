import AuthzJSON

/// The result of a run, as one JSON line (for scripts) or a table (for people).
struct Report {
    let label: String?
    let window: WindowSnapshot
    let connections: Int
    let depth: Int
    let duration: Double
    let rate: Double?
    let apps: Int
    let tokens: Int

    var decisionsPerSecond: Double {
        window.seconds > 0 ? Double(window.answered) / window.seconds : 0
    }

    private func percentile(_ p: Double) -> UInt64 {
        window.histogram.totalCount == 0 ? 0 : window.histogram.valueAtPercentile(p)
    }

    var jsonLine: String {
        var members: [(key: String, value: JSONValue)] = []
        if let label { members.append(("label", .string(label))) }
        members += [
            ("decisions_per_sec", .number(JSONNumber((decisionsPerSecond * 10).rounded() / 10))),
            ("p50_us", .number(JSONNumber(Int(percentile(50))))),
            ("p90_us", .number(JSONNumber(Int(percentile(90))))),
            ("p99_us", .number(JSONNumber(Int(percentile(99))))),
            ("p999_us", .number(JSONNumber(Int(percentile(99.9))))),
            ("max_us", .number(JSONNumber(Int(window.histogram.totalCount == 0 ? 0 : window.histogram.max)))),
            ("mean_us", .number(JSONNumber((window.histogram.mean * 10).rounded() / 10))),
            ("requests", .number(JSONNumber(window.answered))),
            ("allowed", .number(JSONNumber(window.allowed))),
            ("denied", .number(JSONNumber(window.denied))),
            ("errors", .number(JSONNumber(window.errors))),
            ("connections", .number(JSONNumber(connections))),
            ("depth", .number(JSONNumber(depth))),
            ("duration", .number(JSONNumber(duration))),
            ("measured_seconds", .number(JSONNumber((window.seconds * 1000).rounded() / 1000))),
            ("apps", .number(JSONNumber(apps))),
            ("tokens", .number(JSONNumber(tokens))),
        ]
        if let rate {
            members.append(("rate", .number(JSONNumber(rate))))
            members.append(("late", .number(JSONNumber(window.late))))
            members.append(("pacing_ticks_per_sec", .number(JSONNumber(window.seconds > 0 ? (Double(window.ticks) / window.seconds).rounded() : 0))))
        }
        return JSONValue.object(JSONObject(members)).jsonString
    }

    var table: String {
        var lines: [String] = []
        if let label { lines.append("run          \(label)") }
        lines.append("connections  \(connections) x depth \(depth)" + (rate.map { ", paced to \(Int($0))/s" } ?? ""))
        lines.append("measured     \(fixed(window.seconds, 2)) s, \(window.answered) answers (\(apps) apps, \(tokens) tokens)")
        lines.append("throughput   \(fixed(decisionsPerSecond, 0)) decisions/s")
        lines.append("latency us   p50 \(percentile(50))  p90 \(percentile(90))  p99 \(percentile(99))  p99.9 \(percentile(99.9))  max \(window.histogram.totalCount == 0 ? 0 : window.histogram.max)")
        lines.append("decisions    \(window.allowed) allowed, \(window.denied) denied, \(window.errors) errors")
        if rate != nil {
            lines.append("late         \(window.late) requests waited for a free slot")
            lines.append("pacing       \(window.seconds > 0 ? Int(Double(window.ticks) / window.seconds) : 0) sending ticks/s")
        }
        return lines.joined(separator: "\n")
    }

    private func fixed(_ v: Double, _ places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let r = (v * scale).rounded() / scale
        if places == 0 { return String(Int(r)) }
        let whole = Int(r)
        let frac = Int(((r - Double(whole)) * scale).rounded())
        let fs = String(frac)
        return "\(whole)." + String(repeating: "0", count: places - fs.count) + fs
    }
}
