import AuthzJSON
import Foundation
import Testing

/// SPEC §7 through the real binaries: `[metrics] listen` on authzd, `--metrics-listen` on
/// authzd-nginx, each scrape read by the reference Prometheus parser; `authzd stats` and
/// `authzd ping`; and the Grafana dashboard against what is really exported.
@Suite("metrics and the stats/ping commands", .serialized)
struct MetricsEndToEndTests {
    static let apps: [String: String] = [
        "web": """
            [[chain]]
            plugin = "ip_allowlist"
            allow = ["127.0.0.1"]
            """,
        "api": """
            [[chain]]
            plugin = "jwt_hmac"
            secret = "\(CoreEndToEndTests.secret)"
            """,
        // A key source that cannot be reached: its fetches fail and it serves no keys.
        "idp": """
            [[chain]]
            plugin = "jwks"
            url = "https://127.0.0.1:1/jwks.json"
            algorithms = ["RS256"]
            fetch_timeout = 1
            """,
    ]
    static let jwksURL = "https://127.0.0.1:1/jwks.json"

    /// A daemon whose metrics listen on a free loopback port (retried if the port was taken).
    static func daemonWithMetrics(extra: String = "") throws -> (DaemonUnderTest, String) {
        for _ in 0..<3 {
            let port = try Loopback.freePort()
            let d = try DaemonUnderTest(main: "[metrics]\nlisten = \"127.0.0.1:\(port)\"\n" + extra, apps: apps)
            if eventually(timeout: 10, { Loopback.accepts(port: port) }) { return (d, "http://127.0.0.1:\(port)") }
            _ = d.stop()
        }
        throw TestFailure("authzd's metrics listener did not come up")
    }

    static func decisions(_ s: Scrape, app: String, decision: String, reason: String) -> Double {
        s.value("authzd_decisions_total", ["app": app, "decision": decision, "reason": reason]) ?? -1
    }

