import AuthzCore
import AuthzJSON
import JOSE
@testable import JWKSPlugin
import Testing

/// `oidc_issuer`: the key set's URL from the provider's discovery document, checked against the
/// issuer, cached and refreshed like the key set; on virtual time with a scripted fetcher.
struct JWKSDiscoveryTests {
    let k1 = JWKSTestKey(kid: "k1", alg: .rs256, JWKSTestKey.rsa)
    let k2 = JWKSTestKey(kid: "k2", alg: .rs256, JWKSTestKey.rsaOther)

    static let issuer = "https://idp.test/realms/main"
    static let discoveryURL = "https://idp.test/realms/main/.well-known/openid-configuration"
    static let certs = "https://idp.test/realms/main/protocol/openid-connect/certs"

    func claims(iss: String?, sub: String = "alice") -> JSONObject {
        var c = JWKSTestKey.validClaims(sub: sub)
        if let iss { c["iss"] = .string(iss) }
        return c
    }

    func discovery(issuer: String = Self.issuer, jwksURI: String = Self.certs) -> JSONValue {
        ["issuer": .string(issuer), "jwks_uri": .string(jwksURI), "token_endpoint": .string(issuer + "/token")]
    }

    func harness(_ extra: String = "") -> JWKSHarness {
        JWKSHarness("oidc_issuer = \"\(Self.issuer)\"\n" + extra)
    }

    @Test func theDiscoveredKeySetVerifiesTokensAndIssMustBeTheIssuer() {
        let h = harness()
        h.fetcher.serve(url: Self.discoveryURL, discovery())
        h.fetcher.serve(url: Self.certs, ["keys": .array([k1.jwk()])])
        #expect(h.evaluate(k1.token(claims(iss: Self.issuer)))?.allow == true)
        #expect(h.fetcher.urls == [Self.discoveryURL, Self.certs])
        #expect(h.evaluate(k1.token(claims(iss: "https://idp.test/realms/other")))?.reason == .badIssuer)
        #expect(h.evaluate(k1.token(claims(iss: nil)))?.reason == .badIssuer)
        let stats = h.cache.stats
        #expect(stats["url"] == .string(Self.certs))
        #expect(stats["oidc_issuer"] == .string(Self.issuer))
        #expect(stats["discovery"]?["jwks_uri"] == .string(Self.certs))
        #expect(stats["discovery"]?["last_result"] == "ok")
        #expect(h.cache.report.name == Self.issuer)
    }

    @Test func anExplicitIssuerReplacesTheIssCheck() {
        let h = harness("issuer = \"https://tokens.idp.test/\"")
        h.fetcher.serve(url: Self.discoveryURL, discovery())
        h.fetcher.serve(url: Self.certs, ["keys": .array([k1.jwk()])])
        #expect(h.evaluate(k1.token(claims(iss: "https://tokens.idp.test/")))?.allow == true)
        #expect(h.evaluate(k1.token(claims(iss: Self.issuer)))?.reason == .badIssuer)
    }

    @Test func aDiscoveryDocumentForAnotherIssuerLeavesTheSourceUnavailable() {
        let h = harness()
        h.fetcher.serve(url: Self.discoveryURL, discovery(issuer: "https://idp.test/realms/master"))
        h.fetcher.serve(url: Self.certs, ["keys": .array([k1.jwk()])])
        let r = h.evaluate(k1.token(claims(iss: Self.issuer)))
        #expect(r?.reason == .jwksUnavailable)
        #expect(r?.status == 503)
        #expect(r?.message?.contains("names issuer \"https://idp.test/realms/master\", not oidc_issuer") == true)
        // The key set it names is never fetched.
        #expect(h.fetcher.fetchCount(Self.certs) == 0)
        #expect(h.cache.report.state == .unavailable)
        #expect(h.cache.report.lastError?.contains("OIDC discovery failed") == true)
    }

    @Test func theIssuerMustMatchExactlyEvenForATrailingSlash() {
        let h = harness()
        h.fetcher.serve(url: Self.discoveryURL, discovery(issuer: Self.issuer + "/"))
        #expect(h.evaluate(k1.token(claims(iss: Self.issuer)))?.reason == .jwksUnavailable)
    }

