import AuthzJSON
import Foundation
import Testing

/// The daemon as SPEC §2–§4 describe it, through its real socket.
@Suite("authzd end to end")
struct CoreEndToEndTests {
    static let secret = "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq"

    /// SPEC §4's chain examples, each an app.
    static let specApps: [String: String] = [
        "antmedia": """
            [[chain]]
            plugin = "ip_allowlist"
            control = "required"
            allow = ["127.0.0.1"]
            """,
        "antmediajwt": """
            [[chain]]
            plugin = "ip_allowlist"
            control = "required"
            allow = ["127.0.0.1"]

            [[chain]]
            plugin = "jwt_hmac"
            control = "required"
            secret = "\(secret)"
            """,
        "internal": """
            [[chain]]
            plugin = "ip_allowlist"
            control = "sufficient"
            allow = ["10.0.0.0/8"]

            [[chain]]
            plugin = "jwt_hmac"
            control = "required"
            secret = "\(secret)"
            forward_claims = { sub = "x-auth-subject" }
            """,
    ]

    @Test func antMediaDefaultAllowsLoopbackOnly() throws {
        let d = try DaemonUnderTest(apps: Self.specApps)
        let ok = try d.check(app: "antmedia", ip: "127.0.0.1", id: 7)
        #expect(ok["allow"] == .bool(true))
        #expect(ok["status"] == 200)
        #expect(ok["reason"] == "ok")
        #expect(ok["plugin"] == "ip_allowlist")
        #expect(ok["id"] == 7)
        let no = try d.check(app: "antmedia", ip: "192.0.2.1")
        #expect(no["allow"] == .bool(false))
        #expect(no["status"] == 403)
        #expect(no["reason"] == "ip_not_allowed")
        #expect(no["id"] == nil)
    }

    @Test func antMediaJWTFilterNeedsAddressAndToken() throws {
        let d = try DaemonUnderTest(apps: Self.specApps)
        let token = try mintToken(secret: Self.secret, claims: ["sub=alice"])
        // Raw token, as Ant Media's guide sends it, and the Bearer form.
        for value in [token, "Bearer \(token)", "bearer \(token)"] {
            let a = try d.check(app: "antmediajwt", headers: ["Authorization": value])
            #expect(a["allow"] == .bool(true), "\(value.prefix(8))…")
        }
        let missing = try d.check(app: "antmediajwt")
        #expect(missing["status"] == 401)
        #expect(missing["reason"] == "no_token")
        #expect(missing["headers"]?["www-authenticate"]?.stringValue?.hasPrefix("Bearer realm=") == true)
        let wrongAddress = try d.check(app: "antmediajwt", ip: "192.0.2.1", headers: ["Authorization": token])
        #expect(wrongAddress["reason"] == "ip_not_allowed")
        let forged = try mintToken(secret: String(Self.secret.reversed()), claims: ["sub=alice"])
        let bad = try d.check(app: "antmediajwt", headers: ["Authorization": forged])
        #expect(bad["reason"] == "bad_signature")
        #expect(bad["status"] == 401)
        let expired = try mintToken(secret: Self.secret, expiresIn: -10)
        #expect(try d.check(app: "antmediajwt", headers: ["Authorization": expired])["reason"] == "token_expired")
    }

    @Test func internalAddressOrToken() throws {
        let d = try DaemonUnderTest(apps: Self.specApps)
        #expect(try d.check(app: "internal", ip: "10.2.3.4")["allow"] == .bool(true))
        let denied = try d.check(app: "internal", ip: "192.0.2.9")
        #expect(denied["reason"] == "no_token")
        let token = try mintToken(secret: Self.secret, claims: ["sub=bob"], expiresIn: 300)
        let a = try d.check(app: "internal", ip: "192.0.2.9", headers: ["Authorization": "Bearer \(token)"])
        #expect(a["allow"] == .bool(true))
        #expect(a["plugin"] == "jwt_hmac")
        #expect(a["headers"]?["x-auth-subject"] == "bob")
        if let ttl = a["ttl"]?.numberValue?.int64 {
            #expect(ttl > 0 && ttl <= 300)
        } else {
            Issue.record("an allow bounded by exp carries a ttl")
        }
    }

    @Test func unknownAppIsRefusedWithoutPlugin() throws {
        let d = try DaemonUnderTest(apps: Self.specApps)
        let a = try d.check(app: "nope")
        #expect(a["status"] == 403)
        #expect(a["reason"] == "unknown_app")
        #expect(a["plugin"] == nil)
    }

