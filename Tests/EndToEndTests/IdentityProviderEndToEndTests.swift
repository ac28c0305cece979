import AuthzJSON
import Foundation
import Testing

/// The identity-provider features checked together against one real OAuth 2.0 / OpenID server
/// (django-oauth-toolkit, `OAuthTestServer`): OpenID discovery with the issuer it names and with
/// issuers that differ from it, and Ant Media's REST rules (`required_scopes` with `match`,
/// paths judged after normalisation) with the server's opaque tokens (introspection) and with
/// JWTs signed by its OIDC key.
@Suite("identity provider end to end", .serialized)
struct IdentityProviderEndToEndTests {
    static func bearer(_ token: String) -> [String: String] { ["Authorization": "Bearer \(token)"] }

    /// A `jwks` step that finds the server's key set by discovery from `issuer`.
    static func discoveryApp(issuer: String, _ extra: String = "") -> String {
        """
        [[chain]]
        plugin = "jwks"
        oidc_issuer = "\(issuer)"
        fetch_timeout = 2
        \(extra)
        """
    }

    /// The README's Ant Media REST rules, with `step` (the plugin and its source keys) as both
    /// steps: reads with broadcast:read, writes under /LiveApp/rest/v2/broadcasts/** with
    /// broadcast:write, nothing else.
    static func antMediaApp(step: String) -> String {
        """
        [[chain]]
        \(step)
        required_scopes = ["broadcast:read"]
        match = { methods = ["GET", "HEAD"], paths = ["/LiveApp/rest/**"] }

        [[chain]]
        \(step)
        required_scopes = ["broadcast:write"]
        forward_claims = { scope = "x-auth-scope" }
        match = { methods = ["POST", "PUT", "DELETE"], paths = ["/LiveApp/rest/v2/broadcasts/**"] }
        """
    }

    static func introspectionStep(_ server: OAuthTestServer, _ extra: String = "") -> String {
        """
        plugin = "oauth2_introspection"
        url = "\(server.introspectionURL)"
        client_id = "\(OAuthTestServer.introspectionClient)"
        client_secret = \(OAuth2IntrospectionEndToEndTests.tomlString(server.introspectionSecret))
        \(extra)
        """
    }

    /// `authzd query` against the daemon's LiveApp: the answer and the exit status.
    static func query(_ d: DaemonUnderTest, _ method: String, _ path: String, token: String?) throws -> (answer: JSONValue, status: Int32) {
        var args = ["query", "--socket", d.socketPath, "--app", "LiveApp", "--ip", "127.0.0.1", "--method", method, "--path", path]
        if let token { args += ["--token", token] }
        let r = try runCommand(try TestEnvironment.binary("authzd"), args)
        return (try JSONParser.parse(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), r.status)
    }

    static let writeChallenge = #"Bearer realm="LiveApp", error="insufficient_scope", scope="broadcast:write""#

    // MARK: - Discovery