    @Test func oneTrailingSlashIsStrippedBeforeTheWellKnownPath() {
        #expect(JWKSSourceSettings(oidcIssuer: "https://idp.test/realms/main/").discoveryURL == Self.discoveryURL)
        #expect(JWKSSourceSettings(oidcIssuer: Self.issuer).discoveryURL == Self.discoveryURL)
        #expect(JWKSSourceSettings(oidcIssuer: "https://idp.test").discoveryURL == "https://idp.test/.well-known/openid-configuration")
        // A provider whose issuer ends in a slash publishes that slash as its issuer.
        let h = JWKSHarness("oidc_issuer = \"https://idp.test/realms/main/\"")
        h.fetcher.serve(url: Self.discoveryURL, discovery(issuer: "https://idp.test/realms/main/"))
        h.fetcher.serve(url: Self.certs, ["keys": .array([k1.jwk()])])
        #expect(h.evaluate(k1.token(claims(iss: "https://idp.test/realms/main/")))?.allow == true)
    }

    @Test func theDiscoveryFetchIsBoundedInSize() {
        let h = harness()
        h.fetcher.serve(url: Self.discoveryURL, discovery())
        h.fetcher.serve(url: Self.certs, ["keys": .array([k1.jwk()])])
        _ = h.evaluate(k1.token(claims(iss: Self.issuer)))
        let request = h.fetcher.requests.first { $0.url == Self.discoveryURL }
        #expect(request?.maxBytes == 256 << 10)
    }

    @Test func discoveryIsCachedAndRefreshedInTheBackgroundLikeTheKeySet() {
        let h = harness("cache_ttl = 60")
        h.fetcher.serve(url: Self.discoveryURL, discovery())
        h.fetcher.serve(url: Self.certs, ["keys": .array([k1.jwk()])])
        #expect(h.evaluate(k1.token(claims(iss: Self.issuer)))?.allow == true)
        // An unknown kid refetches the keys, not the discovery document.
        h.clock.advance(10)
        #expect(h.evaluate(k2.token(claims(iss: Self.issuer)))?.reason == .unknownKid)
        #expect(h.fetcher.fetchCount(Self.discoveryURL) == 1)
        #expect(h.fetcher.fetchCount(Self.certs) == 2)
        // Both refresh at 80% of 60 s.
        h.clock.advance(38.5)
        #expect(h.fetcher.fetchCount(Self.discoveryURL) == 2)
        // While discovery fails, the last good document keeps naming the key set.
        h.fetcher.fail(url: Self.discoveryURL, "Connection refused")
        h.clock.advance(200)
        #expect(h.cache.stats["discovery"]?["last_result"] == "Connection refused")
        #expect(h.evaluate(k1.token(claims(iss: Self.issuer, sub: "later")))?.allow == true)
    }

    @Test func aMovedKeySetIsFollowedAtOnce() {
        let h = harness()
        let moved = "https://keys.idp.test/main/certs"
        // The discovery document is fresh for 30 s (refreshed at 24), the keys for 300 s.
        h.fetcher.serve(url: Self.discoveryURL, discovery(), headers: [("cache-control", "max-age=30")])
        h.fetcher.serve(url: Self.certs, ["keys": .array([k1.jwk()])])
        #expect(h.evaluate(k1.token(claims(iss: Self.issuer)))?.allow == true)
        h.fetcher.serve(url: Self.discoveryURL, discovery(jwksURI: moved), headers: [("cache-control", "max-age=30")])
        h.fetcher.serve(url: moved, ["keys": .array([k2.jwk()])])
        h.clock.advance(25)
        #expect(h.fetcher.fetchCount(moved) == 1)
        #expect(h.cache.stats["url"] == .string(moved))
        #expect(h.evaluate(k2.token(claims(iss: Self.issuer)))?.allow == true)
        #expect(h.fetcher.fetchCount(Self.certs) == 1)
    }

