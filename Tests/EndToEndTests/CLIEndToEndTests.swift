import AuthzCrypto
import AuthzJSON
import Foundation
import JOSE
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
                               ["token", "mint", "--secret", CoreEndToEndTests.secret, "--expires-in", "9223372036854775807"])
        #expect(r.status == 64, "\(r.stderr)")   // a usage error, not a trap
        #expect(r.stderr.hasPrefix("authzd token mint: --expires-in"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
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
    @Test func versionFlagPrintsWhatVersionPrints() throws {
        let bin = try TestEnvironment.binary("authzd")
        let command = try runCommand(bin, ["version"])
        let flag = try runCommand(bin, ["--version"])
        #expect(flag.status == 0, "\(flag.stderr)")
        #expect(flag.stdout == command.stdout)
        #expect(flag.stdout.hasPrefix("authzd "))
    }

    // MARK: check-config lists everything

    @Test func checkConfigListsEveryErrorInFileAndLineOrderThenACount() throws {
        let dir = try TempDirectory("cc")
        let main = try dir.write("authzd.toml", """
            [server]
            sokcet = "/tmp/x.sock"
            socket_mode = "rw-rw----"
            max_line_bytes = "big"

            [log]
            level = "loud"
            """)
        try dir.write("apps.d/b.toml", """
            [[chain]]
            plugin = "ip_allowlist"
            alow = ["::1"]
            allow = ["10.0.0.1/8"]

            [[chain]]
            plugin = "jwt_hmac"
            leeway = "5"
            secret = "short"
            """)
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"ldap\"\ncontrol = \"maybe\"\n")
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["check-config", "--config", main])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let expected = [
            (main, 2, "sokcet"), (main, 3, "socket_mode"), (main, 4, "max_line_bytes"), (main, 7, "log.level"),
            (dir.file("apps.d/a.toml"), 2, "ldap"), (dir.file("apps.d/a.toml"), 3, "maybe"),
            (dir.file("apps.d/b.toml"), 3, "alow"), (dir.file("apps.d/b.toml"), 4, "host bits"),
            (dir.file("apps.d/b.toml"), 8, "leeway"), (dir.file("apps.d/b.toml"), 9, "5 bytes"),
        ]
        #expect(lines.count == expected.count + 1, "\(lines)")
        for (line, e) in zip(lines, expected) {
            #expect(line.hasPrefix("\(e.0):\(e.1): ") && line.contains(e.2), "\(line) should be \(e)")
        }
        #expect(lines.last == "10 configuration errors in 3 files", "\(lines)")
    }

    @Test func checkConfigKeepsEachErrorOnOneLineWhateverTheNames() throws {
        let dir = try TempDirectory("cc")
        // The main file's own name holds a newline, and so do an app file's name and a key.
        let main = try dir.write("odd\nname.toml", "[server]\n\"evil\\nkey\" = 1\napps_dir = \"apps\"\n")
        try dir.write("apps/x\ny.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        try dir.write("apps/esc\u{1B}[2J.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["check-config", "--config", main])
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 5 && lines.last == "", "three errors, a count, and the final newline: \(lines)")
        let shownMain = dir.path + "/odd\\nname.toml"
        #expect(lines.first == "\(shownMain):2: unknown key server.evil\\nkey", "\(lines)")
        #expect(lines.contains { $0.hasPrefix(dir.path + "/apps/x\\ny.toml:1: \"x\\ny\" is not a valid app name") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix(dir.path + "/apps/esc\\x1B[2J.toml:1: ") }, "\(lines)")
        #expect(!r.stderr.contains("\u{1B}"))
        #expect(lines.dropLast().last == "3 configuration errors in 3 files", "\(lines)")
    }

    @Test func checkConfigRefusesAnAppNameTheShimWouldNotSend() throws {
        let dir = try TempDirectory("cc")
        let main = try dir.write("authzd.toml", "")
        let long = String(repeating: "a", count: 65)
        try dir.write("apps.d/\(long).toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        try dir.write("apps.d/ok.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["check-config", "--config", main])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix(dir.file("apps.d/\(long).toml") + ":1: "), "\(r.stderr)")
        #expect(r.stderr.contains("1 to 64"))
    }

    @Test func serveWithAnInvalidConfigurationListsEveryErrorAndDoesNotStart() throws {
        let dir = try TempDirectory("sv")
        let socket = dir.file("authzd.sock")
        let main = try dir.write("authzd.toml", """
            [server]
            socket = "\(socket)"
            max_connections = 0
            [apps.a]
            chain = [{ plugin = "ip_allowlist", allow = ["10.0.0.1/8"] }]
            [apps.b]
            chain = [{ plugin = "jwt_hmac", secret = "short" }]
            """)
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["serve", "--config", main])
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(lines)")
        #expect(lines.first?.hasPrefix("\(main):3: ") == true, "\(lines)")
        #expect(lines.dropFirst().first?.hasPrefix("\(main):5: ") == true, "\(lines)")
        #expect(lines.dropFirst(2).first?.hasPrefix("\(main):7: ") == true, "\(lines)")
        #expect(lines.last == "3 configuration errors in 1 file")
        #expect(!FileManager.default.fileExists(atPath: socket), "nothing was bound")
    }

    // MARK: token mint

    @Test(arguments: [("HS256", 31), ("HS384", 47), ("HS512", 63)])
    func mintRefusesASecretShorterThanItsHash(alg: String, length: Int) throws {
        let bin = try TestEnvironment.binary("authzd")
        let short = String(repeating: "k", count: length)
        let r = try runCommand(bin, ["token", "mint", "--alg", alg, "--secret", short])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stdout.isEmpty, "no token is printed")
        #expect(r.stderr == "authzd token mint: --secret is \(length) bytes; \(alg) needs at least \(length + 1), as in the configuration\n")
        #expect(!r.stderr.contains(short), "the secret is never echoed")
        let ok = try runCommand(bin, ["token", "mint", "--alg", alg, "--secret", short + "k"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.split(separator: ".").count == 3)
    }

    @Test func mintReadsASecretFileLikeTheConfigurationDoes() throws {
        let dir = try TempDirectory("mint")
        let bin = try TestEnvironment.binary("authzd")
        let secret = CoreEndToEndTests.secret
        let file = try dir.write("app.key", secret + "\n")
        let r = try runCommand(bin, ["token", "mint", "--secret-file", file, "--claim", "sub=alice"])
        #expect(r.status == 0, "\(r.stderr)")
        // The trailing newline is not part of the key: the token verifies with the bare secret.
        let jws = try CompactJWS.parse(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(JWSVerifier.verify(jws, hmac: HMACKey(algorithm: .sha256, key: Array(secret.utf8))))

        // As in the configuration, CRLF is one line ending too; only one is dropped.
        let crlf = try dir.write("crlf.key", secret + "\r\n")
        let fromCRLF = try runCommand(bin, ["token", "mint", "--secret-file", crlf])
        #expect(fromCRLF.status == 0, "\(fromCRLF.stderr)")
        let crlfJWS = try CompactJWS.parse(fromCRLF.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(JWSVerifier.verify(crlfJWS, hmac: HMACKey(algorithm: .sha256, key: Array(secret.utf8))))
        let twoNewlines = try dir.write("two.key", secret + "\n\n")
        let fromTwo = try runCommand(bin, ["token", "mint", "--secret-file", twoNewlines])
        let twoJWS = try CompactJWS.parse(fromTwo.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(JWSVerifier.verify(twoJWS, hmac: HMACKey(algorithm: .sha256, key: Array((secret + "\n").utf8))))

        // 31 bytes and a newline is 31 bytes.
        let short = try dir.write("short.key", String(secret.dropLast()) + "\n")
        let refused = try runCommand(bin, ["token", "mint", "--secret-file", short])
        #expect(refused.status == 64)
        #expect(refused.stderr == "authzd token mint: the secret in \(short) is 31 bytes; HS256 needs at least 32, as in the configuration\n")
        #expect(refused.stdout.isEmpty)

        let missing = try runCommand(bin, ["token", "mint", "--secret-file", dir.file("absent.key")])
        #expect(missing.status == 66)
        #expect(missing.stderr.hasPrefix("authzd token mint: cannot open \(dir.file("absent.key")): "), "\(missing.stderr)")
        #expect(missing.stderr.split(separator: "\n").count == 1)
    }

    @Test(arguments: [
        [String](),
        ["--secret", "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq", "--secret-file", "/dev/null"],
        ["--secret", "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq", "--alg", "RS256"],
        ["--secret", "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq", "--claim", "novalue"],
    ])
    func mintArgumentErrorsAreOnePlainSentence(arguments: [String]) throws {
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["token", "mint"] + arguments)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("authzd token mint: "), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "no usage dump: \(r.stderr)")
    }

    // MARK: token inspect

    @Test(arguments: [
        ("abc", "three parts"),
        ("a.b", "this token has 2"),
        ("a.b.c.d.e", "encrypted"),
        ("-abc.e30.x", "header (part 1) is base64url but not JSON"),
        ("eyJh+bGciOiJIUzI1NiJ9.e30.x", "'+' (standard base64"),
        ("eyJhbGciOiJIUzI1NiJ9=.e30.x", "padding"),
        ("e30.bm90IGpzb24.x", "claims (part 2) is base64url but not JSON"),
        ("WzFd.e30.x", "header (part 1) is JSON but not an object"),
        (".e30.x", "header (part 1) is empty"),
        ("e30.e30.a*b", "signature (part 3) is not base64url"),
        ("e30.e30\u{1B}[2J.x", "'\\x1B'"),
        ("", "empty"),
    ])
    func inspectSaysWhatIsWrongWithAMalformedToken(token: String, problem: String) throws {
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["token", "inspect", token])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout.isEmpty, "nothing is printed as if it were a token: \(r.stdout)")
        #expect(r.stderr.hasPrefix("authzd token inspect: "), "\(r.stderr)")
        #expect(r.stderr.contains(problem), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one sentence, no usage: \(r.stderr)")
        #expect(!r.stderr.contains("\u{1B}"))
    }

    @Test func inspectTakesABearerHeaderValueAndAnUnsecuredToken() throws {
        let bin = try TestEnvironment.binary("authzd")
        let token = try mintToken(secret: CoreEndToEndTests.secret, claims: ["sub=alice"])
        for args in [["Bearer " + token], ["Bearer", token]] {
            let r = try runCommand(bin, ["token", "inspect"] + args)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("\"sub\": \"alice\""))
        }
        let unsecured = try runCommand(bin, ["token", "inspect", "eyJhbGciOiJub25lIn0.e30."])
        #expect(unsecured.status == 0, "\(unsecured.stderr)")
        #expect(unsecured.stdout.contains("no signature"))
        let two = try runCommand(bin, ["token", "inspect", token, token])
        #expect(two.status == 64)
        #expect(two.stderr == "authzd token inspect: give one token, not 2 arguments\n")
    }

    // MARK: query

    @Test func queryAgainstAMissingSocketSaysSoPlainly() throws {
        let dir = try TempDirectory("q")
        let path = dir.file("absent.sock")
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["query", "--socket", path, "--app", "web"])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "authzd query: cannot connect to \(path): no such file (is authzd running?)\n")
    }

    @Test func queryAgainstAFileThatIsNotListeningSaysSoPlainly() throws {
        let dir = try TempDirectory("q")
        let path = try dir.write("plain-file", "")
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["query", "--socket", path, "--app", "web"])
        #expect(r.status == 2)
        #expect(r.stderr == "authzd query: cannot connect to \(path): connection refused (is authzd running?)\n", "\(r.stderr)")
    }

    @Test func queryWithATooLongSocketPathSaysSo() throws {
        let path = "/tmp/" + String(repeating: "s", count: 120)
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["query", "--socket", path, "--app", "web"])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("authzd query: the socket path \(path) is 125 bytes; a Unix socket path holds at most 107"), "\(r.stderr)")
    }

    // MARK: the parser

    @Test(arguments: [
        (["token", "mint", "--secret", "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq", "--expires-in", "soon"], "--expires-in", "authzd token mint --help"),
        (["query", "--socket", "/tmp/x.sock"], "--app", "authzd query --help"),
        (["check-config", "--config"], "--config", "authzd check-config --help"),
        (["frobnicate"], "frobnicate", "authzd --help"),
    ])
    func anUnparsableCommandLineGetsOneSentenceAndExit64(arguments: [String], mention: String, help: String) throws {
        let r = try runCommand(try TestEnvironment.binary("authzd"), arguments)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("authzd: "), "\(r.stderr)")
        #expect(r.stderr.contains(mention) && r.stderr.hasSuffix("(see \(help))\n"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "no usage dump: \(r.stderr)")
    }

    @Test func helpStillPrintsUsage() throws {
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["token", "mint", "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("USAGE: authzd token mint"), "\(r.stdout)")
        #expect(r.stdout.contains("--secret-file"))
    }
}