    @Test func discoveryFindsTheProvidersKeysAndHoldsTokensToItsIssuer() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: ["oidc": Self.discoveryApp(issuer: server.issuer, "forward_claims = { sub = \"x-auth-subject\" }")])
        let a = try d.check(app: "oidc", headers: Self.bearer(try server.mintJWT(["sub": "alice"])))
        #expect(a["allow"] == .bool(true), "\(a)")
        #expect(a["plugin"] == "jwks")
        #expect(a["headers"]?["x-auth-subject"] == "alice")

        // The key set came from the jwks_uri the server's own discovery document names.
        let stats = try d.stats()
        let source = try #require(stats["sources"]?.arrayValue?.first { $0["kind"] == "jwks" })
        #expect(source["name"] == .string(server.issuer))
        #expect(source["state"] == "ok")
        #expect(source["last_error"] == .null)
        let jwks = try #require(stats["jwks"]?.arrayValue?.first)
        #expect(jwks["discovery"]?["jwks_uri"] == .string(server.jwksURL), "\(jwks)")
        #expect(jwks["url"] == .string(server.jwksURL))

        // Signed by the right key but claiming another issuer: refused.
        for iss in [server.issuer + "/", "http://localhost:\(server.port)/o", "https://elsewhere.example/o"] {
            let other = try d.check(app: "oidc", headers: Self.bearer(try server.mintJWT(["sub": "alice", "iss": .string(iss)])))
            #expect(other["allow"] == .bool(false), "\(iss): \(other)")
            #expect(other["reason"] == "bad_issuer", "\(iss): \(other)")
            #expect(other["status"] == 401)
        }
    }

    @Test func anIssuerTheDiscoveryDocumentDoesNotNameFailsClosed() throws {
        let server = try OAuthTestServer()
        // The same server under two spellings of its issuer that are not the one it names: one
        // trailing slash (same discovery URL, different issuer string) and another host name
        // for the same address.
        let slash = server.issuer + "/"
        let host = "http://localhost:\(server.port)/o"
        // And another path, where the server has no discovery document at all.
        let path = server.issuer + "/other"
        let d = try DaemonUnderTest(apps: [
            "slash": Self.discoveryApp(issuer: slash),
            "host": Self.discoveryApp(issuer: host),
            "path": Self.discoveryApp(issuer: path),
        ])
        for (app, issuer) in [("slash", slash), ("host", host)] {
            // Even a token that names the configured issuer gets no key from a document that
            // names another.
            let token = try server.mintJWT(["sub": "alice", "iss": .string(issuer)])
            let a = try d.check(app: app, headers: Self.bearer(token))
            #expect(a["allow"] == .bool(false), "\(app): \(a)")
            #expect(a["reason"] == "jwks_unavailable", "\(app): \(a)")
            #expect(a["status"] == 503)
            #expect(a["message"]?.stringValue?.contains("names issuer \"\(server.issuer)\", not oidc_issuer \"\(issuer)\"") == true,
                    "\(app): \(a)")
        }
        let missing = try d.check(app: "path", headers: Self.bearer(try server.mintJWT(["sub": "alice", "iss": .string(path)])))
        #expect(missing["reason"] == "jwks_unavailable", "\(missing)")
        #expect(missing["status"] == 503)
        #expect(missing["message"]?.stringValue?.contains("404") == true, "\(missing)")
        // The reason is in stats and in the log, for each source.
        let sources = try d.stats()["sources"]?.arrayValue ?? []
        #expect(sources.count == 3, "\(sources)")
        let other = try #require(sources.first { $0["name"] == .string(path) }, "\(sources)")
        #expect(other["state"] == "unavailable")
        #expect(other["last_error"]?.stringValue?.contains("404") == true, "\(other)")
        for issuer in [slash, host] {
            let source = try #require(sources.first { $0["name"] == .string(issuer) }, "\(sources)")
            #expect(source["kind"] == "jwks")
            #expect(source["state"] == "unavailable")
            #expect(source["last_error"]?.stringValue?.contains("not oidc_issuer \"\(issuer)\"") == true, "\(source)")
        }
        #expect(d.process.log.contains("OIDC discovery failed"), "\(d.process.log)")
    }

    @Test func keysOnceDiscoveredOutliveTheProviderGoingDown() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: ["oidc": Self.discoveryApp(issuer: server.issuer)])
        let before = try server.mintJWT(["sub": "alice"])
        let after = try server.mintJWT(["sub": "bob"])
        #expect(try d.check(app: "oidc", headers: Self.bearer(before))["allow"] == .bool(true))
        server.stop()
        // The discovered key set is fresh for cache_ttl: tokens keep verifying without the server.
        let a = try d.check(app: "oidc", headers: Self.bearer(after))
        #expect(a["allow"] == .bool(true), "\(a)")
        let source = try #require(try d.stats()["sources"]?.arrayValue?.first)
        #expect(source["state"] == "ok")
    }

    @Test func aProviderTooSlowOrDownAtStartFailsClosed() throws {
        let slow = try OAuthTestServer()
        let token = try slow.mintJWT(["sub": "alice"])
        try slow.setDelay(seconds: 6)
        let down = try OAuthTestServer()
        let downIssuer = down.issuer
        down.stop()
        let d = try DaemonUnderTest(apps: [
            "slow": Self.discoveryApp(issuer: slow.issuer),
            "down": Self.discoveryApp(issuer: downIssuer),
        ])
        for app in ["slow", "down"] {
            let a = try d.check(app: app, headers: Self.bearer(token))
            #expect(a["allow"] == .bool(false), "\(app): \(a)")
            #expect(a["reason"] == "jwks_unavailable", "\(app): \(a)")
            #expect(a["status"] == 503)
        }
        // Both sources say so once their first fetch has ended.
        var sources: [JSONValue] = []
        #expect(eventually(timeout: 30) {
            sources = (try? d.stats()["sources"]?.arrayValue) ?? []
            return sources.count == 2 && sources.allSatisfy { $0["state"] == "unavailable" && $0["last_error"] != .null }
        }, "\(sources)")
    }

    // MARK: - Scopes and routes with opaque tokens

    @Test func introspectedScopesGuardAntMediasRoutes() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: ["LiveApp": Self.antMediaApp(step: Self.introspectionStep(server))])
        let reader = try server.token(scope: "broadcast:read")
        let writer = try server.token(scope: "broadcast:write")
        try Self.checkAntMediaRules(d, reader: reader, writer: writer, plugin: "oauth2_introspection")

        // Each step keeps its own answers, so each of the two tokens was asked about once per
        // step it met (4 calls); paths refused before any step runs, and requests no step
        // matches, never reached the server.
        #expect(try server.introspectionCount() == 4)
    }

    @Test func introspectedScopesAreCheckedForEachTokenOnTheSameRoute() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: ["LiveApp": Self.antMediaApp(step: Self.introspectionStep(server, "cache_ttl = 1"))])
        // A token with both scopes passes both rules; its introspected scope is forwarded.
        let both = try server.token(scope: "broadcast:read broadcast:write")
        let created = try Self.query(d, "POST", "/LiveApp/rest/v2/broadcasts/create", token: both)
        #expect(created.answer["allow"] == .bool(true), "\(created.answer)")
        #expect(created.answer["headers"]?["x-auth-scope"] == "broadcast:read broadcast:write")
        // Revoked, it passes neither (the inactive answer is not a scope problem).
        try server.revoke(both)
        var last: JSONValue = .null
        #expect(eventually(timeout: 20) {
            last = (try? Self.query(d, "GET", "/LiveApp/rest/v2/broadcasts/list/0/10", token: both).answer) ?? .null
            return last["allow"] == .bool(false)
        }, "revoked token still allowed: \(last)")
        #expect(last["reason"] == "token_inactive", "\(last)")
        #expect(last["status"] == 401)
    }

    // MARK: - The introspection endpoint as a source

    @Test func statsAndStatusReportTheIntrospectionEndpointWithoutTokens() throws {
        let server = try OAuthTestServer()
        let dir = try TempDirectory("idp-status")
        let notify = try NotifySocket(path: dir.file("notify"))
        // Two steps asking the same endpoint with the same client: one source.
        let d = try DaemonUnderTest(apps: [
            "a": OAuth2IntrospectionEndToEndTests.app(server),
            "b": OAuth2IntrospectionEndToEndTests.app(server, "cache_ttl = 5"),
        ], environment: SystemdEndToEndTests.notifyEnvironment(notify))
        let ready = try #require(notify.waitFor("READY=1", timeout: 20))
        func source() throws -> JSONValue {
            let all = try d.stats()["sources"]?.arrayValue ?? []
            #expect(all.filter { $0["kind"] == "oauth2_introspection" }.count == 1, "\(all)")
            return try #require(all.first { $0["kind"] == "oauth2_introspection" }, "\(all)")
        }
        let idle = try source()
        #expect(idle["name"] == .string(server.introspectionURL))
        #expect(idle["state"] == "ok")
        #expect(idle["summary"] == "no calls yet")

        let token = try server.token()
        #expect(try d.check(app: "a", headers: Self.bearer(token))["allow"] == .bool(true))
        #expect(try d.check(app: "b", headers: Self.bearer(token))["allow"] == .bool(true))
        let answering = try source()
        #expect(answering["state"] == "ok")
        #expect(answering["summary"] == "2 calls, 0 failed", "\(answering)")
        #expect(answering["last_error"] == .null)

        server.stop()
        let unknown = "never-issued-" + UUID().uuidString
        let down = try d.check(app: "a", headers: Self.bearer(unknown))
        #expect(down["reason"] == "introspection_unavailable", "\(down)")
        let failing = try source()
        #expect(failing["state"] == "unavailable")
        #expect(failing["summary"] == "3 calls, 1 failed", "\(failing)")
        #expect(failing["last_error"]?.stringValue?.hasPrefix("introspection call failed: ") == true, "\(failing)")
        let stats = try d.stats().jsonString
        #expect(!stats.contains(token) && !stats.contains(unknown) && !stats.contains(server.introspectionSecret))
        // The periodic STATUS (every 5 s) names the kind and its state.
        #expect(eventually(timeout: 20) {
            notify.messages[ready...].contains { $0.hasPrefix("STATUS=") && $0.contains("oauth2_introspection: unavailable") }
        }, "\(notify.messages)")
        // The outage is logged once, without the token.
        #expect(d.process.log.components(separatedBy: "introspection endpoint unavailable").count == 2, "\(d.process.log)")
        #expect(!d.process.log.contains(unknown))
        _ = d.stop()
    }

    // MARK: - Scopes and routes with the provider's JWTs

    @Test func scopesInTheProvidersJWTsGuardAntMediasRoutes() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: ["LiveApp": Self.antMediaApp(step: """
            plugin = "jwks"
            oidc_issuer = "\(server.issuer)"
            """)])
        let reader = try server.mintJWT(["sub": "alice", "scope": "broadcast:read"])
        let writer = try server.mintJWT(["sub": "bob", "scope": "broadcast:write"])
        try Self.checkAntMediaRules(d, reader: reader, writer: writer, plugin: "jwks")
    }

    /// What the README's Ant Media rules promise, for tokens of one kind: `reader` holds
    /// broadcast:read, `writer` broadcast:write.
    static func checkAntMediaRules(_ d: DaemonUnderTest, reader: String, writer: String, plugin: String) throws {
        let list = try query(d, "GET", "/LiveApp/rest/v2/broadcasts/list/0/10", token: reader)
        #expect(list.status == 0, "\(list.answer)")
        #expect(list.answer["allow"] == .bool(true))
        #expect(list.answer["plugin"] == .string(plugin))

        let create = try query(d, "POST", "/LiveApp/rest/v2/broadcasts/create", token: reader)
        #expect(create.status == 1)
        #expect(create.answer["allow"] == .bool(false))
        #expect(create.answer["status"] == 403, "\(create.answer)")
        #expect(create.answer["reason"] == "insufficient_scope")
        #expect(create.answer["plugin"] == .string(plugin))
        #expect(create.answer["headers"]?["www-authenticate"] == .string(writeChallenge), "\(create.answer)")

        let created = try query(d, "POST", "/LiveApp/rest/v2/broadcasts/create", token: writer)
        #expect(created.status == 0, "\(created.answer)")
        #expect(created.answer["allow"] == .bool(true))
        #expect(created.answer["headers"]?["x-auth-scope"] == "broadcast:write")
        // The writer lacks broadcast:read, which the read rule wants.
        #expect(try query(d, "GET", "/LiveApp/rest/v2/broadcasts/list/0/10", token: writer).answer["reason"] == "insufficient_scope")

        // Spellings that only name the create call once normalised are held to the write rule.
        for path in ["/LiveApp/rest;jsessionid=x/v2/broadcasts/create", "/LiveApp/rest/v2/x/../broadcasts/create",
                     "/LiveApp/rest/v2/./broadcasts//create", "/LiveApp/rest/v2/%62roadcasts/create?id=1"] {
            let denied = try query(d, "POST", path, token: reader)
            #expect(denied.answer["reason"] == "insufficient_scope", "\(path): \(denied.answer)")
            #expect(denied.answer["status"] == 403)
            let allowed = try query(d, "POST", path, token: writer)
            #expect(allowed.answer["allow"] == .bool(true), "\(path): \(allowed.answer)")
        }

        // A path that cannot be normalised is refused before any step, whatever the token.
        for path in ["/LiveApp/rest%2Fv2/broadcasts/create", "/LiveApp/../../LiveApp/rest/v2/broadcasts/create"] {
            let bad = try query(d, "POST", path, token: writer)
            #expect(bad.status == 1)
            #expect(bad.answer["status"] == 400, "\(path): \(bad.answer)")
            #expect(bad.answer["reason"] == "bad_request")
            #expect(bad.answer["plugin"] == nil)
        }

        // No rule covers these: denied by default, whatever scopes the token holds.
        for (method, path) in [("PUT", "/LiveApp/rest/v2/vods/import"), ("GET", "/LiveApp/play.html"),
                               ("POST", "/LiveApp/rest/v2/broadcastsX/create")] {
            let r = try query(d, method, path, token: writer)
            #expect(r.status == 1, "\(method) \(path)")
            #expect(r.answer["reason"] == "no_decision", "\(method) \(path): \(r.answer)")
        }
    }
}
