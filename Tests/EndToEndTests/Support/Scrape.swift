import Foundation

/// One `GET /metrics` as real curl saw it, read by the reference Prometheus parser
/// (`prometheus_client`, through `Tests/support/prom_parse.py`), not by the test's own reading.
struct Scrape {
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    let response: CurlResponse
    /// Family names as the parser reports them (a counter's without `_total`) with their types.
    let families: [String: String]
    let samples: [Sample]

    /// Scrapes `url` (over `unixSocket` when given) and parses the body.
    init(_ url: String, unixSocket: String? = nil, scratch: TempDirectory) throws {
        response = try Curl.request(url, options: unixSocket.map { ["--unix-socket", $0] } ?? [])
        guard response.status == 200 else { throw TestFailure("GET \(url) answered \(response.status): \(response.body)") }
        let file = try scratch.write("scrape.txt", response.body)
        let parser = TestEnvironment.packageRoot.appendingPathComponent("Tests/support/prom_parse.py").path
        // `python3` from PATH, the one `make deps` installed prometheus_client for.
        let r = try runCommand("/usr/bin/env", ["python3", parser, file])
        guard r.status == 0 else { throw TestFailure("the Prometheus parser refused the exposition (\(r.status)): \(r.stderr)") }
        guard let root = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              let list = root["families"] as? [[String: Any]] else { throw TestFailure("bad parser output: \(r.stdout)") }
        var families: [String: String] = [:]
        var samples: [Sample] = []
        for f in list {
            families[f["name"] as? String ?? ""] = f["type"] as? String ?? ""
            for s in f["samples"] as? [[String: Any]] ?? [] {
                samples.append(Sample(name: s["name"] as? String ?? "", labels: s["labels"] as? [String: String] ?? [:],
                                      value: (s["value"] as? NSNumber)?.doubleValue ?? .nan))
            }
        }
        self.families = families
        self.samples = samples
    }

    /// The value of the one sample with this name and exactly these labels, or nil.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// The sample names present (a histogram's `_bucket`, `_sum`, `_count` among them).
    var sampleNames: Set<String> { Set(samples.map(\.name)) }
}
