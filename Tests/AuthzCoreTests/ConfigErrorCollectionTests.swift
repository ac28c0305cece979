import AuthzCore
import AuthzPlugins
import Foundation
import Testing

/// One `check-config` run shows everything to fix: every table is checked key by key, every step
/// of every app is built, and the errors come back in file and line order, each on one line.
@Suite struct ConfigErrorCollectionTests {
    /// `file:line` of each error, the file relative to the configuration directory.
    func places(_ errors: [ConfigError], in dir: ConfigDir) -> [String] {
        errors.map { "\($0.file.dropFirst(dir.path.count + 1)):\($0.line)" }
    }

    @Test func everyIndependentErrorInServerIsReportedInLineOrder() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", """
            [server]
            sokcet = "/tmp/s"
            socket_mode = "rw-rw----"
            max_line_bytes = "big"
            allowed_uids = [-1]
            max_connections = 0
            socket_group = "www-data"
            """)
        let errs = dir.errors()
        #expect(places(errs, in: dir) == ["authzd.toml:2", "authzd.toml:3", "authzd.toml:4", "authzd.toml:5", "authzd.toml:6"], "\(errs)")
        #expect(errs.map(\.message).joined(separator: "\n").contains("sokcet"))
        #expect(errs[1].message.contains("socket_mode"))
        #expect(errs[2].message.contains("max_line_bytes"))
        #expect(errs[3].message.contains("allowed_uids"))
        #expect(errs[4].message.contains("max_connections"))
    }

    @Test func everyIndependentErrorInLogIsReported() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "[log]\ntarget = \"syslog\"\nlevel = \"loud\"\ndecisions = true\nformat = \"json\"\n")
        #expect(places(dir.errors(), in: dir) == ["authzd.toml:2", "authzd.toml:3", "authzd.toml:4", "authzd.toml:5"])
    }

    @Test func anUnknownKeyDoesNotHideAHostBitsError() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", """
            [[chain]]
            plugin = "ip_allowlist"
            alow = ["::1"]
            allow = [
              "127.0.0.1",
              "10.0.0.1/8",
              "not-an-address",
            ]
            trusted_proxies = ["192.168.0.0/33"]
            """)
        let errs = dir.errors()
        #expect(places(errs, in: dir) == ["apps.d/a.toml:3", "apps.d/a.toml:6", "apps.d/a.toml:7", "apps.d/a.toml:9"], "\(errs)")
        #expect(errs.first?.message.contains("alow") == true)
        #expect(errs.dropFirst().first?.message.contains("host bits") == true, "\(errs)")
    }

    @Test func aTypeErrorDoesNotHideAShortSecret() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", """
            [[chain]]
            plugin = "jwt_hmac"
            leeway = "5"
            algorithms = ["HS512", "RS256"]
            secret = "\(secret32)"
            issuers = ["x"]
            require_exp = "yes"
            """)
        let errs = dir.errors()
        #expect(places(errs, in: dir) == (3...7).map { "apps.d/a.toml:\($0)" }, "\(errs)")
        #expect(errs[0].message.contains("leeway"))
        #expect(errs[1].message.contains("RS256"))
        // The algorithms that were valid decide the length needed: HS512 needs 64 bytes.
        #expect(errs[2].message.contains("32 bytes") && errs[2].message.contains("64"), "\(errs[2])")
        #expect(errs[3].message.contains("issuers"))
        #expect(errs[4].message.contains("require_exp"))
    }

    @Test func everySecretsEntryIsChecked() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", """
            [[chain]]
            plugin = "jwt_hmac"
            [[chain.secrets]]
            kid = "k"
            secret = "tiny"
            [[chain.secrets]]
            kid = "k"
            secret_file = "missing.key"
            [[chain.secrets]]
            kid = 3
            secret = "\(secret32)"
            extra = 1
            """)
        let errs = dir.errors()
        #expect(places(errs, in: dir) == ["apps.d/a.toml:5", "apps.d/a.toml:7", "apps.d/a.toml:8", "apps.d/a.toml:10", "apps.d/a.toml:12"], "\(errs)")
        #expect(errs[0].message.contains("4 bytes"))
        #expect(errs[1].message.contains("twice"))
        #expect(errs[2].message.contains("missing.key"))
        #expect(errs[3].message.contains("kid"))
        #expect(errs[4].message.contains("extra"))
    }

    @Test func aBadControlAndAnUnknownPluginAreBothReported() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", "[[chain]]\ncontrol = \"requisite\"\nplugin = \"ldap\"\n")
        let errs = dir.errors()
        #expect(places(errs, in: dir) == ["apps.d/a.toml:2", "apps.d/a.toml:3"], "\(errs)")
    }

    @Test func aBadControlDoesNotHideThePluginsOwnErrors() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"ip_allowlist\"\ncontrol = \"maybe\"\nallow = []\n")
        #expect(places(dir.errors(), in: dir) == ["apps.d/a.toml:3", "apps.d/a.toml:4"])
    }

    @Test func anUnknownAppKeyDoesNotHideStepErrors() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", "name = \"a\"\n[[chain]]\nplugin = \"ip_allowlist\"\nallow = []\n")
        #expect(places(dir.errors(), in: dir) == ["apps.d/a.toml:1", "apps.d/a.toml:4"])
    }

    @Test func errorsAcrossStepsAppsAndFilesComeInFileAndLineOrder() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", """
            [server]
            max_connections = -1