    @Test func discoveryDocumentsThatCannotServeAreRefused() {
        func why(_ text: String, issuer: String = Self.issuer) -> String? {
            if case .failure(let e) = OIDCDiscoveryDocument.parse(Array(text.utf8), expectedIssuer: issuer) { return e.message }
            return nil
        }
        #expect(why("<html>") != nil)
        #expect(why("[]")?.contains("not a JSON object") == true)
        #expect(why(#"{"jwks_uri": "https://idp.test/certs"}"#)?.contains("no issuer") == true)
        #expect(why(#"{"issuer": "\#(Self.issuer)"}"#)?.contains("no jwks_uri") == true)
        #expect(why(#"{"issuer": "\#(Self.issuer)", "jwks_uri": "ftp://idp.test/certs"}"#)?.contains("jwks_uri") == true)
        #expect(why(#"{"issuer": "\#(Self.issuer)", "jwks_uri": "http://idp.test/certs"}"#)?.contains("http:// for an https:// issuer") == true)
        #expect(why(#"{"issuer": "https://evil.test", "issuer": "\#(Self.issuer)", "jwks_uri": "https://idp.test/certs"}"#) != nil)
        #expect(why(#"{"issuer": "http://idp.test", "jwks_uri": "http://idp.test/certs"}"#, issuer: "http://idp.test") == nil)
        #expect(why(#"{"issuer": "\#(Self.issuer)", "jwks_uri": "https://idp.test/certs"}"#) == nil)
        // What the provider says reaches answers and logs quoted, escaped and cut short.
        let forged = why(#"{"issuer": "x\nlevel=error forged", "jwks_uri": "https://idp.test/certs"}"#)
        #expect(forged?.contains("\n") == false)
        #expect(forged?.contains(#""x\nlevel=error forged""#) == true)
        let long = why(#"{"issuer": "\#(String(repeating: "a", count: 5000))", "jwks_uri": "https://idp.test/certs"}"#)
        #expect((long?.count ?? 0) < 400)
    }

    @Test func urlAndOIDCIssuerAreExclusiveAndOneIsNeeded() {
        func error(_ toml: String) -> ConfigError? {
            do {
                _ = try JWKSFactory().makePlugin(config: jwksStepTable(toml), context: jwksContext())
                return nil
            } catch {
                return error
            }
        }
        let both = error("url = \"https://idp.test/certs\"\noidc_issuer = \"\(Self.issuer)\"")
        #expect(both?.line == 2)
        #expect(both?.file == "apps.d/test.toml")
        #expect(both?.message.contains("not both") == true)
        let neither = error("algorithms = [\"RS256\"]")
        #expect(neither?.message.contains("url is required (or oidc_issuer") == true)
        for bad in ["ftp://idp.test", "https://idp.test/realms/main?x=1", "https://idp.test/#f", "idp.test"] {
            let e = error("algorithms = [\"RS256\"]\noidc_issuer = \"\(bad)\"")
            #expect(e?.line == 2)
            #expect(e?.message.contains("oidc_issuer must be") == true)
        }
        #expect(error("oidc_issuer = \"\(Self.issuer)\"") == nil)
    }

    @Test func stepsNamingTheSameIssuerShareOneSourceDistinctFromAURLSource() throws {
        let resources = SharedResources()
        let a = try #require(try JWKSFactory().makePlugin(config: jwksStepTable("oidc_issuer = \"\(Self.issuer)\""),
                                                          context: jwksContext(resources: resources)) as? JWKSPlugin)
        let b = try #require(try JWKSFactory().makePlugin(config: jwksStepTable("oidc_issuer = \"\(Self.issuer)\"\naudience = \"api\""),
                                                          context: jwksContext(resources: resources)) as? JWKSPlugin)
        let c = try #require(try JWKSFactory().makePlugin(config: jwksStepTable("url = \"\(Self.issuer)\""),
                                                          context: jwksContext(resources: resources)) as? JWKSPlugin)
        #expect(a.cache === b.cache)
        #expect(a.cache !== c.cache)
    }
}
