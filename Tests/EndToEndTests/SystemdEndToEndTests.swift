import AuthzJSON
import Foundation
import Testing

/// What systemd and journald see of a real authzd (SPEC §6), with systemd's own tools.
@Suite("authzd under systemd")
struct SystemdEndToEndTests {
    static let app = """
        [[chain]]
        plugin = "ip_allowlist"
        allow = ["127.0.0.1"]
        """

    /// The environment a unit with Type=notify and WatchdogSec would give.
    static func notifyEnvironment(_ notify: NotifySocket, watchdogUSec: Int? = nil) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for k in ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM", "INVOCATION_ID", "WATCHDOG_PID"] {
            env.removeValue(forKey: k)
        }
        env["NOTIFY_SOCKET"] = notify.path
        if let w = watchdogUSec { env["WATCHDOG_USEC"] = String(w) } else { env.removeValue(forKey: "WATCHDOG_USEC") }
        return env
    }

    @Test func notifiesReadyReloadingStatusAndStopping() throws {
        let dir = try TempDirectory("notify")
        let notify = try NotifySocket(path: dir.file("notify"))
        let d = try DaemonUnderTest(apps: ["web": Self.app], environment: Self.notifyEnvironment(notify))
        let ready = try #require(notify.waitFor("READY=1"))
        #expect(notify.messages[ready].contains("STATUS="))
        // A good reload: RELOADING=1 with MONOTONIC_USEC, then READY=1 again.
        d.reload()
        let reloading = try #require(notify.waitFor("RELOADING=1", from: ready + 1))
        #expect(notify.messages[reloading].contains("MONOTONIC_USEC="))
        let readyAgain = try #require(notify.waitFor("READY=1", from: reloading + 1))
        // A bad reload: still READY, and STATUS says it failed, naming file and line.
        try d.dir.write("apps.d/web.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = []\n")
        d.reload()
        let again = try #require(notify.waitFor("RELOADING=1", from: readyAgain + 1))
        _ = try #require(notify.waitFor("READY=1", from: again + 1))
        #expect(eventually { notify.messages[again...].contains { $0.contains("STATUS=") && $0.contains("reload failed") && $0.contains("web.toml:3") } })
        #expect(try d.check(app: "web")["allow"] == .bool(true))
        #expect(d.stop() == 0)
        #expect(notify.index(of: "STOPPING=1") != nil)
    }

    @Test func statusIsRefreshedWithALiveSummary() throws {
        let dir = try TempDirectory("status")
        let notify = try NotifySocket(path: dir.file("notify"))
        let d = try DaemonUnderTest(apps: ["web": Self.app], environment: Self.notifyEnvironment(notify))
        for _ in 0..<20 { _ = try d.check(app: "web", ip: "192.0.2.1") }
        let ready = try #require(notify.waitFor("READY=1"))
        // The periodic STATUS (every 5 s) reports decisions and the deny share.
        #expect(eventually(timeout: 12) {
            notify.messages[(ready + 1)...].contains { $0.hasPrefix("STATUS=") && $0.contains("decisions/s") && $0.contains("denied") }
        })
        _ = d.stop()
    }

    @Test func readyWaitsForTheFirstKeyFetchToEnd() throws {
        // An HTTPS "provider" that accepts TCP connections and never answers: the first fetch
        // ends only by fetch_timeout. READY must come after that fetch has ended.
        let provider = try HangingListener()
        let dir = try TempDirectory("ready")
        let notify = try NotifySocket(path: dir.file("notify"))
        let d = try DaemonUnderTest(apps: ["idp": provider.jwksApp(fetchTimeout: 1)],
                                    environment: Self.notifyEnvironment(notify))
        _ = try #require(notify.waitFor("READY=1", timeout: 20))
        let source = try #require(d.stats()["jwks"]?.arrayValue?.first)
        #expect(source["fetches"] == 1)
        #expect(source["fetching"] == .bool(false), "READY came while the first fetch was still running")
        #expect(source["last_result"] != "never fetched")
        _ = d.stop()
    }

    @Test func sigtermAnswersARequestWaitingForKeysThenExitsZero() throws {
        let provider = try HangingListener()
        // READY (and the start-up fetch) is not awaited here: the request below waits on a fetch.
        let d = try DaemonUnderTest(apps: ["idp": provider.jwksApp(fetchTimeout: 3)])
        let c = try d.client()
        try c.send("{\"id\":1,\"app\":\"idp\",\"remote_addr\":\"127.0.0.1\",\"headers\":{\"authorization\":\"Bearer \(unverifiableRS256Token)\"}}\n{\"id\":2,\"op\":\"ping\"}\n")
        usleep(200_000)
        d.process.signal(SIGTERM)
        let first = try c.readJSON()
        #expect(first["id"] == 1)
        #expect(first["reason"] == "jwks_unavailable")
        #expect(first["status"] == 503)
        #expect(try c.readJSON()["id"] == 2)
        #expect(d.process.waitForExit(timeout: 15) == 0)
    }

    @Test func watchdogIsPingedAtHalfTheInterval() throws {
        let dir = try TempDirectory("wd")
        let notify = try NotifySocket(path: dir.file("notify"))
        let d = try DaemonUnderTest(apps: ["web": Self.app], environment: Self.notifyEnvironment(notify, watchdogUSec: 400_000))
        // 0.4 s watchdog: a ping every 0.2 s; count them over a while.
        #expect(eventually(timeout: 10) { notify.messages.filter { $0.contains("WATCHDOG=1") }.count >= 5 })
        _ = d.stop()
    }

    @Test func usesTheSocketPassedBySystemdSocketActivate() throws {
        let dir = try TempDirectory("sa")
        let passed = dir.file("activated.sock")
        let configured = dir.file("configured.sock")
        try dir.write("apps.d/web.toml", Self.app)
        let config = try dir.write("authzd.toml", "[server]\nsocket = \"\(configured)\"\n")
        var env = ProcessInfo.processInfo.environment
        for k in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "LISTEN_FDS", "LISTEN_PID"] { env.removeValue(forKey: k) }
        let activator = try ChildProcess("/usr/bin/systemd-socket-activate",
                                         ["-l", passed, try TestEnvironment.binary("authzd"), "serve", "--config", config],
                                         logPath: dir.file("activate.log"), environment: env)
        #expect(eventually { FileManager.default.fileExists(atPath: passed) })
        // The first connection starts authzd, which takes the passed socket.
        let client = try LineClient(path: passed)
        let answer = try client.ask("{\"id\":1,\"app\":\"web\",\"remote_addr\":\"127.0.0.1\"}")
        #expect(answer["allow"] == .bool(true), "\(activator.log)")
        #expect(!FileManager.default.fileExists(atPath: configured), "nothing is bound when LISTEN_FDS is set")
        // Logged once the socket serves, so possibly a moment after the first answer.
        #expect(eventually(timeout: 5) { activator.log.contains("passed by systemd") }, "\(activator.log)")
    }

    @Test func decisionRecordsReachJournaldWithTheirFieldsAndNoToken() throws {
        let start = try runCommand(TestEnvironment.packageRoot.appendingPathComponent("Tests/support/journald.sh").path, ["start"])
        try #require(start.status == 0, "journald did not start: \(start.stdout)\(start.stderr)")
        defer { _ = try? runCommand(TestEnvironment.packageRoot.appendingPathComponent("Tests/support/journald.sh").path, ["stop"]) }
        let appName = "journal\(UInt32.random(in: 0..<UInt32.max))"
        let secret = "journal-test-secret-0123456789abcdef"
        let d = try DaemonUnderTest(main: "[log]\ntarget = \"journal\"\ndecisions = \"all\"\n", apps: [appName: """
            [[chain]]
            plugin = "jwt_hmac"
            secret = "\(secret)"
            """])
        let token = try mintToken(secret: secret, claims: ["sub=carol"])
        let forged = try mintToken(secret: secret + "x", claims: ["sub=mallory"])
        let c = try d.client()
        #expect(try c.ask("{\"id\":\"req-1\",\"app\":\"\(appName)\",\"remote_addr\":\"127.0.0.1\",\"headers\":{\"authorization\":\"Bearer \(token)\"}}")["allow"] == .bool(true))
        #expect(try c.ask("{\"id\":\"req-2\",\"app\":\"\(appName)\",\"remote_addr\":\"127.0.0.1\",\"headers\":{\"authorization\":\"\(forged)\"}}")["allow"] == .bool(false))
        var records: [JSONValue] = []
        let found = eventually(timeout: 15) {
            guard let r = try? runCommand("/usr/bin/journalctl", ["-o", "json", "--no-pager", "AUTHZ_APP=\(appName)"]) else { return false }
            records = r.stdout.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
            return records.count >= 2
        }
        #expect(found, "journalctl found \(records.count) records")
        let allow = records.first { $0["AUTHZ_DECISION"] == "allow" }
        let deny = records.first { $0["AUTHZ_DECISION"] == "deny" }
        #expect(allow?["SYSLOG_IDENTIFIER"] == "authzd")
        #expect(allow?["AUTHZ_REASON"] == "ok")
        #expect(allow?["AUTHZ_PLUGIN"] == "jwt_hmac")
        #expect(allow?["AUTHZ_STATUS"] == "200")
        #expect(allow?["AUTHZ_REMOTE_ADDR"] == "127.0.0.1")
        #expect(allow?["AUTHZ_SUBJECT"] == "carol")
        #expect(allow?["AUTHZ_REQUEST_ID"] == "req-1")
        #expect(allow?["PRIORITY"] != nil)
        #expect(allow?["MESSAGE"]?.stringValue?.isEmpty == false)
        #expect(deny?["AUTHZ_REASON"] == "bad_signature")
        #expect(deny?["AUTHZ_STATUS"] == "401")
        #expect(deny?["AUTHZ_REQUEST_ID"] == "req-2")
        // No record of this daemon holds a token, a signature or the secret.
        let all = try runCommand("/usr/bin/journalctl", ["-o", "json", "--no-pager", "_PID=\(d.process.pid)"])
        let everything = all.stdout + records.map(\.jsonString).joined()
        for needle in [token, forged, secret, String(token.split(separator: ".")[2]), String(forged.split(separator: ".")[2])] {
            #expect(!everything.contains(needle))
        }
        _ = d.stop()
    }

    @Test func decisionRecordsAreRateLimitedPerApp() throws {
        let d = try DaemonUnderTest(main: "[log]\ntarget = \"stderr\"\ndecisions = \"deny\"\ndecision_rate_limit = 5\n",
                                    apps: ["web": Self.app])
        let c = try d.client()
        var batch = ""
        for i in 0..<300 { batch += "{\"id\":\(i),\"app\":\"web\",\"remote_addr\":\"192.0.2.1\"}\n" }
        try c.send(batch)
        for _ in 0..<300 { _ = try c.readJSON() }
        // A second later, the next decision on that event loop (same connection) reports
        // what was held back.
        sleep(1)
        _ = try c.ask("{\"app\":\"web\",\"remote_addr\":\"192.0.2.1\"}")
        #expect(eventually {
            d.process.log.contains("suppressed")
        })
        let written = d.process.log.split(separator: "\n").filter { $0.contains("deny app=web") }.count
        // At most 5 per event loop per second (two loops here), plus the one after the pause.
        #expect(written <= 5 * ProcessInfo.processInfo.activeProcessorCount * 2 + 1)
        #expect(written >= 1)
    }
}