    @Test func thousandsOfPipelinedLinesAnswerInOrder() throws {
        let d = try DaemonUnderTest(apps: Self.specApps)
        let token = try mintToken(secret: Self.secret)
        let c = try d.client()
        let n = 5000
        var batch = ""
        for i in 0..<n {
            switch i % 4 {
            case 0: batch += "{\"id\":\(i),\"app\":\"antmedia\",\"remote_addr\":\"127.0.0.1\"}\n"
            case 1: batch += "{\"id\":\(i),\"app\":\"antmedia\",\"remote_addr\":\"192.0.2.1\"}\n"
            case 2: batch += "{\"id\":\(i),\"app\":\"antmediajwt\",\"remote_addr\":\"127.0.0.1\",\"headers\":{\"authorization\":\"\(token)\"}}\n"
            default: batch += "{\"id\":\(i),\"op\":\"ping\"}\n"
            }
        }
        try c.send(batch)  // one write
        for i in 0..<n {
            let a = try c.readJSON()
            #expect(a["id"] == .number(JSONNumber(i)))
            if i % 4 == 1 { #expect(a["allow"] == .bool(false)) }
            if i % 4 == 0 || i % 4 == 2 { #expect(a["allow"] == .bool(true)) }
            if i % 4 == 3 { #expect(a["ok"] == .bool(true)) }
        }
    }

    @Test func aClientThatWritesFasterThanItReadsLosesNothing() throws {
        let d = try DaemonUnderTest(apps: Self.specApps)
        let c = try d.client()
        let n = 100_000
        var batch = [UInt8]()
        for i in 0..<n { batch += Array("{\"id\":\(i),\"app\":\"antmedia\",\"remote_addr\":\"127.0.0.1\"}\n".utf8) }
        // The writer blocks whenever the daemon stops reading (its answers are not read yet);
        // the reader below drains them, so everything must arrive, in order.
        let payload = batch
        let writer = Thread { try? c.send(bytes: payload) }
        writer.start()
        var inOrder = 0
        for i in 0..<n {
            guard let a = try? c.readJSON() else { break }
            if a["id"] == .number(JSONNumber(i)) && a["allow"] == .bool(true) { inOrder += 1 }
        }
        #expect(inOrder == n)
    }

    @Test func answersPipelinedBehindAWaitingDecisionArriveInOrder() throws {
        // One request waits for keys (a provider that never answers, fetch_timeout 2); thousands
        // of lines behind it must wait, with reading paused past a bound, and all be answered.
        let provider = try HangingListener()
        var apps = Self.specApps
        apps["idp"] = provider.jwksApp(fetchTimeout: 2)
        let d = try DaemonUnderTest(apps: apps)
        let c = try d.client()
        let n = 20_000
        var batch = Array("{\"id\":0,\"app\":\"idp\",\"remote_addr\":\"127.0.0.1\",\"headers\":{\"authorization\":\"Bearer \(unverifiableRS256Token)\"}}\n".utf8)
        for i in 1...n { batch += Array("{\"id\":\(i),\"op\":\"ping\"}\n".utf8) }
        let payload = batch
        let writer = Thread { try? c.send(bytes: payload) }
        writer.start()
        let first = try c.readJSON()
        #expect(first["id"] == 0)
        #expect(first["reason"] == "jwks_unavailable")
        var inOrder = 0
        for i in 1...n {
            guard let a = try? c.readJSON() else { break }
            if a["id"] == .number(JSONNumber(i)) { inOrder += 1 }
        }
        #expect(inOrder == n)
    }

    @Test func aLastLineWithoutNewlineIsAnsweredOnHalfClose() throws {
        let d = try DaemonUnderTest(apps: Self.specApps)
        let c = try d.client()
        try c.send("{\"id\":1,\"op\":\"ping\"}\n{\"id\":2,\"app\":\"antmedia\",\"remote_addr\":\"127.0.0.1\"}")
        c.shutdownWrite()
        #expect(try c.readJSON()["id"] == 1)
        let last = try c.readJSON()
        #expect(last["id"] == 2)
        #expect(last["allow"] == .bool(true))
        #expect(c.readLine() == nil)
    }

    @Test func aFailedReloadLeavesNoKeySourceBehind() throws {
        let provider = try HangingListener()
        let d = try DaemonUnderTest(apps: Self.specApps)
        try d.dir.write("apps.d/zbad.toml", provider.jwksApp(fetchTimeout: 1) + """


            [[chain]]
            plugin = "ip_allowlist"
            allow = []
            """)
        d.reload()
        #expect(eventually { (try? d.stats()["last_reload_error"]?.stringValue)?.contains("zbad.toml") == true })
        #expect(try d.stats()["jwks"]?.arrayValue?.isEmpty == true)
    }

    @Test func badLinesGetTheirOwnAnswersAndTheConnectionGoesOn() throws {
        let d = try DaemonUnderTest(apps: Self.specApps)
        let c = try d.client()
        let bad: [(String, String)] = [
            ("not json", "bad_request"),
            ("[1,2,3]", "bad_request"),
            ("\"just a string\"", "bad_request"),
            ("{\"id\":1}", "bad_request"),                                    // no app
            ("{\"app\":42}", "bad_request"),                                  // wrong type
            ("{\"app\":\"antmedia\",\"headers\":{\"a\":1}}", "bad_request"),  // header not a string
            ("{\"app\":\"antmedia\",\"headers\":[]}", "bad_request"),
            ("{\"app\":\"antmedia\",\"remote_addr\":\"999.1.1.1\"}", "bad_request"),
            ("{\"app\":\"antmedia\",\"remote_addr\":\"127.0.0.1\\u0000evil\"}", "bad_request"),  // NUL inside
            ("{\"op\":\"reboot\"}", "bad_request"),
            ("{\"app\":\"antmedia\",\"remote_addr\":\"127.0.0.1\"", "bad_request"),  // truncated
            ("", "bad_request"),
            ("\u{1}\u{2}", "bad_request"),
        ]
        for (line, reason) in bad {
            try c.send(line + "\n")
            try c.send("{\"id\":\"after\",\"app\":\"antmedia\",\"remote_addr\":\"127.0.0.1\"}\r\n")
            let a = try c.readJSON()
            #expect(a["reason"] == .string(reason), "line: \(line)")
            #expect(a["status"] == 400)
            #expect(a["allow"] == .bool(false))
            #expect(a["plugin"] == nil)
            #expect(a["message"]?.stringValue?.isEmpty == false)
            let good = try c.readJSON()
            #expect(good["id"] == "after")
            #expect(good["allow"] == .bool(true))
        }
        // Invalid UTF-8 bytes.
        try c.send(bytes: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D, 0x0A])
        #expect(try c.readJSON()["reason"] == "bad_request")
        #expect(try c.ask("{\"id\":2,\"op\":\"ping\"}")["ok"] == .bool(true))
    }

    @Test func overlongLineIsSkippedToItsNewline() throws {
        let d = try DaemonUnderTest(main: "", apps: Self.specApps)
        let c = try d.client()
        let huge = "{\"app\":\"antmedia\",\"path\":\"/" + String(repeating: "a", count: 70_000) + "\"}"
        // Sent in pieces so the limit is crossed across reads.
        let bytes = Array((huge + "\n" + "{\"id\":9,\"op\":\"ping\"}\n").utf8)
        for chunk in stride(from: 0, to: bytes.count, by: 8192) {
            try c.send(bytes: Array(bytes[chunk..<min(chunk + 8192, bytes.count)]))
        }
        let a = try c.readJSON()
        #expect(a["reason"] == "line_too_long")
        #expect(a["status"] == 400)
        #expect(try c.readJSON()["id"] == 9)
    }

    @Test func maxLineBytesIsConfigurable() throws {
        let d = try DaemonUnderTest(main: "max_line_bytes = 300\n", apps: Self.specApps)
        let c = try d.client()
        let long = "{\"app\":\"antmedia\",\"remote_addr\":\"127.0.0.1\",\"path\":\"/" + String(repeating: "b", count: 400) + "\"}"
        #expect(try c.ask(long)["reason"] == "line_too_long")
        #expect(try c.ask("{\"app\":\"antmedia\",\"remote_addr\":\"127.0.0.1\"}")["allow"] == .bool(true))
    }

    /// Found by Fuzz/FuzzLineFramer: a last line one byte over the limit, sent without its
    /// newline before the client half-closed, was answered as a request.
    @Test func aLastLineOverTheLimitIsTooLongOnHalfClose() throws {
        let d = try DaemonUnderTest(main: "max_line_bytes = 300\n", apps: Self.specApps)
        let c = try d.client()
        let head = "{\"op\":\"ping\",\"path\":\"/"
        let line = head + String(repeating: "b", count: 301 - head.utf8.count - 2) + "\"}"
        #expect(line.utf8.count == 301)
        try c.send(line)
        c.shutdownWrite()
        let a = try c.readJSON()
        #expect(a["reason"] == "line_too_long")
        #expect(a["status"] == 400)
        #expect(c.readLine() == nil)
    }

    @Test func severalAppsDecideIndependently() throws {
        let other = "another-secret-that-is-32-bytes-long!"
        var apps = Self.specApps
        apps["second"] = """
            [[chain]]
            plugin = "jwt_hmac"
            secret = "\(other)"
            """
        let d = try DaemonUnderTest(main: """
            [apps.inline]
            chain = [ { plugin = "ip_allowlist", allow = ["::1"] } ]
            """, apps: apps)
        let t1 = try mintToken(secret: Self.secret)
        let t2 = try mintToken(secret: other)
        #expect(try d.check(app: "second", headers: ["authorization": t2])["allow"] == .bool(true))
        #expect(try d.check(app: "second", headers: ["authorization": t1])["reason"] == "bad_signature")
        #expect(try d.check(app: "antmediajwt", headers: ["authorization": t2])["reason"] == "bad_signature")
        #expect(try d.check(app: "inline", ip: "::1")["allow"] == .bool(true))
        #expect(try d.check(app: "inline", ip: "127.0.0.1")["allow"] == .bool(false))
        let stats = try d.stats()
        #expect(stats["apps"]?["second"]?["allowed"] == 1)
        #expect(stats["apps"]?["second"]?["denied"] == 1)
        #expect(stats["uptime_seconds"]?.numberValue != nil)
    }

    @Test func peerWhoseUIDIsNotAllowedIsRefused() throws {
        let me = getuid()
        let d = try DaemonUnderTest(main: "allowed_uids = [\(me == 4242 ? 4343 : 4242)]\n", apps: Self.specApps,
                                    waitForSocket: false)
        #expect(eventually { FileManager.default.fileExists(atPath: d.socketPath) })
        usleep(200_000)
        let c = try d.client()
        try? c.send("{\"op\":\"ping\"}\n")
        #expect(c.readLine() == nil)
        let allowed = try DaemonUnderTest(main: "allowed_uids = [\(me)]\n", apps: Self.specApps)
        #expect(try allowed.client().ask("{\"op\":\"ping\"}")["ok"] == .bool(true))
    }

    @Test func maxConnectionsIsEnforced() throws {
        let d = try DaemonUnderTest(main: "max_connections = 2\n", apps: Self.specApps)
        // The start-up ping's connection may not be counted out yet: retry until two are held.
        func answeringClient() -> LineClient? {
            var held: LineClient?
            _ = eventually {
                guard let c = try? LineClient(path: d.socketPath, timeout: 2),
                      (try? c.ask("{\"op\":\"ping\"}"))?["ok"] == .bool(true) else { return false }
                held = c
                return true
            }
            return held
        }
        let a = try #require(answeringClient())
        let b = try #require(answeringClient())
        _ = b
        let c = try d.client()
        try? c.send("{\"op\":\"ping\"}\n")
        #expect(c.readLine() == nil)
        #expect(try a.ask("{\"op\":\"ping\"}")["ok"] == .bool(true))
    }

    @Test func socketModeIsAppliedAndStaleSocketReplaced() throws {
        let dir = try TempDirectory("stale")
        let path = dir.file("s.sock")
        // A stale socket file left by a crashed daemon.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(fd)
        #expect(FileManager.default.fileExists(atPath: path))
        let d = try DaemonUnderTest(main: "[server]\nsocket = \"\(path)\"\nsocket_mode = \"0600\"\n", apps: Self.specApps,
                                    socketPath: path)
        _ = d
        var st = stat()
        #expect(lstat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect(try LineClient(path: path).ask("{\"op\":\"ping\"}")["ok"] == .bool(true))
    }

    @Test func sigtermExitsZeroAndRemovesTheSocket() throws {
        let d = try DaemonUnderTest(apps: Self.specApps)
        #expect(d.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: d.socketPath))
    }

    @Test func reloadAppliesGoodConfigurationAndKeepsOldOnError() throws {
        let d = try DaemonUnderTest(apps: Self.specApps)
        #expect(try d.check(app: "antmedia", ip: "192.0.2.1")["allow"] == .bool(false))
        try d.dir.write("apps.d/antmedia.toml", """
            [[chain]]
            plugin = "ip_allowlist"
            allow = ["127.0.0.1", "192.0.2.0/24"]
            """)
        d.reload()
        #expect(eventually { (try? d.check(app: "antmedia", ip: "192.0.2.1")["allow"]) == .bool(true) })
        // A broken file: the old configuration keeps serving, stats name the error.
        try d.dir.write("apps.d/antmedia.toml", """
            [[chain]]
            plugin = "ip_allowlist"
            allow = []
            """)
        d.reload()
        #expect(eventually { (try? d.stats()["last_reload_error"]?.stringValue)?.contains("antmedia.toml:3") == true })
        #expect(try d.check(app: "antmedia", ip: "192.0.2.1")["allow"] == .bool(true))
        #expect(d.process.isRunning)
    }
}
