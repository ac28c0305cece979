import AuthzCore
@testable import AuthzMetrics
import Testing

/// The value on the exposition line `series value`, if that line exists.
func sample(_ text: String, _ series: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}

func exposition(_ metrics: DaemonMetrics, _ snapshot: DaemonMetrics.Snapshot = .init(connections: 0, tokenCacheHits: 0, tokenCacheMisses: 0, jwks: [])) -> String {
    String(decoding: metrics.exposition(snapshot), as: UTF8.self)
}

@Suite struct DaemonMetricsTests {
    @Test func eachDecisionCountsUnderItsAppDecisionAndReason() {
        let m = DaemonMetrics(version: "9.9.9")
        let web = m.decisionCounters(app: "web")
        for _ in 0..<3 { web.record(allow: true, reason: .ok) }
        web.record(allow: false, reason: .ipNotAllowed)
        web.record(allow: false, reason: .tokenExpired)
        web.record(allow: false, reason: .tokenExpired)
        let text = exposition(m)
        #expect(sample(text, #"authzd_decisions_total{app="web",decision="allow",reason="ok"}"#) == 3)
        #expect(sample(text, #"authzd_decisions_total{app="web",decision="deny",reason="ip_not_allowed"}"#) == 1)
        #expect(sample(text, #"authzd_decisions_total{app="web",decision="deny",reason="token_expired"}"#) == 2)
        #expect(sample(text, #"authzd_decisions_total{app="web",decision="deny",reason="no_token"}"#) == 0)
        #expect(sample(text, #"authzd_build_info{version="9.9.9"}"#) == 1)
    }

    @Test func everySeriesOfAnAppExistsFromTheStartAndNoOther() {
        let m = DaemonMetrics(version: "1")
        _ = m.decisionCounters(app: "web")
        let lines = exposition(m).split(separator: "\n").filter { $0.hasPrefix("authzd_decisions_total{") }
        // One allow (ok) and one deny per other reason code: bounded by the code list.
        #expect(lines.count == Reason.all.count)
        #expect(lines.allSatisfy { $0.contains(#"app="web""#) && $0.hasSuffix(" 0") })
    }

    @Test func theSameAppNameGivesSeriesThatCountTogether() {
        let m = DaemonMetrics(version: "1")
        m.decisionCounters(app: "web").record(allow: true, reason: .ok)
        m.decisionCounters(app: "web").record(allow: true, reason: .ok)
        #expect(sample(exposition(m), #"authzd_decisions_total{app="web",decision="allow",reason="ok"}"#) == 2)
    }

    @Test func aPairingOutsideTheTableIsStillCounted() {
        let m = DaemonMetrics(version: "1")
        let web = m.decisionCounters(app: "web")
        web.record(allow: true, reason: .noDecision)
        web.record(allow: false, reason: .ok)
        let text = exposition(m)
        #expect(sample(text, #"authzd_decisions_total{app="web",decision="allow",reason="no_decision"}"#) == 1)
        #expect(sample(text, #"authzd_decisions_total{app="web",decision="deny",reason="ok"}"#) == 1)
    }

    @Test func durationsLandInTheirBuckets() {
        let m = DaemonMetrics(version: "1")
        m.recordDecision(startedAt: 1_000, now: 1_000 + 5_000)  // 5 µs
        m.recordDecision(startedAt: 0, now: 300_000)  // 300 µs
        m.recordDecision(startedAt: 0, now: 2_000_000_000)  // 2 s
        let text = exposition(m)
        #expect(sample(text, #"authzd_decision_duration_seconds_bucket{le="1e-05"}"#) == 1)
        #expect(sample(text, #"authzd_decision_duration_seconds_bucket{le="0.0005"}"#) == 2)
        #expect(sample(text, #"authzd_decision_duration_seconds_bucket{le="1.0"}"#) == 2)
        #expect(sample(text, #"authzd_decision_duration_seconds_bucket{le="+Inf"}"#) == 3)
        #expect(sample(text, "authzd_decision_duration_seconds_count") == 3)
        #expect(DaemonMetrics.durationBuckets.first == 0.00001 && DaemonMetrics.durationBuckets.last == 1)
    }

