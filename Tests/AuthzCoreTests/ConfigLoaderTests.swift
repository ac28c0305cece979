import AuthzCore
import AuthzPlugins
import Foundation
import Testing

/// A fresh directory holding one configuration, removed when the test ends.
final class ConfigDir {
    let path: String
    /// The plugins the configuration may name.
    var registry = BuiltinPlugins.registry

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("authzd-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `relative` (creating folders), returning the full path.
    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        try write(relative, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ relative: String, bytes: [UInt8]) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
    }

    var main: String { path + "/authzd.toml" }

    func load() -> Result<Configuration, ConfigErrors> {
        let loader = ConfigLoader(registry: registry)
        do {
            return .success(try loader.load(path: main))
        } catch {
            return .failure(error)
        }
    }

    /// The configuration; records the errors as an issue when it does not load.
    func loaded(sourceLocation: SourceLocation = #_sourceLocation) -> Configuration? {
        switch load() {
        case .success(let c): return c
        case .failure(let e):
            Issue.record("configuration did not load:\n\(e)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// The errors; records an issue when the configuration loads.
    func errors(sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigError] {
        switch load() {
        case .success:
            Issue.record("configuration loaded but should not have", sourceLocation: sourceLocation)
            return []
        case .failure(let e): return e.errors
        }
    }

    /// Expects exactly one error, at `file` (relative) and `line`, whose message contains `text`.
    func expectError(_ file: String, line: Int, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let errs = errors(sourceLocation: sourceLocation)
        #expect(errs.count == 1, "\(errs)", sourceLocation: sourceLocation)
        guard let e = errs.first else { return }
        #expect(e.file == path + "/" + file, sourceLocation: sourceLocation)
        #expect(e.line == line, "\(e)", sourceLocation: sourceLocation)
        #expect(e.message.contains(text), "\(e)", sourceLocation: sourceLocation)
        #expect(e.description.hasPrefix("\(path)/\(file):\(line): "), sourceLocation: sourceLocation)
    }
}

/// A valid HS256 secret (32 bytes).
let secret32 = "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq"

/// Runs a chain to a decision (no plugin here pends).
func decide(_ chain: AppChain?, remoteAddr: String? = nil, headers: [(String, String)] = [],
            sourceLocation: SourceLocation = #_sourceLocation) -> Decision? {
    guard let chain else {
        Issue.record("no such app", sourceLocation: sourceLocation)
        return nil
    }
    let request = CheckRequest(app: chain.name, remoteAddr: remoteAddr, headers: Headers(headers))
    guard case .decided(let d) = chain.evaluate(request, now: 1_800_000_000) else {
        Issue.record("chain pended", sourceLocation: sourceLocation)
        return nil
    }
    return d
}

@Suite struct ConfigLoaderTests {
    @Test func theSpecMainFileLoadsWithItsDefaults() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", """
            [server]
            socket = "/run/authzd/authzd.sock"   # not used when systemd passes a socket (LISTEN_FDS)
            socket_mode = "0660"
            socket_group = ""                   # group that may connect, e.g. "www-data"
            allowed_uids = []                   # if non-empty, peers (SO_PEERCRED) with other uids are refused
            max_line_bytes = 65536
            max_connections = 1024
            apps_dir = "apps.d"                 # relative to this file; every *.toml in it is one app

            [log]
            target = "auto"                     # auto | journal | stderr; auto = journal when run by systemd
            level = "info"
            decisions = "deny"                  # none | deny | all
            """)
        try dir.write("apps.d/live.toml", """
            [[chain]]
            plugin = "ip_allowlist"
            allow = ["127.0.0.1"]
            """)
        let c = try #require(dir.loaded())
        #expect(c.server == ServerSettings())
        #expect(c.log == LogSettings())
        #expect(c.server.socketMode == 0o660)
        #expect(c.apps.keys.sorted() == ["live"])
    }

    @Test func theSpecAppExampleLoads() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/web.toml", """
            [[chain]]
            plugin = "ip_allowlist"
            control = "required"                 # required (default) | sufficient | optional
            allow = ["127.0.0.1", "::1", "10.0.0.0/8"]
            trusted_proxies = []                 # peers whose X-Forwarded-For is believed

            [[chain]]
            plugin = "jwt_hmac"
            control = "required"
            secret = "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq"   # or secret_file = "/etc/authzd/secrets/app.key"
            algorithms = ["HS256"]               # any of HS256 HS384 HS512
            """)
        let c = try #require(dir.loaded())
        let web = try #require(c.apps["web"])
        #expect(web.steps.map(\.pluginName) == ["ip_allowlist", "jwt_hmac"])
        #expect(web.steps.map(\.control) == [.required, .required])
        // Built, not just parsed: the address step refuses an outsider, the token step wants a token.
        #expect(decide(web, remoteAddr: "192.0.2.1")?.reason == .ipNotAllowed)
        #expect(decide(web, remoteAddr: "10.9.8.7")?.reason == .noToken)
    }

    @Test func theSpecChainExamplesLoadInlineAndBehaveAsDescribed() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", """
            [apps.antmedia]
            [[apps.antmedia.chain]]
            plugin = "ip_allowlist"
            allow = ["127.0.0.1"]

            [apps.antmedia_jwt]
            [[apps.antmedia_jwt.chain]]
            plugin = "ip_allowlist"
            control = "required"
            allow = ["127.0.0.1"]
            [[apps.antmedia_jwt.chain]]
            plugin = "jwt_hmac"
            control = "required"
            secret = "\(secret32)"

            [apps.internal_or_token]
            chain = [
              { plugin = "ip_allowlist", control = "sufficient", allow = ["10.0.0.0/8"] },
              { plugin = "jwt_hmac", control = "required", secret = "\(secret32)" },
            ]
            """)
        let c = try #require(dir.loaded())
        #expect(c.apps.keys.sorted() == ["antmedia", "antmedia_jwt", "internal_or_token"])
        #expect(decide(c.apps["antmedia"], remoteAddr: "127.0.0.1")?.allow == true)
        #expect(decide(c.apps["antmedia"], remoteAddr: "127.0.0.2")?.allow == false)
        #expect(decide(c.apps["antmedia_jwt"], remoteAddr: "127.0.0.1")?.reason == .noToken)
        #expect(decide(c.apps["internal_or_token"], remoteAddr: "10.1.1.1")?.allow == true)
        #expect(decide(c.apps["internal_or_token"], remoteAddr: "192.0.2.1")?.reason == .noToken)
    }

    @Test func controlDefaultsToRequired() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        #expect(dir.loaded()?.apps["a"]?.steps.first?.control == .required)
    }

    @Test func aMissingDefaultAppsDirIsFine() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "[log]\nlevel = \"debug\"\n")
        let c = try #require(dir.loaded())
        #expect(c.apps.isEmpty)
        #expect(c.log.level == .debug)
    }

    @Test func anExplicitMissingAppsDirIsAnError() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "\n[server]\napps_dir = \"nowhere\"\n")
        let errs = dir.errors()
        #expect(errs.count == 1)
        #expect(errs.first?.file == dir.main)
        #expect(errs.first?.message.contains("nowhere") == true)
        #expect(errs.first.map { $0.line == 2 || $0.line == 3 } == true, "\(errs)")
    }

    @Test func appsDirIsRelativeToTheMainFile() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "[server]\napps_dir = \"conf/apps\"\n")
        try dir.write("conf/apps/x.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        try dir.write("conf/apps/notes.txt", "not an app")
        #expect(dir.loaded()?.apps.keys.sorted() == ["x"])
    }

    @Test func unknownKeysNameFileAndLine() throws {
        let server = try ConfigDir()
        server.write_("authzd.toml", "[server]\nsocket = \"/tmp/s\"\nsokcet_mode = \"0600\"\n")
        server.expectError("authzd.toml", line: 3, containing: "sokcet_mode")

        let top = try ConfigDir()
        top.write_("authzd.toml", "# c\nverbose = true\n")
        top.expectError("authzd.toml", line: 2, containing: "verbose")

        let step = try ConfigDir()
        step.write_("authzd.toml", "")
        step.write_("apps.d/a.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\nalow = [\"::2\"]\n")
        step.expectError("apps.d/a.toml", line: 4, containing: "alow")

        let jwt = try ConfigDir()
        jwt.write_("authzd.toml", "")
        jwt.write_("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nsecret = \"\(secret32)\"\n\nissuers = [\"x\"]\n")
        jwt.expectError("apps.d/a.toml", line: 5, containing: "issuers")

        let app = try ConfigDir()
        app.write_("authzd.toml", "")
        app.write_("apps.d/a.toml", "name = \"a\"\n[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        app.expectError("apps.d/a.toml", line: 1, containing: "name")
    }

    @Test func unknownPluginNamesFileAndLine() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n\n[[chain]]\nplugin = \"ldap\"\n")
        dir.expectError("apps.d/a.toml", line: 6, containing: "ldap")
    }

    @Test func aMissingPluginKeyIsAnError() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", "[[chain]]\ncontrol = \"required\"\n")
        dir.expectError("apps.d/a.toml", line: 1, containing: "plugin")
    }

    @Test func aSecretShorterThanItsHashIsAnError() throws {
        let short = try ConfigDir()
        short.write_("authzd.toml", "")
        short.write_("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\n\nsecret = \"\(secret32.dropLast())\"\n")
        short.expectError("apps.d/a.toml", line: 4, containing: "31")

        let exact = try ConfigDir()
        exact.write_("authzd.toml", "")
        exact.write_("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nsecret = \"\(secret32)\"\n")
        #expect(exact.loaded() != nil)

        let s63 = String(repeating: "k", count: 63)
        let short512 = try ConfigDir()
        short512.write_("authzd.toml", "")
        short512.write_("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nalgorithms = [\"HS512\"]\nsecret = \"\(s63)\"\n")
        short512.expectError("apps.d/a.toml", line: 4, containing: "63")

        let ok512 = try ConfigDir()
        ok512.write_("authzd.toml", "")
        ok512.write_("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nalgorithms = [\"HS512\"]\nsecret = \"\(s63)k\"\n")
        #expect(ok512.loaded() != nil)

        let s47 = String(repeating: "k", count: 47)
        let short384 = try ConfigDir()
        short384.write_("authzd.toml", "")
        short384.write_("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nalgorithms = [\"HS384\"]\nsecret = \"\(s47)\"\n")
        short384.expectError("apps.d/a.toml", line: 4, containing: "47")
    }

    @Test func aShortSecretFileIsAnErrorAtItsKey() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("short.key", String(repeating: "s", count: 31) + "\n")
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nsecret_file = \"short.key\"\n")
        dir.expectError("apps.d/a.toml", line: 3, containing: "31")
    }

    @Test func emptyAllowIsAnError() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = []\n")
        dir.expectError("apps.d/a.toml", line: 3, containing: "allow")
    }

    @Test func anAppWithNoStepsIsAnError() throws {
        let empty = try ConfigDir()
        empty.write_("authzd.toml", "")
        empty.write_("apps.d/a.toml", "# nothing here\n")
        let errs = empty.errors()
        #expect(errs.count == 1 && errs.first?.file == empty.path + "/apps.d/a.toml", "\(errs)")
        #expect(errs.first?.message.contains("no [[chain]]") == true)

        let emptyList = try ConfigDir()
        emptyList.write_("authzd.toml", "")
        emptyList.write_("apps.d/a.toml", "\nchain = []\n")
        emptyList.expectError("apps.d/a.toml", line: 2, containing: "no [[chain]]")

        let inline = try ConfigDir()
        inline.write_("authzd.toml", "\n[apps.lonely]\n")
        inline.expectError("authzd.toml", line: 2, containing: "lonely")
    }

    @Test func aBadControlIsAnError() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"ip_allowlist\"\ncontrol = \"requisite\"\nallow = [\"::1\"]\n")
        dir.expectError("apps.d/a.toml", line: 3, containing: "requisite")
    }

    @Test func wrongTypesNameFileAndLine() throws {
        let cases: [(file: String, text: String, line: Int, key: String)] = [
            ("authzd.toml", "[server]\n\nmax_line_bytes = \"big\"\n", 3, "max_line_bytes"),
            ("authzd.toml", "[server]\nallowed_uids = [\"www\"]\n", 2, "allowed_uids"),
            ("authzd.toml", "[server]\nsocket_mode = \"rw-rw----\"\n", 2, "socket_mode"),
            ("authzd.toml", "[log]\ndecisions = true\n", 2, "decisions"),
            ("authzd.toml", "[log]\ntarget = \"syslog\"\n", 2, "target"),
            ("authzd.toml", "server = 5\n", 1, "server"),
            ("apps.d/a.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = \"127.0.0.1\"\n", 3, "allow"),
            ("apps.d/a.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"127.0.0.1\", 5]\n", 3, "allow"),
            ("apps.d/a.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"10.0.0.1/8\"]\n", 3, "host bits"),
            ("apps.d/a.toml", "[[chain]]\nplugin = 7\n", 2, "plugin"),
            ("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nsecret = \"\(secret32)\"\nleeway = \"5\"\n", 4, "leeway"),
            ("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nsecret = \"\(secret32)\"\nrequire_exp = \"yes\"\n", 4, "require_exp"),
            ("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nsecret = \"\(secret32)\"\nalgorithms = [\"RS256\"]\n", 4, "RS256"),
            ("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nsecret = \"\(secret32)\"\nalgorithms = [\"none\"]\n", 4, "none"),
            ("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nsecret = \"\(secret32)\"\ntoken_from = [\"body:x\"]\n", 4, "body:x"),
            ("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nsecret = \"\(secret32)\"\nforward_claims = { sub = 1 }\n", 4, "sub"),
            ("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nsecret = \"\(secret32)\"\nforward_claims = { sub = \"x auth\" }\n", 4, "header name"),
            ("apps.d/a.toml", "chain = \"ip_allowlist\"\n", 1, "chain"),
        ]
        for c in cases {
            let dir = try ConfigDir()
            if c.file != "authzd.toml" { try dir.write("authzd.toml", "") }
            try dir.write(c.file, c.text)
            dir.expectError(c.file, line: c.line, containing: c.key)
        }
    }

    @Test func tomlSyntaxErrorsNameFileAndLine() throws {
        let main = try ConfigDir()
        main.write_("authzd.toml", "[server]\nsocket = \"/tmp/s\"\nmax_connections = = 3\n")
        main.expectError("authzd.toml", line: 3, containing: "value")

        let app = try ConfigDir()
        app.write_("authzd.toml", "")
        app.write_("apps.d/a.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"\n\n")
        let errs = app.errors()
        #expect(errs.count == 1)
        #expect(errs.first?.file == app.path + "/apps.d/a.toml")
        #expect((errs.first?.line ?? 0) >= 3, "\(errs)")
    }

    @Test func anAppDefinedInlineAndInAppsDirIsAnError() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "[[apps.web.chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        try dir.write("apps.d/web.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        let errs = dir.errors()
        #expect(errs.count == 1)
        #expect(errs.first?.file == dir.path + "/apps.d/web.toml")
        #expect(errs.first?.message.contains("web") == true)
        #expect(errs.first?.message.contains("inline") == true)
    }

    @Test func everyErrorIsReportedNotJustTheFirst() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "[server]\nmax_line_bytes = \"x\"\n[log]\nlevel = \"loud\"\n")
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"nope\"\n")
        try dir.write("apps.d/b.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = []\n")
        try dir.write("apps.d/c.toml", "[[chain]\n")
        try dir.write("apps.d/ok.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        let errs = dir.errors()
        let where_ = Set(errs.map { "\(($0.file as NSString).lastPathComponent):\($0.line)" })
        #expect(where_ == ["authzd.toml:2", "authzd.toml:4", "a.toml:2", "b.toml:3", "c.toml:1"], "\(errs)")
    }

    @Test func errorsInSeveralStepsOfOneAppAreAllReported() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", """
            [[chain]]
            plugin = "ip_allowlist"
            allow = []

            [[chain]]
            plugin = "jwt_hmac"
            secret = "short"
            """)
        let errs = dir.errors()
        #expect(errs.map(\.line) == [3, 7], "\(errs)")
    }

    @Test func secretFileIsRelativeToTheMainFile() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("secrets/app.key", secret32 + "\n")
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nsecret_file = \"secrets/app.key\"\n")
        #expect(dir.loaded()?.apps["a"] != nil)

        let missing = try ConfigDir()
        missing.write_("authzd.toml", "")
        missing.write_("apps.d/secrets/app.key", secret32)  // relative to apps.d would find it; must not
        missing.write_("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\n\nsecret_file = \"secrets/app.key\"\n")
        missing.expectError("apps.d/a.toml", line: 4, containing: "secrets/app.key")
    }

    @Test func secretsWithKidsLoad() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("old.key", String(repeating: "o", count: 40))
        try dir.write("apps.d/a.toml", """
            [[chain]]
            plugin = "jwt_hmac"
            secrets = [{ kid = "2026-11", secret = "\(secret32)" }, { kid = "old", secret_file = "old.key" }]
            """)
        #expect(dir.loaded()?.apps["a"]?.steps.count == 1)
    }

    @Test func secretsErrorsNameTheirLine() throws {
        let dup = try ConfigDir()
        dup.write_("authzd.toml", "")
        dup.write_("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\n[[chain.secrets]]\nkid = \"k\"\nsecret = \"\(secret32)\"\n[[chain.secrets]]\nkid = \"k\"\nsecret = \"\(secret32)\"\n")
        dup.expectError("apps.d/a.toml", line: 7, containing: "twice")

        let short = try ConfigDir()
        short.write_("authzd.toml", "")
        short.write_("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\n[[chain.secrets]]\nkid = \"k\"\nsecret = \"\(secret32)\"\n[[chain.secrets]]\nkid = \"j\"\nsecret = \"tiny\"\n")
        short.expectError("apps.d/a.toml", line: 8, containing: "4 bytes")

        let both = try ConfigDir()
        both.write_("authzd.toml", "")
        both.write_("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\nsecret = \"\(secret32)\"\nsecrets = [{ secret = \"\(secret32)\" }]\n")
        #expect(both.errors().first?.message.contains("exactly one") == true)

        let none = try ConfigDir()
        none.write_("authzd.toml", "")
        none.write_("apps.d/a.toml", "[[chain]]\nplugin = \"jwt_hmac\"\n")
        #expect(none.errors().first?.message.contains("exactly one") == true)
    }

    @Test func appFileNamesMustBeSafeAppNames() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/bad name.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        dir.expectError("apps.d/bad name.toml", line: 1, containing: "bad name")
    }

    @Test func aMissingMainFileIsAnErrorNamingIt() throws {
        let dir = try ConfigDir()
        let errs = dir.errors()
        #expect(errs.count == 1)
        #expect(errs.first?.file == dir.main)
    }

    @Test func connectionTimeoutsDefaultToFiveMinutesIdleAndTenSecondsPerLine() throws {
        let defaults = try ConfigDir()
        try defaults.write("authzd.toml", "")
        let d = try #require(defaults.loaded())
        #expect(d.server.idleTimeout == 300)
        #expect(d.server.requestTimeout == 10)

        let set = try ConfigDir()
        try set.write("authzd.toml", "[server]\nidle_timeout = 0\nrequest_timeout = 3\n")
        let s = try #require(set.loaded())
        #expect(s.server.idleTimeout == 0)
        #expect(s.server.requestTimeout == 3)

        for (line, key) in [("idle_timeout = -1", "idle_timeout"), ("request_timeout = 3601", "request_timeout"),
                            ("idle_timeout = \"300\"", "idle_timeout")] {
            let bad = try ConfigDir()
            try bad.write("authzd.toml", "[server]\n\(line)\n")
            let errs = bad.errors()
            #expect(errs.first?.line == 2, "\(line)")
            #expect(errs.first?.message.contains(key) == true, "\(line): \(errs.first?.message ?? "")")
        }
    }
}

extension ConfigDir {
    /// `write` for call sites that cannot throw usefully; a failure to write is recorded.
    func write_(_ relative: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do { try write(relative, text) } catch { Issue.record("cannot write \(relative): \(error)", sourceLocation: sourceLocation) }
    }
}
