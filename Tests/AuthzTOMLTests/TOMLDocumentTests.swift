import AuthzTOML
import Testing

/// The configuration examples of SPEC §4, verbatim, must parse with every value on its line.
@Suite struct TOMLDocumentTests {
    static let mainFile = """
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

        [apps.NAME]                         # an app may also be written inline, with the schema below
        """

    static let appFile = """
        [[chain]]
        plugin = "ip_allowlist"
        control = "required"                 # required (default) | sufficient | optional
        allow = ["127.0.0.1", "::1", "10.0.0.0/8"]
        trusted_proxies = []                 # peers whose X-Forwarded-For is believed

        [[chain]]
        plugin = "jwt_hmac"
        control = "required"
        secret = "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq"   # or secret_file = "/etc/authzd/secrets/app.key"
        # or several, for rotation: secrets = [{ kid = "2026-11", secret_file = "…" }, { kid = "old", secret = "…" }]
        algorithms = ["HS256"]               # any of HS256 HS384 HS512

        [[chain]]
        plugin = "jwks"
        control = "required"
        url = "https://idp.example.com/.well-known/jwks.json"
        algorithms = ["RS256"]               # any of RS256/384/512 PS256/384/512 ES256/384/512 EdDSA
        cache_ttl = 300                      # seconds a fetched set is fresh, unless Cache-Control says less
        min_refetch_interval = 10            # an unknown kid triggers a fetch at most this often
        max_stale = 86400                    # keep using the last good set this long while fetches fail
        fetch_timeout = 5
        ca_file = ""                         # extra CA bundle for the JWKS endpoint
        """

    @Test func specMainFileParsesWithValuesAndLines() throws {
        let root = try TOML.parse(Self.mainFile)
        #expect(root.line == 1)
        #expect(root.keys == ["server", "log", "apps"])

        let server = try #require(lookup(root, "server"))
        #expect(server.line == 1)
        guard case .table(let serverTable) = server.value else {
            Issue.record("server is \(server.value.kindDescription)")
            return
        }
        #expect(serverTable.keys == [
            "socket", "socket_mode", "socket_group", "allowed_uids", "max_line_bytes", "max_connections", "apps_dir",
        ])
        #expect(lookup(root, "server", "socket") == TOMLNode(.string("/run/authzd/authzd.sock"), line: 2))
        #expect(lookup(root, "server", "socket_mode") == TOMLNode(.string("0660"), line: 3))
        #expect(lookup(root, "server", "socket_group") == TOMLNode(.string(""), line: 4))
        #expect(lookup(root, "server", "allowed_uids") == TOMLNode(.array([]), line: 5))
        #expect(lookup(root, "server", "max_line_bytes") == TOMLNode(.integer(65536), line: 6))
        #expect(lookup(root, "server", "max_connections") == TOMLNode(.integer(1024), line: 7))
        #expect(lookup(root, "server", "apps_dir") == TOMLNode(.string("apps.d"), line: 8))

        #expect(lookup(root, "log")?.line == 10)
        #expect(lookup(root, "log", "target") == TOMLNode(.string("auto"), line: 11))
        #expect(lookup(root, "log", "level") == TOMLNode(.string("info"), line: 12))
        #expect(lookup(root, "log", "decisions") == TOMLNode(.string("deny"), line: 13))

        // `apps` is implied by the [apps.NAME] header and takes its line.
        #expect(lookup(root, "apps")?.line == 15)
        #expect(lookup(root, "apps", "NAME") == TOMLNode(.table(TOMLTable(line: 15)), line: 15))
    }

    @Test func specAppFileParsesAsAChainWithEachStepOnItsHeaderLine() throws {
        let root = try TOML.parse(Self.appFile)
        #expect(root.keys == ["chain"])
        let chain = try #require(lookup(root, "chain"))
        #expect(chain.line == 1)
        guard case .array(let steps) = chain.value else {
            Issue.record("chain is \(chain.value.kindDescription)")
            return
        }
        #expect(steps.map(\.line) == [1, 7, 14])

        #expect(lookup(root, "chain", "0", "plugin") == TOMLNode(.string("ip_allowlist"), line: 2))
        #expect(lookup(root, "chain", "0", "control") == TOMLNode(.string("required"), line: 3))
        #expect(
            lookup(root, "chain", "0", "allow")
                == TOMLNode(
                    .array([
                        TOMLNode(.string("127.0.0.1"), line: 4), TOMLNode(.string("::1"), line: 4),
                        TOMLNode(.string("10.0.0.0/8"), line: 4),
                    ]), line: 4))
        #expect(lookup(root, "chain", "0", "trusted_proxies") == TOMLNode(.array([]), line: 5))

        #expect(lookup(root, "chain", "1", "plugin") == TOMLNode(.string("jwt_hmac"), line: 8))
        #expect(lookup(root, "chain", "1", "secret") == TOMLNode(.string("zautXStXM9iW3aD3FuyPH0TdK4GHPmHq"), line: 10))
        #expect(lookup(root, "chain", "1", "algorithms", "0") == TOMLNode(.string("HS256"), line: 12))
        #expect(lookup(root, "chain", "1", "secrets") == nil)

        #expect(lookup(root, "chain", "2", "url") == TOMLNode(.string("https://idp.example.com/.well-known/jwks.json"), line: 17))
        #expect(lookup(root, "chain", "2", "cache_ttl") == TOMLNode(.integer(300), line: 19))
        #expect(lookup(root, "chain", "2", "min_refetch_interval") == TOMLNode(.integer(10), line: 20))
        #expect(lookup(root, "chain", "2", "max_stale") == TOMLNode(.integer(86400), line: 21))
        #expect(lookup(root, "chain", "2", "fetch_timeout") == TOMLNode(.integer(5), line: 22))
        #expect(lookup(root, "chain", "2", "ca_file") == TOMLNode(.string(""), line: 23))
    }

    @Test func rotationSecretsWrittenAsInlineTablesInAnArrayParse() throws {
        let root = try TOML.parse("""
            secrets = [{ kid = "2026-11", secret_file = "/k" }, { kid = "old", secret = "s" }]
            forward_claims = { sub = "x-auth-subject" }
            """)
        #expect(lookup(root, "secrets", "0", "kid") == TOMLNode(.string("2026-11"), line: 1))
        #expect(lookup(root, "secrets", "1", "secret") == TOMLNode(.string("s"), line: 1))
        #expect(lookup(root, "forward_claims", "sub") == TOMLNode(.string("x-auth-subject"), line: 2))
        #expect(lookup(root, "forward_claims")?.line == 2)
    }

    @Test func crlfLineEndingsParseLikeLF() throws {
        let lf = Self.mainFile + "\n"
        let crlf = lf.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        #expect(crlf.contains("\r\n"))
        #expect(try TOML.parse(crlf) == TOML.parse(lf))
    }

    @Test func emptyAndCommentOnlyDocumentsAreEmptyTables() throws {
        #expect(try TOML.parse("") == TOMLTable(line: 1))
        #expect(try TOML.parse("# nothing\n\n   \t# here\r\n") == TOMLTable(line: 1))
        #expect(try TOML.parse("\u{FEFF}a = 1") == TOMLTable(entries: [("a", TOMLNode(.integer(1), line: 1))], line: 1))
    }
}