    @Test func reloadsCountBySuccessAndFailure() {
        let m = DaemonMetrics(version: "1")
        m.recordReload(succeeded: true)
        m.recordReload(succeeded: false)
        m.recordReload(succeeded: false)
        let text = exposition(m)
        #expect(sample(text, #"authzd_config_reloads_total{result="success"}"#) == 1)
        #expect(sample(text, #"authzd_config_reloads_total{result="failure"}"#) == 2)
    }

    @Test func snapshotValuesAreCopiedInAtEachScrape() {
        let m = DaemonMetrics(version: "1")
        let url = "https://idp.example/jwks.json"
        var snap = DaemonMetrics.Snapshot(connections: 4, tokenCacheHits: 10, tokenCacheMisses: 3,
                                          jwks: [.init(url: url, succeeded: 2, failed: 1, keys: 3)])
        var text = exposition(m, snap)
        #expect(sample(text, "authzd_connections") == 4)
        #expect(sample(text, "authzd_token_cache_hits_total") == 10)
        #expect(sample(text, "authzd_token_cache_misses_total") == 3)
        #expect(sample(text, #"authzd_jwks_fetches_total{source="https://idp.example/jwks.json",result="success"}"#) == 2)
        #expect(sample(text, #"authzd_jwks_fetches_total{source="https://idp.example/jwks.json",result="failure"}"#) == 1)
        #expect(sample(text, #"authzd_jwks_keys{source="https://idp.example/jwks.json"}"#) == 3)
        // Counters mirror the counts (not add them up scrape after scrape).
        snap.tokenCacheHits = 12
        snap.connections = 1
        text = exposition(m, snap)
        #expect(sample(text, "authzd_token_cache_hits_total") == 12)
        #expect(sample(text, "authzd_connections") == 1)
        // A source no longer configured loses its series.
        snap.jwks = []
        text = exposition(m, snap)
        #expect(!text.contains("idp.example"))
    }

    @Test func labelValuesAreEscapedInTheExposition() {
        let m = DaemonMetrics(version: "1")
        let snap = DaemonMetrics.Snapshot(connections: 0, tokenCacheHits: 0, tokenCacheMisses: 0,
                                          jwks: [.init(url: "https://x/\"a\"\\b\nc", succeeded: 0, failed: 0, keys: 1)])
        let text = exposition(m, snap)
        #expect(text.contains(#"authzd_jwks_keys{source="https://x/\"a\"\\b\nc"} 1"#))
    }

    @Test func everyDaemonMetricIsInTheExpositionOnceAJWKSSourceExists() {
        let m = DaemonMetrics(version: "1")
        _ = m.decisionCounters(app: DaemonMetrics.unknownApp)
        let text = exposition(m, .init(connections: 0, tokenCacheHits: 0, tokenCacheMisses: 0,
                                       jwks: [.init(url: "https://a", succeeded: 0, failed: 0, keys: 0)]))
        for d in MetricName.daemon {
            #expect(text.contains("# TYPE \(d.name) "), "\(d.name) missing")
            #expect(text.contains("# HELP \(d.name) "), "\(d.name) has no help")
        }
    }
}

@Suite struct ShimMetricsTests {
    @Test func answersCountByStatusAndUnlistedStatusesShareOther() {
        let m = ShimMetrics()
        m.recordResponse(status: 200)
        m.recordResponse(status: 200)
        m.recordResponse(status: 503)
        m.recordResponse(status: 418)
        m.recordResponse(status: 302)
        m.recordUpstreamError()
        let text = String(decoding: m.exposition(), as: UTF8.self)
        #expect(sample(text, #"authzd_nginx_requests_total{status="200"}"#) == 2)
        #expect(sample(text, #"authzd_nginx_requests_total{status="503"}"#) == 1)
        #expect(sample(text, #"authzd_nginx_requests_total{status="other"}"#) == 2)
        #expect(sample(text, #"authzd_nginx_requests_total{status="401"}"#) == 0)
        #expect(sample(text, "authzd_nginx_upstream_errors_total") == 1)
        let series = text.split(separator: "\n").filter { $0.hasPrefix("authzd_nginx_requests_total{") }
        #expect(series.count == ShimMetrics.statuses.count + 1)
    }
}
