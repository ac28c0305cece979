import AuthzJSON
import Foundation
import Testing

/// The command line of SPEC §2 through the real binary.
@Suite("authzd command line")
struct CLIEndToEndTests {
    @Test func checkConfigAcceptsTheExampleConfiguration() throws {
        let r = try runCommand(try TestEnvironment.binary("authzd"),
                               ["check-config", "--config", TestEnvironment.packageRoot.appendingPathComponent("deploy/authzd.toml").path])
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test func checkConfigNamesFileAndLineOfEachError() throws {
        let dir = try TempDirectory("cc")
        let main = try dir.write("authzd.toml", """
            [server]
            socket = "/tmp/x.sock"
            max_lines = 3

            [log]
            decisions = "some"
            """)
        try dir.write("apps.d/short.toml", """
            [[chain]]
            plugin = "jwt_hmac"
            secret = "only-31-bytes-long-secret-xxxxx"
            """)
        try dir.write("apps.d/typo.toml", """
            [[chain]]
            plugin = "ip_allowlist"
            alow = ["127.0.0.1"]
            """)
        try dir.write("apps.d/unknown.toml", """
            # comment

            [[chain]]
            plugin = "ldap"
            """)
        try dir.write("apps.d/empty.toml", "# nothing here\n")
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["check-config", "--config", main])
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("\(main):3: ") && $0.contains("max_lines") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(main):6: ") && $0.contains("decisions") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix(dir.file("apps.d/short.toml") + ":3: ") && $0.contains("32") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix(dir.file("apps.d/typo.toml") + ":3: ") && $0.contains("alow") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix(dir.file("apps.d/unknown.toml") + ":4: ") && $0.contains("ldap") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix(dir.file("apps.d/empty.toml") + ":") && $0.contains("no [[chain]]") }, "\(lines)")
    }

    @Test func checkConfigReportsTOMLSyntaxWithLine() throws {
        let dir = try TempDirectory("cc")
        let main = try dir.write("authzd.toml", "[server]\nsocket = \"/tmp/a.sock\"\nmax_connections = = 3\n")
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["check-config", "--config", main])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("\(main):3: "))
    }

    @Test func mintedTokenInspectsWithTypedClaims() throws {
        let token = try mintToken(secret: "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq", claims: ["sub=alice", "exp=1700000000", "admin=true", "n=1.5"], kid: "k1")
        let parts = token.split(separator: ".")
        #expect(parts.count == 3)
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["token", "inspect", token])
        #expect(r.status == 0)
        #expect(r.stdout.contains("UNVERIFIED"))
        #expect(r.stdout.contains("\"exp\": 1700000000"))
        #expect(r.stdout.contains("\"admin\": true"))
        #expect(r.stdout.contains("\"sub\": \"alice\""))
        #expect(r.stdout.contains("\"kid\": \"k1\""))
    }

    @Test func queryExitsZeroOnAllowAndOneOnDeny() throws {
        let d = try DaemonUnderTest(apps: CoreEndToEndTests.specApps)
        let bin = try TestEnvironment.binary("authzd")
        let token = try mintToken(secret: CoreEndToEndTests.secret)
        let allow = try runCommand(bin, ["query", "--socket", d.socketPath, "--app", "antmediajwt", "--ip", "127.0.0.1", "--token", token])
        #expect(allow.status == 0)
        #expect(try JSONParser.parse(allow.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["allow"] == .bool(true))
        let deny = try runCommand(bin, ["query", "--socket", d.socketPath, "--app", "antmediajwt", "--ip", "127.0.0.1"])
        #expect(deny.status == 1)
        #expect(deny.stdout.contains("no_token"))
    }

    @Test func mintRefusesAnAbsurdLifetimeWithoutCrashing() throws {
        let r = try runCommand(try TestEnvironment.binary("authzd"),
                               ["token", "mint", "--secret", "x", "--expires-in", "9223372036854775807"])
        #expect(r.status == 64, "\(r.stderr)")   // ArgumentParser's validation error, not a trap
        #expect(r.stderr.contains("expires-in"))
    }

    @Test func shimUnixListenSocketGetsTheRequestedMode() throws {
        let dir = try TempDirectory("shim")
        let path = dir.file("shim.sock")
        let shim = try ChildProcess(try TestEnvironment.binary("authzd-nginx"),
                                    ["--upstream", dir.file("absent.sock"), "--listen", "unix:\(path)", "--listen-mode", "0606"],
                                    logPath: dir.file("shim.log"))
        #expect(eventually { FileManager.default.fileExists(atPath: path) }, "\(shim.log)")
        var st = stat()
        #expect(eventually { lstat(path, &st) == 0 && st.st_mode & 0o777 == 0o606 })
        let bad = try runCommand(try TestEnvironment.binary("authzd-nginx"),
                                 ["--upstream", "x", "--listen", "unix:\(path)2", "--listen-mode", "999"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--listen-mode"))
    }

    @Test func versionPrintsAVersion() throws {
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["version"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("authzd "))
    }
}
