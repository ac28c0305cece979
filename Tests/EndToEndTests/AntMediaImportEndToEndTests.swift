import AuthzJSON
import Foundation
import Testing

/// `authzd import antmedia` through the real binary, on an Ant Media style webapps tree, then
/// `authzd check-config` and `authzd serve` on what it wrote.
@Suite("authzd import antmedia")
struct AntMediaImportEndToEndTests {
    static let secret = "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq-import1"
    static let legacySecret = "legacy-spelling-secret-of-40-bytes-xxxxx"

    /// A webapps tree with one app of each kind, one broken app (a short secret on line 3), and
    /// Ant Media's `root`, which is not an app; plus a main configuration with an empty apps.d.
    final class Fixture {
        let dir: TempDirectory
        let config: String
        let webapps: String
        var appsDir: String { dir.file("apps.d") }

        init() throws {
            dir = try TempDirectory("amimport")
            config = try dir.write("authzd.toml", "[server]\nsocket = \"\(dir.file("authzd.sock"))\"\napps_dir = \"apps.d\"\n")
            try FileManager.default.createDirectory(atPath: dir.file("apps.d"), withIntermediateDirectories: true)
            webapps = dir.file("webapps")
            try app("Defaults", "# Ant Media's defaults: IP filter on, 127.0.0.1 only\nserver.name=Defaults\n")
            try app("Internal", "ipFilterEnabled=true\nremoteAllowedCIDR=10.0.0.0/8, \\\n    127.0.0.1\n")
            try app("LiveApp", "remoteAllowedCIDR=127.0.0.1,10.0.0.0/8\njwtControlEnabled=true\njwtSecretKey=\(AntMediaImportEndToEndTests.secret)\n")
            try app("Idp", "ipFilterEnabled=false\njwtControlEnabled=TRUE\njwksURL=https://idp.example.com/.well-known/jwks.json\n")
            try app("Legacy", """
                settings.ipFilterEnabled=true
                settings.remoteAllowedCIDR=192.168.0.0/16
                settings.jwtControlEnabled=true
                settings.jwtSecretKey=\(AntMediaImportEndToEndTests.legacySecret)
                """)
            try app("Broken", "jwtControlEnabled=true\n# the secret is too short for HS256\njwtSecretKey=short-secret\n")
            try dir.write("webapps/root/index.html", "<html></html>\n")
        }

        func app(_ name: String, _ properties: String) throws {
            try dir.write("webapps/\(name)/WEB-INF/red5-web.properties", properties)
        }

        func run(_ extra: [String] = []) throws -> CommandResult {
            try runCommand(try TestEnvironment.binary("authzd"), ["import", "antmedia", "--webapps", webapps, "--config", config] + extra)
        }

        func appFile(_ name: String) -> String { dir.file("apps.d/\(name).toml") }

