import AuthzJSON
import Foundation
import Testing

/// SPEC §8's `oauth2_introspection` through the real daemon, against a real OAuth 2.0 server
/// (django-oauth-toolkit): its client-credentials tokens, RFC 7662 introspection and RFC 7009
/// revocation.
@Suite("oauth2_introspection end to end", .serialized)
struct OAuth2IntrospectionEndToEndTests {
    /// One `oauth2_introspection` step against `server`, with `extra` keys.
    static func app(_ server: OAuthTestServer, url: String? = nil, secret: String? = nil, _ extra: String = "") -> String {
        """
        [[chain]]
        plugin = "oauth2_introspection"
        url = "\(url ?? server.introspectionURL)"
        client_id = "\(OAuthTestServer.introspectionClient)"
        client_secret = \(tomlString(secret ?? server.introspectionSecret))
        \(extra)
        """
    }

    static func tomlString(_ s: String) -> String {
        JSONValue.string(s).jsonString  // a JSON string is a valid TOML basic string for these characters
    }

    static func bearer(_ token: String) -> [String: String] { ["Authorization": "Bearer \(token)"] }

    @Test func activeTokenIsAllowedWithForwardedClaims() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: ["api": Self.app(server, """
            forward_claims = { client_id = "x-auth-client", scope = "x-auth-scope" }
            """)])
        let token = try server.token()
        let a = try d.check(app: "api", headers: Self.bearer(token))
        #expect(a["allow"] == .bool(true), "\(a)")
        #expect(a["status"] == 200)
        #expect(a["plugin"] == "oauth2_introspection")
        #expect(a["headers"]?["x-auth-client"] == "api")
        #expect(a["headers"]?["x-auth-scope"] == "broadcast:read broadcast:write")
        // The token itself is never echoed back or logged.
        #expect(!a.jsonString.contains(token))
        #expect(!d.process.log.contains(token))
        #expect(!d.process.log.contains(server.introspectionSecret))
        let none = try d.check(app: "api")
        #expect(none["reason"] == "no_token")
        #expect(none["status"] == 401)
    }

    @Test func revokedTokenIsServedFromCacheUntilCacheTTLThenDenied() throws {
        let server = try OAuthTestServer()
        // The same server behind two steps: one reuses answers for a minute, one for a second.
        let d = try DaemonUnderTest(apps: [
            "long": Self.app(server, "cache_ttl = 60"),
            "short": Self.app(server, "cache_ttl = 1"),
        ])
        let token = try server.token()
        #expect(try d.check(app: "long", headers: Self.bearer(token))["allow"] == .bool(true))
        let first = try d.check(app: "short", headers: Self.bearer(token))
        #expect(first["allow"] == .bool(true))
        // The caller may cache the allow no longer than the step reuses it (absent: not at all).
        #expect((first["ttl"]?.numberValue?.int64 ?? 0) <= 1)
        try server.revoke(token)
        // The server now says inactive, yet the step with a minute's cache answers from it.
        let cached = try d.check(app: "long", headers: Self.bearer(token))
        #expect(cached["allow"] == .bool(true), "the cached allow should be served: \(cached)")
        // The one-second cache runs out and the revocation shows.
        var last: JSONValue = .null
        let denied = eventually(timeout: 20) {
            last = (try? d.check(app: "short", headers: Self.bearer(token))) ?? .null
            return last["allow"] == .bool(false)
        }
        #expect(denied, "revoked token still allowed: \(last)")
        #expect(last["reason"] == "token_inactive")
        #expect(last["status"] == 401)
        #expect(last["headers"]?["www-authenticate"]?.stringValue?.contains("invalid_token") == true)
    }

    @Test func expiredTokenIsDenied() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: ["api": Self.app(server, "cache_ttl = 60")])
        let expired = try server.token()
        try server.expire(expired)
        let a = try d.check(app: "api", headers: Self.bearer(expired))
        #expect(a["allow"] == .bool(false))
        #expect(a["reason"] == "token_inactive")
        #expect(a["status"] == 401)

        // A token that expires soon: allowed now, and denied once its exp has passed even though
        // cache_ttl is a minute (the answer is never reused past exp).
        let soon = try server.token()
        // Ten seconds leaves a slow machine room to make the first check before exp.
        try server.expire(soon, inSeconds: 10)
        let now = try d.check(app: "api", headers: Self.bearer(soon))
        #expect(now["allow"] == .bool(true), "\(now)")
        #expect((now["ttl"]?.numberValue?.int64 ?? 0) <= 10)
        var last: JSONValue = .null
        #expect(eventually(timeout: 40) {
            last = (try? d.check(app: "api", headers: Self.bearer(soon))) ?? .null
            return last["allow"] == .bool(false)
        }, "expired token still allowed: \(last)")
        #expect(["token_inactive", "token_expired"].contains(last["reason"]?.stringValue ?? ""), "\(last)")
        #expect(last["status"] == 401)
    }

    @Test func unknownTokenIsInactive() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: ["api": Self.app(server)])
        let a = try d.check(app: "api", headers: Self.bearer("not-a-token-this-server-issued"))
        #expect(a["allow"] == .bool(false))
        #expect(a["reason"] == "token_inactive")
        #expect(a["status"] == 401)
        #expect(a["plugin"] == "oauth2_introspection")
    }

    @Test func stoppedServerFailsClosedWith503() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: ["api": Self.app(server)])
        let token = try server.token()
        server.stop()
        let a = try d.check(app: "api", headers: Self.bearer(token))
        #expect(a["allow"] == .bool(false))
        #expect(a["reason"] == "introspection_unavailable")
        #expect(a["status"] == 503)
        #expect(a["message"]?.stringValue?.contains(token) == false)
        #expect(!d.process.log.contains(token))
        #expect(!d.process.log.contains(server.introspectionSecret))
    }

    @Test func slowServerFailsClosedAfterFetchTimeout() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: ["api": Self.app(server, "fetch_timeout = 1")])
        let token = try server.token()
        try server.setDelay(seconds: 4)
        let a = try d.check(app: "api", headers: Self.bearer(token))
        #expect(a["allow"] == .bool(false))
        #expect(a["reason"] == "introspection_unavailable")
        #expect(a["status"] == 503)
        // A listener that accepts and never answers ends the same way.
        let hanging = try HangingListener()
        let h = try DaemonUnderTest(apps: ["api": Self.app(server, url: "http://127.0.0.1:\(hanging.port)/introspect", "fetch_timeout = 1")])
        let b = try h.check(app: "api", headers: Self.bearer(token))
        #expect(b["reason"] == "introspection_unavailable")
        #expect(b["status"] == 503)
    }

    @Test func wrongClientSecretFailsClosedWith503() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: ["api": Self.app(server, secret: "not-the-secret")])
        let token = try server.token()
        let a = try d.check(app: "api", headers: Self.bearer(token))
        #expect(a["allow"] == .bool(false))
        #expect(a["reason"] == "introspection_unavailable")
        #expect(a["status"] == 503)
        #expect(a["message"]?.stringValue?.contains("HTTP 4") == true, "\(a)")
    }

    @Test func secretFileWithTrailingNewlineAuthenticates() throws {
        let server = try OAuthTestServer()
        let dir = try TempDirectory("secret")
        let file = try dir.write("introspect.secret", server.introspectionSecret + "\n")
        let d = try DaemonUnderTest(apps: ["api": """
            [[chain]]
            plugin = "oauth2_introspection"
            url = "\(server.introspectionURL)"
            client_id = "\(OAuthTestServer.introspectionClient)"
            client_secret_file = "\(file)"
            """])
        let a = try d.check(app: "api", headers: Self.bearer(try server.token()))
        #expect(a["allow"] == .bool(true), "\(a)")
    }

    @Test func sharedClaimChecksApplyToTheAnswer() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: [
            "issuer": Self.app(server, "issuer = \"https://elsewhere.example\""),
            "claims": Self.app(server, "required_claims = [\"username\"]"),
            "client": Self.app(server, "required_claims = [\"client_id\"]"),
        ])
        let token = try server.token()
        #expect(try d.check(app: "issuer", headers: Self.bearer(token))["reason"] == "bad_issuer")
        // A client-credentials token has no user, so DOT's answer has no username.
        #expect(try d.check(app: "claims", headers: Self.bearer(token))["reason"] == "missing_claim")
        #expect(try d.check(app: "client", headers: Self.bearer(token))["allow"] == .bool(true))
    }

    @Test func manyChecksOfOneTokenShareTheAnswer() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: ["api": Self.app(server)])
        let token = try server.token()
        // Pipelined on one connection: all wait on the same call (or reuse its answer), and all
        // are answered; the server sees one call.
        let client = try d.client()
        let line = JSONValue.object(JSONObject([
            ("app", "api"), ("remote_addr", "127.0.0.1"),
            ("headers", .object(JSONObject([("authorization", .string("Bearer \(token)"))]))),
        ])).jsonString
        try client.send(String(repeating: line + "\n", count: 50))
        let answers = try (0..<50).map { _ in try client.readJSON() }
        #expect(answers.allSatisfy { $0["allow"] == .bool(true) })
        #expect(try server.introspectionCount() == 1)
    }

    /// The helper's OpenID side, which `jwks` with `oidc_issuer` can use: a JWT minted with the
    /// server's OIDC key verifies against its published key set.
    @Test func serverSignedJWTVerifiesAgainstItsKeySet() throws {
        let server = try OAuthTestServer()
        let d = try DaemonUnderTest(apps: ["oidc": """
            [[chain]]
            plugin = "jwks"
            url = "\(server.jwksURL)"
            issuer = "\(server.issuer)"
            forward_claims = { sub = "x-auth-subject" }
            """])
        let jwt = try server.mintJWT(["sub": "alice"])
        let a = try d.check(app: "oidc", headers: Self.bearer(jwt))
        #expect(a["allow"] == .bool(true), "\(a)")
        #expect(a["headers"]?["x-auth-subject"] == "alice")
    }
}