    @Test func decisionCountersMoveByExactlyTheDecisionsMade() throws {
        let (d, base) = try Self.daemonWithMetrics()
        let scratch = try TempDirectory("scrape")
        let before = try Scrape(base + "/metrics", scratch: scratch)
        #expect(before.response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")

        for _ in 0..<3 { #expect(try d.check(app: "web")["allow"]?.boolValue == true) }
        for _ in 0..<2 { #expect(try d.check(app: "web", ip: "10.1.2.3")["reason"]?.stringValue == "ip_not_allowed") }
        for name in ["nope", "other", "x y", "nope"] {
            #expect(try d.check(app: name)["reason"]?.stringValue == "unknown_app")
        }
        let token = try mintToken(secret: CoreEndToEndTests.secret)
        for _ in 0..<2 {
            #expect(try d.check(app: "api", headers: ["authorization": "Bearer " + token])["allow"]?.boolValue == true)
        }
        #expect(try d.check(app: "api")["reason"]?.stringValue == "no_token")
        let client = try d.client()
        #expect(try client.ask("this is not json")["reason"]?.stringValue == "bad_request")

        let after = try Scrape(base + "/metrics", scratch: scratch)
        func delta(_ app: String, _ decision: String, _ reason: String) -> Double {
            Self.decisions(after, app: app, decision: decision, reason: reason)
                - Self.decisions(before, app: app, decision: decision, reason: reason)
        }
        #expect(delta("web", "allow", "ok") == 3)
        #expect(delta("web", "deny", "ip_not_allowed") == 2)
        #expect(delta("_unknown", "deny", "unknown_app") == 4)
        #expect(delta("api", "allow", "ok") == 2)
        #expect(delta("api", "deny", "no_token") == 1)
        #expect(delta("_unknown", "deny", "bad_request") == 1)
        // Only configured names and _unknown ever label a series.
        let appLabels = Set(after.samples.filter { $0.name == "authzd_decisions_total" }.compactMap { $0.labels["app"] })
        #expect(appLabels == ["web", "api", "idp", "_unknown"])
        // Every check was timed (the bad line was not a check).
        let count = (after.value("authzd_decision_duration_seconds_count") ?? 0)
            - (before.value("authzd_decision_duration_seconds_count") ?? 0)
        #expect(count == 3 + 2 + 4 + 2 + 1)
        #expect(after.value("authzd_decision_duration_seconds_bucket", ["le": "+Inf"]) == after.value("authzd_decision_duration_seconds_count"))
        #expect(after.families["authzd_decision_duration_seconds"] == "histogram")
        // The second use of the token was answered from the cache.
        #expect((after.value("authzd_token_cache_hits_total") ?? 0) - (before.value("authzd_token_cache_hits_total") ?? 0) == 1)
        #expect((after.value("authzd_token_cache_misses_total") ?? 0) - (before.value("authzd_token_cache_misses_total") ?? 0) == 1)
        // `client` is still open.
        #expect((after.value("authzd_connections") ?? 0) >= 1)
        let version = try runCommand(try TestEnvironment.binary("authzd"), ["version"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "authzd ", with: "")
        #expect(after.value("authzd_build_info", ["version": version]) == 1)
        // The unreachable key source: failed fetches under its configured URL, no keys.
        #expect((after.value("authzd_jwks_fetches_total", ["source": Self.jwksURL, "result": "failure"]) ?? 0) >= 1)
        #expect(after.value("authzd_jwks_fetches_total", ["source": Self.jwksURL, "result": "success"]) == 0)
        #expect(after.value("authzd_jwks_keys", ["source": Self.jwksURL]) == 0)
        #expect(d.stop() == 0)
    }

    @Test func jwksFetchesAndKeysAreReportedUnderTheConfiguredURL() throws {
        let idp = try JWKSServer()
        let port = try Loopback.freePort()
        let d = try DaemonUnderTest(main: "[metrics]\nlisten = \"127.0.0.1:\(port)\"\n", apps: ["sso": """
            [[chain]]
            plugin = "jwks"
            url = "\(idp.url)"
            ca_file = "\(idp.caFile)"
            algorithms = ["ES256"]
            """])
        #expect(try d.check(app: "sso", headers: ["authorization": "Bearer " + idp.token])["allow"]?.boolValue == true)
        #expect(try d.check(app: "sso", headers: ["authorization": "Bearer " + idp.token])["allow"]?.boolValue == true)
        let scratch = try TempDirectory("scrape")
        let s = try Scrape("http://127.0.0.1:\(port)/metrics", scratch: scratch)
        #expect((s.value("authzd_jwks_fetches_total", ["source": idp.url, "result": "success"]) ?? 0) >= 1)
        #expect(s.value("authzd_jwks_fetches_total", ["source": idp.url, "result": "failure"]) == 0)
        #expect(s.value("authzd_jwks_keys", ["source": idp.url]) == 1)
        #expect(Self.decisions(s, app: "sso", decision: "allow", reason: "ok") == 2)
        #expect(d.stop() == 0)
    }

    @Test func reloadsAreCountedBySuccessAndFailure() throws {
        let (d, base) = try Self.daemonWithMetrics()
        let scratch = try TempDirectory("scrape")
        d.reload()
        #expect(eventually(timeout: 10) {
            (try? Scrape(base + "/metrics", scratch: scratch).value("authzd_config_reloads_total", ["result": "success"])) == 1
        })
        try d.dir.write("apps.d/broken.toml", "[[chain]]\nplugin = \"nope\"\n")
        d.reload()
        #expect(eventually(timeout: 10) {
            (try? Scrape(base + "/metrics", scratch: scratch).value("authzd_config_reloads_total", ["result": "failure"])) == 1
        })
        let s = try Scrape(base + "/metrics", scratch: scratch)
        #expect(s.value("authzd_config_reloads_total", ["result": "success"]) == 1)
        #expect(d.stop() == 0)
    }

    @Test func otherPathsAre404AndOtherMethods405() throws {
        let (d, base) = try Self.daemonWithMetrics()
        #expect(try Curl.request(base + "/").status == 404)
        #expect(try Curl.request(base + "/metricsx").status == 404)
        #expect(try Curl.request(base + "/healthz").status == 404)
        let post = try Curl.request(base + "/metrics", method: "POST")
        #expect(post.status == 405)
        #expect(post.header("Allow") == "GET, HEAD")
        #expect(try Curl.request(base + "/metrics", method: "DELETE").status == 405)
        let head = try Curl.request(base + "/metrics", options: ["--head"])
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(d.stop() == 0)
    }

    @Test func metricsOnAUnixSocketAndTheSocketIsRemovedOnStop() throws {
        let scratch = try TempDirectory("msock")
        let path = scratch.file("metrics.sock")
        let d = try DaemonUnderTest(main: "[metrics]\nlisten = \"unix:\(path)\"\n", apps: ["web": Self.apps["web"]!])
        #expect(try d.check(app: "web")["allow"]?.boolValue == true)
        let s = try Scrape("http://localhost/metrics", unixSocket: path, scratch: scratch)
        #expect(Self.decisions(s, app: "web", decision: "allow", reason: "ok") == 1)
        var st = stat()
        #expect(lstat(path, &st) == 0 && st.st_mode & 0o777 == 0o660)
        #expect(d.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aBadListenValueIsAConfigurationErrorWithFileAndLine() throws {
        let dir = try TempDirectory("cc")
        let main = try dir.write("authzd.toml", "[server]\nsocket = \"/tmp/x.sock\"\n\n[metrics]\nlisten = \"localhost\"\nport = 3\n")
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["check-config", "--config", main])
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("\(main):5: ") && $0.contains("metrics.listen") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(main):6: ") && $0.contains("port") }, "\(lines)")
        let ok = try dir.write("ok.toml", "[server]\nsocket = \"/tmp/x.sock\"\n[metrics]\nlisten = \"[::1]:9417\"\n")
        #expect(try runCommand(try TestEnvironment.binary("authzd"), ["check-config", "--config", ok]).status == 0)
    }

    @Test func aMetricsAddressInUseStopsTheDaemonWithAPlainError() throws {
        let (first, base) = try Self.daemonWithMetrics()
        let taken = base.replacingOccurrences(of: "http://", with: "")
        let dir = try TempDirectory("dup")
        let main = try dir.write("authzd.toml", "[server]\nsocket = \"\(dir.file("a.sock"))\"\n[metrics]\nlisten = \"\(taken)\"\n")
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["serve", "--config", main], timeout: 30)
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot serve metrics on \(taken)"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("a.sock")))
        #expect(first.stop() == 0)
    }

    // MARK: - authzd-nginx

    static func subrequest(_ shim: ShimUnderTest, app: String?) throws -> CurlResponse {
        var headers = ["X-Real-IP: 127.0.0.1", "X-Original-URI: /x", "X-Original-Method: GET"]
        if let app { headers.append("X-Authz-App: \(app)") }
        return try Curl.request("http://127.0.0.1:\(shim.port)/auth", headers: headers)
    }

    @Test func shimCountsAnswersByStatusAndUpstreamErrorsAndReportsHealth() throws {
        let d = try DaemonUnderTest(apps: ["web": Self.apps["web"]!])
        let scratch = try TempDirectory("shimm")
        let metricsSocket = scratch.file("shim-metrics.sock")
        let shim = try ShimUnderTest(upstream: d.socketPath, dir: scratch, arguments: ["--metrics-listen", "unix:\(metricsSocket)"])
        #expect(eventually(timeout: 10) { ShimUnderTest.unixAccepts(metricsSocket) })
        let url = "http://localhost/metrics"
        let before = try Scrape(url, unixSocket: metricsSocket, scratch: scratch)
        #expect(before.response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        // The pool may still be connecting: wait until a check gets through.
        #expect(eventually(timeout: 10) { (try? Self.subrequest(shim, app: "web").status) == 200 })
        let warm = try Scrape(url, unixSocket: metricsSocket, scratch: scratch)

        for _ in 0..<3 { #expect(try Self.subrequest(shim, app: "web").status == 200) }
        for _ in 0..<2 { #expect(try Self.subrequest(shim, app: "nope").status == 403) }
        #expect(try Self.subrequest(shim, app: nil).status == 400)
        let health = try Curl.request("http://localhost/healthz", options: ["--unix-socket", metricsSocket])
        #expect(health.status == 200)

        let mid = try Scrape(url, unixSocket: metricsSocket, scratch: scratch)
        func delta(_ a: Scrape, _ b: Scrape, _ status: String) -> Double {
            (b.value("authzd_nginx_requests_total", ["status": status]) ?? -1) - (a.value("authzd_nginx_requests_total", ["status": status]) ?? -1)
        }
        #expect(delta(warm, mid, "200") == 3)
        #expect(delta(warm, mid, "403") == 2)
        #expect(delta(warm, mid, "400") == 1)
        #expect(delta(warm, mid, "503") == 0)
        #expect(mid.value("authzd_nginx_upstream_errors_total") == before.value("authzd_nginx_upstream_errors_total"))

        // authzd gone: checks fail closed, each an upstream error, and health says so.
        #expect(d.stop() == 0)
        for _ in 0..<2 { #expect(try Self.subrequest(shim, app: "web").status == 503) }
        let down = try Curl.request("http://localhost/healthz", options: ["--unix-socket", metricsSocket])
        #expect(down.status == 503)
        #expect(down.body.hasPrefix("unhealthy"))
        let after = try Scrape(url, unixSocket: metricsSocket, scratch: scratch)
        #expect(delta(mid, after, "503") == 2)
        #expect((after.value("authzd_nginx_upstream_errors_total") ?? 0) - (mid.value("authzd_nginx_upstream_errors_total") ?? 0) == 2)
        shim.process.signal(SIGTERM)
        #expect(shim.process.waitForExit(timeout: 15) == 0)
        #expect(!FileManager.default.fileExists(atPath: metricsSocket))
    }

    @Test func shimRefusesABadMetricsListenValue() throws {
        let r = try runCommand(try TestEnvironment.binary("authzd-nginx"),
                               ["--upstream", "/tmp/none.sock", "--listen", "127.0.0.1:9", "--metrics-listen", "9417"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--metrics-listen"), "\(r.stderr)")
    }

    // MARK: - The dashboard

    /// Every metric the dashboard queries is one the binaries really export.
    @Test func grafanaDashboardParsesAndQueriesOnlyExportedMetrics() throws {
        let (d, base) = try Self.daemonWithMetrics()
        let scratch = try TempDirectory("dash")
        let metricsSocket = scratch.file("shim-metrics.sock")
        let shim = try ShimUnderTest(upstream: d.socketPath, dir: scratch, arguments: ["--metrics-listen", "unix:\(metricsSocket)"])
        #expect(eventually(timeout: 10) { ShimUnderTest.unixAccepts(metricsSocket) })
        _ = try d.check(app: "web")
        let exported = try Scrape(base + "/metrics", scratch: scratch).sampleNames
            .union(try Scrape("http://localhost/metrics", unixSocket: metricsSocket, scratch: scratch).sampleNames)

        let path = TestEnvironment.packageRoot.appendingPathComponent("deploy/grafana/authzd.json").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let dashboard = try JSONParser.parse(text)
        #expect(dashboard["title"]?.stringValue?.isEmpty == false)
        var expressions: [String] = []
        func collect(_ v: JSONValue) {
            switch v {
            case .object(let o):
                for m in o.members {
                    if m.key == "expr", let e = m.value.stringValue { expressions.append(e) }
                    collect(m.value)
                }
            case .array(let items): items.forEach(collect)
            default: break
            }
        }
        collect(dashboard)
        #expect(expressions.count >= 10)
        let regex = try NSRegularExpression(pattern: "authzd_[a-z_]+")
        var queried = Set<String>()
        for e in expressions {
            for m in regex.matches(in: e, range: NSRange(e.startIndex..., in: e)) {
                queried.insert(String(e[Range(m.range, in: e)!]))
            }
        }
        #expect(!queried.isEmpty)
        for name in queried.sorted() {
            #expect(exported.contains(name), "the dashboard queries \(name), which nothing exports")
        }
        // And it shows every SPEC §7 metric.
        for name in ["authzd_decisions_total", "authzd_decision_duration_seconds_bucket", "authzd_token_cache_hits_total",
                     "authzd_token_cache_misses_total", "authzd_connections", "authzd_jwks_fetches_total", "authzd_jwks_keys",
                     "authzd_config_reloads_total", "authzd_build_info", "authzd_nginx_requests_total",
                     "authzd_nginx_upstream_errors_total"] {
            #expect(queried.contains(name), "the dashboard does not show \(name)")
        }
        shim.process.signal(SIGTERM)
        _ = shim.process.waitForExit(timeout: 15)
        #expect(d.stop() == 0)
    }

    // MARK: - authzd stats / ping

    @Test func pingAndStatsTalkToTheDaemon() throws {
        let d = try DaemonUnderTest(apps: ["web": Self.apps["web"]!])
        let bin = try TestEnvironment.binary("authzd")
        _ = try d.check(app: "web")
        _ = try d.check(app: "web", ip: "10.0.0.1")
        let ping = try runCommand(bin, ["ping", "--socket", d.socketPath])
        #expect(ping.status == 0)
        let pong = try JSONParser.parse(ping.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(pong["ok"]?.boolValue == true)

        let stats = try runCommand(bin, ["stats", "--socket", d.socketPath])
        #expect(stats.status == 0, "\(stats.stderr)")
        #expect(stats.stdout.split(separator: "\n").count > 5, "pretty-printed: \(stats.stdout)")
        let s = try JSONParser.parse(stats.stdout)
        #expect(s["uptime_seconds"]?.numberValue != nil)
        #expect(s["apps"]?["web"]?["allowed"]?.numberValue?.int64 == 1)
        #expect(s["apps"]?["web"]?["denied"]?.numberValue?.int64 == 1)
        #expect(d.stop() == 0)
    }

    @Test func pingAndStatsWithoutADaemonSayWhyAndExitOne() throws {
        let dir = try TempDirectory("noping")
        let bin = try TestEnvironment.binary("authzd")
        for command in ["ping", "stats"] {
            let r = try runCommand(bin, [command, "--socket", dir.file("missing.sock")])
            #expect(r.status == 1)
            #expect(r.stdout.isEmpty)
            #expect(r.stderr == "authzd \(command): cannot connect to \(dir.file("missing.sock")): no such file (is authzd running?)\n")
        }
    }

    @Test func pingGivesUpOnASilentSocket() throws {
        let dir = try TempDirectory("silent")
        let path = dir.file("silent.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(listen(fd, 4) == 0)
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["ping", "--socket", path, "--timeout", "0.5"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("did not answer within 0.5 s"), "\(r.stderr)")
    }
}