            [apps.inline]
            chain = [
              { plugin = "ip_allowlist", allow = [] },
              { plugin = "jwt_hmac", secret = "short" },
            ]

            [log]
            level = "loud"
            colour = true
            """)
        try dir.write("apps.d/b.toml", """
            [[chain]]
            plugin = "jwks"
            url = "ftp://idp.test/jwks.json"
            cache_ttl = 0
            algorithms = ["HS256"]

            [[chain]]
            plugin = "ip_allowlist"
            allow = ["300.1.1.1"]
            """)
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"nope\"\n\n[[chain]]\nplugin = \"jwt_hmac\"\nsecret = \"x\"\n")
        try dir.write("apps.d/ok.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        let errs = dir.errors()
        #expect(places(errs, in: dir) == [
            "authzd.toml:2", "authzd.toml:6", "authzd.toml:7", "authzd.toml:11", "authzd.toml:12",
            "apps.d/a.toml:2", "apps.d/a.toml:6",
            "apps.d/b.toml:3", "apps.d/b.toml:4", "apps.d/b.toml:5", "apps.d/b.toml:9",
        ], "\(errs)")
    }

    @Test func aFileNameOrValueWithANewlineStaysOnOneLine() {
        let e = ConfigError(file: "/etc/authzd/apps.d/evil\n/etc/authzd/authzd.toml:1: fake.toml", line: 3,
                            message: "unknown plugin \"x\ny\u{1B}[31m\"")
        #expect(e.description == "/etc/authzd/apps.d/evil\\n/etc/authzd/authzd.toml:1: fake.toml:3: unknown plugin \"x\\ny\\x1B[31m\"")
        #expect(!e.description.contains("\n"))
        // The values themselves are kept as they are, for programs.
        #expect(e.file.contains("\n"))
        #expect(ConfigErrors([e, e]).description.split(separator: "\n").count == 2)
    }

    @Test func backslashesInAMessageAreKeptAsWrittenButControlsAroundThemAreEscaped() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "[server]\nsocket = \"a\\qb\"\n")
        let e = try #require(dir.errors().first)
        #expect(e.description.hasSuffix(":2: " + e.message), "TOML's escape hint reads as TOML: \(e)")
        #expect(e.message.contains("'\\q'"))
        let mixed = ConfigError(file: "a\\b.toml", line: 1, message: "key \"x\\y\nz\"")
        #expect(mixed.description == "a\\\\b.toml:1: key \"x\\y\\nz\"")
    }

    @Test func anAppFileNameWithAControlCharacterIsRefusedOnOneLine() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/evil\nname.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        try dir.write("apps.d/tab\there.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        let errs = dir.errors()
        #expect(errs.count == 2, "\(errs)")
        for e in errs {
            #expect(e.message.contains("not a valid app name"))
            #expect(e.description.split(separator: "\n", omittingEmptySubsequences: false).count == 1, "\(e)")
        }
        #expect(errs.contains { $0.description.hasPrefix(dir.path + "/apps.d/evil\\nname.toml:1: ") })
    }

    @Test func appNamesFollowTheShimsRule() throws {
        let longest = String(repeating: "a", count: 64)
        let ok = try ConfigDir()
        try ok.write("authzd.toml", "")
        for name in [longest, "Live.App_2-x", "a"] {
            try ok.write("apps.d/\(name).toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        }
        #expect(ok.loaded()?.apps.keys.sorted() == ["Live.App_2-x", "a", longest])

        for bad in [longest + "a", "caf\u{E9}", "a+b", "a@b"] {
            let dir = try ConfigDir()
            try dir.write("authzd.toml", "")
            try dir.write("apps.d/\(bad).toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
            dir.expectError("apps.d/\(bad).toml", line: 1, containing: "not a valid app name")
        }

        let inline = try ConfigDir()
        try inline.write("authzd.toml", "\n[apps.\"two words\"]\nchain = [{ plugin = \"ip_allowlist\", allow = [\"::1\"] }]\n")
        inline.expectError("authzd.toml", line: 2, containing: "two words")
    }

    @Test func aBadAppNameDoesNotHideTheOtherApps() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a b.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        try dir.write("apps.d/c.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = []\n")
        #expect(places(dir.errors(), in: dir) == ["apps.d/a b.toml:1", "apps.d/c.toml:3"])
    }

    @Test func aValidConfigurationStillLoadsWithEveryKeySet() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", """
            [server]
            socket = "/tmp/x.sock"
            socket_mode = "0600"
            socket_group = "www-data"
            allowed_uids = [0, 33]
            max_line_bytes = 4096
            max_connections = 10
            token_cache_size = 5
            [log]
            target = "stderr"
            level = "debug"
            decisions = "all"
            decision_rate_limit = 7
            """)
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"::1\"]\n")
        let c = try #require(dir.loaded())
        #expect(c.server.socket == "/tmp/x.sock")
        #expect(c.server.socketMode == 0o600)
        #expect(c.server.allowedUIDs == [0, 33])
        #expect(c.server.maxLineBytes == 4096)
        #expect(c.server.maxConnections == 10)
        #expect(c.server.tokenCacheSize == 5)
        #expect(c.log.level == .debug)
        #expect(c.log.decisions == .all)
        #expect(c.log.decisionRateLimit == 7)
    }
}