        func contents(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: appFile(name))) }

        func files() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: appsDir).sorted() }

        func status(_ name: String) -> (mode: Int, inode: UInt64) {
            guard let a = try? FileManager.default.attributesOfItem(atPath: appFile(name)),
                  let mode = a[.posixPermissions] as? Int, let inode = a[.systemFileNumber] as? UInt64 else { return (-1, 0) }
            return (mode, inode)
        }
    }

    static let importedApps = ["Defaults", "Idp", "Internal", "Legacy", "LiveApp"]

    @Test func importChecksIsIdempotentAndDryRunHidesTheSecret() throws {
        let f = try Fixture()
        let bin = try TestEnvironment.binary("authzd")

        // First run: every good app is written, the broken one is refused at its line.
        let first = try f.run()
        #expect(first.status == 1, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stderr.contains(f.webapps + "/Broken/WEB-INF/red5-web.properties:3: jwtSecretKey is 12 bytes"), "\(first.stderr)")
        #expect(!first.stderr.contains("short-secret"))
        #expect(first.stderr.contains("1 app not imported"))
        for name in Self.importedApps {
            #expect(first.stdout.contains("\(name): created \(f.appFile(name))"), "\(first.stdout)")
        }
        #expect(first.stdout.contains("5 of 6 apps imported (5 created, 0 updated, 0 unchanged)"))
        #expect(try f.files() == Self.importedApps.map { "\($0).toml" }, "nothing for Broken or root, no temporary files")
        #expect(f.status("LiveApp").mode == 0o640)
        #expect(f.status("Legacy").mode == 0o640)
        #expect(f.status("Defaults").mode == 0o644)
        #expect(f.status("Idp").mode == 0o644)
        #expect(String(decoding: try f.contents("Defaults"), as: UTF8.self).contains("allow = [\"127.0.0.1\"]"))
        #expect(String(decoding: try f.contents("Internal"), as: UTF8.self).contains("allow = [\"10.0.0.0/8\", \"127.0.0.1\"]"))
        #expect(String(decoding: try f.contents("Idp"), as: UTF8.self).contains("url = \"https://idp.example.com/.well-known/jwks.json\""))
        #expect(String(decoding: try f.contents("Legacy"), as: UTF8.self).contains("secret = \"\(Self.legacySecret)\""))

        // What it wrote passes check-config together with the main file.
        let check = try runCommand(bin, ["check-config", "--config", f.config])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("ok (5 apps, 7 chain steps)"), "\(check.stdout)")

        // Second run: byte-identical, reported unchanged, not rewritten.
        let before = try Self.importedApps.map { try f.contents($0) }
        let inodes = Self.importedApps.map { f.status($0).inode }
        let second = try f.run()
        #expect(second.status == 1)
        for name in Self.importedApps {
            #expect(second.stdout.contains("\(name): unchanged \(f.appFile(name))"), "\(second.stdout)")
        }
        #expect(try Self.importedApps.map { try f.contents($0) } == before)
        #expect(Self.importedApps.map { f.status($0).inode } == inodes)

        // Fixing the broken app: it is written, the run succeeds.
        try f.app("Broken", "jwtControlEnabled=true\n# now long enough\njwtSecretKey=\(Self.secret)-broken-no-more\n")
        let third = try f.run()
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stdout.contains("Broken: created"))
        #expect(third.stdout.contains("6 of 6 apps imported (1 created, 0 updated, 5 unchanged)"), "\(third.stdout)")

        // Dry run after a change: says what would change, shows the file, never the secret,
        // writes nothing.
        try f.app("Internal", "remoteAllowedCIDR=10.0.0.0/8\n")
        let internalBefore = try f.contents("Internal")
        let dry = try f.run(["--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("--- \(f.appFile("Internal")) (would update, mode 0644)"), "\(dry.stdout)")
        #expect(dry.stdout.contains("--- \(f.appFile("LiveApp")) (unchanged, mode 0640)"))
        #expect(dry.stdout.contains("allow = [\"10.0.0.0/8\"]"))
        #expect(dry.stdout.contains("secret = \"********\"    # 40 bytes, not shown"))
        #expect(!dry.stdout.contains(Self.secret))
        #expect(!dry.stdout.contains(Self.legacySecret))
        #expect(!dry.stderr.contains(Self.secret))
        #expect(dry.stdout.contains("6 of 6 apps would be imported (0 would create, 1 would update, 5 unchanged)"))
        #expect(try f.contents("Internal") == internalBefore)
    }

    @Test func anImportedAppDecidesAsAntMediaWould() throws {
        let f = try Fixture()
        let out = try TempDirectory("amout")
        let r = try runCommand(try TestEnvironment.binary("authzd"),
                               ["import", "antmedia", "--webapps", f.webapps, "--out", out.path])
        #expect(r.status == 1)  // Broken
        let liveApp = try String(contentsOfFile: out.file("LiveApp.toml"), encoding: .utf8)
        let internalApp = try String(contentsOfFile: out.file("Internal.toml"), encoding: .utf8)
        let d = try DaemonUnderTest(apps: ["LiveApp": liveApp, "Internal": internalApp])
        let token = try mintToken(secret: Self.secret, claims: ["sub=alice"])
        let auth = ["authorization": token]

        #expect(try d.check(app: "LiveApp", ip: "10.1.2.3", headers: auth)["allow"]?.boolValue == true)
        #expect(try d.check(app: "LiveApp", ip: "127.0.0.1", headers: auth)["allow"]?.boolValue == true)
        let noToken = try d.check(app: "LiveApp", ip: "10.1.2.3")
        #expect(noToken["reason"]?.stringValue == "no_token")
        let outside = try d.check(app: "LiveApp", ip: "192.168.1.1", headers: auth)
        #expect(outside["reason"]?.stringValue == "ip_not_allowed")
        let wrongKey = try mintToken(secret: Self.legacySecret)
        #expect(try d.check(app: "LiveApp", ip: "10.1.2.3", headers: ["authorization": wrongKey])["reason"]?.stringValue == "bad_signature")
        #expect(try d.check(app: "Internal", ip: "127.0.0.1")["allow"]?.boolValue == true)
        #expect(try d.check(app: "Internal", ip: "172.16.0.1")["reason"]?.stringValue == "ip_not_allowed")
        #expect(d.stop() == 0)
    }

    @Test func whatCannotBeReadStopsTheRunWithAPlainMessage() throws {
        let f = try Fixture()
        let bin = try TestEnvironment.binary("authzd")
        let noWebapps = try runCommand(bin, ["import", "antmedia", "--webapps", f.dir.file("nope"), "--config", f.config])
        #expect(noWebapps.status == 66)
        #expect(noWebapps.stderr.hasPrefix("authzd import antmedia: cannot list \(f.dir.file("nope"))"), "\(noWebapps.stderr)")

        let empty = try TempDirectory("amempty")
        let noApps = try runCommand(bin, ["import", "antmedia", "--webapps", empty.path, "--config", f.config])
        #expect(noApps.status == 1)
        #expect(noApps.stderr.contains("no Ant Media apps in"))

        let noConfig = try runCommand(bin, ["import", "antmedia", "--webapps", f.webapps, "--config", f.dir.file("missing.toml")])
        #expect(noConfig.status == 66)
        #expect(noConfig.stderr.contains("give --out DIR"), "\(noConfig.stderr)")

        let noOut = try runCommand(bin, ["import", "antmedia", "--webapps", f.webapps, "--out", f.dir.file("absent")])
        #expect(noOut.status == 1)
        #expect(noOut.stderr.contains("is not a directory"))
        #expect(try f.files().isEmpty)
    }

    @Test func anAppDefinedInlineIsNotImportedBesideIt() throws {
        let f = try Fixture()
        try "[server]\nsocket = \"\(f.dir.file("authzd.sock"))\"\n\n[apps.Defaults]\nchain = [ { plugin = \"ip_allowlist\", allow = [\"::1\"] } ]\n"
            .write(toFile: f.config, atomically: true, encoding: .utf8)
        let r = try f.run()
        #expect(r.status == 1)
        #expect(r.stderr.contains("Defaults/WEB-INF/red5-web.properties:0: app Defaults is already defined inline"), "\(r.stderr)")
        #expect(!(try f.files().contains("Defaults.toml")))
        let check = try runCommand(try TestEnvironment.binary("authzd"), ["check-config", "--config", f.config])
        #expect(check.status == 0, "\(check.stderr)")
    }

    @Test func aFileNotWrittenByTheImporterIsKeptAsItIs() throws {
        let f = try Fixture()
        try f.app("Broken", "ipFilterEnabled=true\n")
        let handWritten = "# by hand\n[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n"
        try handWritten.write(toFile: f.appFile("LiveApp"), atomically: true, encoding: .utf8)
        let r = try f.run()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("LiveApp: kept \(f.appFile("LiveApp")) (not written by the importer"), "\(r.stdout)")
        #expect(r.stdout.contains("5 of 6 apps imported (5 created, 0 updated, 0 unchanged, 1 kept as written by hand)"), "\(r.stdout)")
        #expect(try String(contentsOfFile: f.appFile("LiveApp"), encoding: .utf8) == handWritten)

        // An imported file whose first line was deleted has been taken over: also kept.
        let internalText = try String(contentsOfFile: f.appFile("Internal"), encoding: .utf8)
        let takenOver = String(internalText.split(separator: "\n", maxSplits: 1)[1])
        try takenOver.write(toFile: f.appFile("Internal"), atomically: true, encoding: .utf8)
        try f.app("Internal", "remoteAllowedCIDR=172.16.0.0/12\n")
        let again = try f.run()
        #expect(again.status == 0)
        #expect(again.stdout.contains("Internal: kept"))
        #expect(try String(contentsOfFile: f.appFile("Internal"), encoding: .utf8) == takenOver)
    }
}
