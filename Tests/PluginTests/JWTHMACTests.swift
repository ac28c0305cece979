import AuthzCore
import AuthzCrypto
import AuthzJSON
import Foundation
import JOSE
import JWTHMACPlugin
import Testing

/// Secrets of exactly the length each algorithm needs.
private let secret256 = "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq"
private let secret384 = String(repeating: "3", count: 48)
private let secret512 = String(repeating: "5", count: 64)
private let otherSecret = "another-secret-of-32-bytes-here!"

private let now = StepFixture.now

private func hmacKey(_ secret: String, _ hash: HashFunction = .sha256) -> HMACKey {
    HMACKey(algorithm: hash, key: Array(secret.utf8))
}

private func claims(_ members: [(String, JSONValue)]) -> JSONObject { JSONObject(members) }

private func num(_ v: Int64) -> JSONValue { .number(JSONNumber(Int(v))) }

/// A token minted by JOSE's signer.
private func mint(_ members: [(String, JSONValue)] = [("sub", "alice"), ("exp", num(now + 3600))],
                  secret: String = secret256, hash: HashFunction = .sha256, kid: String? = nil) -> String {
    JWSSigner.sign(claims: claims(members), kid: kid, hmac: hmacKey(secret, hash))
}

/// A token with any header, MACed with `secret` under SHA-256.
private func handMade(header: String, payload: String = #"{"sub":"alice"}"#, secret: String = secret256) -> String {
    let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
    return input + "." + Base64URL.encode(hmacKey(secret).mac(Array(input.utf8)))
}

private func bearer(_ token: String) -> CheckRequest {
    CheckRequest(app: "app", headers: Headers([("Authorization", "Bearer " + token)]))
}

@Suite struct JWTHMACTests {
    private func step(_ toml: String = "secret = \"\(secret256)\"\n", baseDirectory: String = ".",
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> any ChainPlugin {
        try StepFixture.plugin(JWTHMACFactory(), toml, baseDirectory: baseDirectory, sourceLocation: sourceLocation)
    }

    private func run(_ p: any ChainPlugin, _ request: CheckRequest, at time: Int64 = now,
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> StepResult {
        try #require(StepFixture.result(p, request, now: time, sourceLocation: sourceLocation), sourceLocation: sourceLocation)
    }

    /// Expects a 401 denial with `reason` and an RFC 6750 invalid_token challenge.
    private func expectInvalid(_ r: StepResult, _ reason: Reason, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!r.allow, sourceLocation: sourceLocation)
        #expect(r.reason == reason, "got \(r.reason)", sourceLocation: sourceLocation)
        #expect(r.status == 401, sourceLocation: sourceLocation)
        let challenge = r.headers.first { $0.0 == "www-authenticate" }?.1 ?? ""
        #expect(challenge.hasPrefix("Bearer realm=\"app\", error=\"invalid_token\""), "\(challenge)", sourceLocation: sourceLocation)
    }

    @Test func validTokensOfEachAlgorithmAllow() throws {
        let cases: [(String, String, HashFunction)] = [("HS256", secret256, .sha256), ("HS384", secret384, .sha384), ("HS512", secret512, .sha512)]
        for (alg, secret, hash) in cases {
            let p = try step("secret = \"\(secret)\"\nalgorithms = [\"\(alg)\"]\n")
            let r = try run(p, bearer(mint(secret: secret, hash: hash)))
            #expect(r.allow, "\(alg)")
            #expect(r.status == 200 && r.reason == .ok)
            #expect(r.subject == "alice")
        }
    }

    @Test func severalAlgorithmsMayBeAllowedTogether() throws {
        let p = try step("secret = \"\(secret512)\"\nalgorithms = [\"HS256\", \"HS512\"]\n")
        #expect(try run(p, bearer(mint(secret: secret512, hash: .sha256))).allow)
        #expect(try run(p, bearer(mint(secret: secret512, hash: .sha512))).allow)
        expectInvalid(try run(p, bearer(mint(secret: secret512, hash: .sha384))), .algNotAllowed)
    }

    @Test func theTokenIsTakenRawOrAfterBearerInAnyCase() throws {
        let p = try step()
        let t = mint()
        for value in [t, "Bearer " + t, "bearer " + t, "BEARER " + t, "BeArEr " + t, "Bearer   " + t + "  ", "  " + t] {
            let req = CheckRequest(app: "app", headers: Headers([("authorization", value)]))
            #expect(try run(p, req).allow, "\(value.prefix(12))")
        }
    }

    @Test func otherSchemesAreNotTokens() throws {
        let p = try step()
        let req = CheckRequest(app: "app", headers: Headers([("Authorization", "Basic dXNlcjpwYXNzd29yZA==")]))
        #expect(try run(p, req).allow == false)
        let glued = CheckRequest(app: "app", headers: Headers([("Authorization", "Bearer" + mint())]))
        #expect(try run(p, glued).allow == false)
    }

    @Test func noTokenIsA401WithAPlainChallenge() throws {
        let p = try step()
        for req in [CheckRequest(app: "app"),
                    CheckRequest(app: "app", headers: Headers([("Authorization", "")])),
                    CheckRequest(app: "app", headers: Headers([("Authorization", "Bearer ")])),
                    CheckRequest(app: "app", headers: Headers([("Authorization", "Bearer")])),
                    CheckRequest(app: "app", headers: Headers([("X-Token", mint())]))] {
            let r = try run(p, req)
            #expect(!r.allow && r.reason == .noToken && r.status == 401)
            // RFC 6750 §3.1: no error code when the request carried no credentials.
            #expect(r.headers.map { $0.0 } == ["www-authenticate"])
            #expect(r.headers.first?.1 == "Bearer realm=\"app\"")
        }
    }

    @Test func tokenFromHeaderCookieAndQuery() throws {
        let t = mint()
        let header = try step("secret = \"\(secret256)\"\ntoken_from = [\"header:X-Auth-Token\"]\n")
        #expect(try run(header, CheckRequest(app: "app", headers: Headers([("x-auth-token", t)]))).allow)
        #expect(try run(header, bearer(t)).reason == .noToken)

        let cookie = try step("secret = \"\(secret256)\"\ntoken_from = [\"cookie:jwt\"]\n")
        #expect(try run(cookie, CheckRequest(app: "app", headers: Headers([("Cookie", "a=b; jwt=\(t); c=d")]))).allow)
        #expect(try run(cookie, CheckRequest(app: "app", headers: Headers([("Cookie", "jwtx=\(t)")]))).reason == .noToken)

        let query = try step("secret = \"\(secret256)\"\ntoken_from = [\"query:token\"]\n")
        #expect(try run(query, CheckRequest(app: "app", path: "/live/rest/v2/broadcasts?x=1&token=\(t)")).allow)
        #expect(try run(query, CheckRequest(app: "app", path: "/live/rest/v2/broadcasts?tok=\(t)")).reason == .noToken)

        // Sources are tried in order; the first that has a token decides.
        let both = try step("secret = \"\(secret256)\"\ntoken_from = [\"query:token\", \"authorization\"]\n")
        #expect(try run(both, bearer(t)).allow)
        let first = CheckRequest(app: "app", path: "/p?token=garbage", headers: Headers([("Authorization", t)]))
        #expect(try run(both, first).reason == .malformedToken)
    }

    @Test(arguments: ["none", "None", "NONE", "nOnE", "none ", ""])
    func algNoneIsNeverAllowed(_ alg: String) throws {
        let p = try step()
        let header = #"{"alg":"\#(alg)","typ":"JWT"}"#
        // With a MAC attached, and with the empty signature `none` tokens carry.
        let signed = handMade(header: header)
        let unsigned = String(signed[..<signed.lastIndex(of: ".")!]) + "."
        let rs = try run(p, bearer(signed))
        #expect(!rs.allow)
        #expect(rs.reason == .algNotAllowed || rs.reason == .malformedToken)
        let ru = try run(p, bearer(unsigned))
        #expect(!ru.allow && ru.status == 401)
    }

    @Test func algNoneWithASignatureIsAlgNotAllowed() throws {
        expectInvalid(try run(try step(), bearer(handMade(header: #"{"alg":"none"}"#))), .algNotAllowed)
    }

    @Test func anAlgorithmOutsideTheListIsAlgNotAllowed() throws {
        let p = try step("secret = \"\(secret512)\"\nalgorithms = [\"HS256\"]\n")
        expectInvalid(try run(p, bearer(mint(secret: secret512, hash: .sha512))), .algNotAllowed)
        expectInvalid(try run(p, bearer(mint(secret: secret512, hash: .sha384))), .algNotAllowed)
        // An asymmetric alg over an HMAC secret (algorithm confusion) is refused before any check.
        expectInvalid(try run(p, bearer(handMade(header: #"{"alg":"RS256"}"#, secret: secret512))), .algNotAllowed)
    }

    @Test func theWrongSecretIsBadSignature() throws {
        let r = try run(try step(), bearer(mint(secret: otherSecret)))
        expectInvalid(r, .badSignature)
        #expect(r.message?.contains(secret256) != true)
    }

    @Test func aTamperedPayloadIsBadSignature() throws {
        let t = mint([("sub", "alice"), ("role", "user"), ("exp", num(now + 60))])
        let parts = t.split(separator: ".").map(String.init)
        let forged = #"{"sub":"alice","role":"admin","exp":\#(now + 60)}"#
        let tampered = parts[0] + "." + Base64URL.encode(Array(forged.utf8)) + "." + parts[2]
        expectInvalid(try run(try step(), bearer(tampered)), .badSignature)
        // And a flipped signature byte.
        var sig = try #require(Base64URL.decode(parts[2]))
        sig[0] ^= 1
        expectInvalid(try run(try step(), bearer(parts[0] + "." + parts[1] + "." + Base64URL.encode(sig))), .badSignature)
    }

    @Test(arguments: ["abc", "a.b", "a.b.c.d", "...", "e30.e30.", "!!!.e30.c2ln", "e30.e30.c2ln"])
    func malformedTokensAreMalformed(_ token: String) throws {
        expectInvalid(try run(try step(), bearer(token)), .malformedToken)
    }

    @Test func aPayloadThatIsNotAClaimsObjectIsMalformed() throws {
        expectInvalid(try run(try step(), bearer(handMade(header: #"{"alg":"HS256"}"#, payload: "[1,2]"))), .malformedToken)
        expectInvalid(try run(try step(), bearer(handMade(header: #"{"alg":"HS256"}"#, payload: #"{"a":1,"a":2}"#))), .malformedToken)
    }

    @Test func expiryIsExclusiveAndHonoursLeeway() throws {
        let p = try step()
        expectInvalid(try run(p, bearer(mint([("exp", num(now))]))), .tokenExpired)
        expectInvalid(try run(p, bearer(mint([("exp", num(now - 1))]))), .tokenExpired)
        #expect(try run(p, bearer(mint([("exp", num(now + 1))]))).allow)

        let lenient = try step("secret = \"\(secret256)\"\nleeway = 30\n")
        #expect(try run(lenient, bearer(mint([("exp", num(now - 29))]))).allow)
        expectInvalid(try run(lenient, bearer(mint([("exp", num(now - 30))]))), .tokenExpired)
    }

    @Test func notBeforeInTheFutureIsNotYetValid() throws {
        let p = try step()
        expectInvalid(try run(p, bearer(mint([("nbf", num(now + 10))]))), .tokenNotYetValid)
        #expect(try run(p, bearer(mint([("nbf", num(now))]))).allow)
        let lenient = try step("secret = \"\(secret256)\"\nleeway = 10\n")
        #expect(try run(lenient, bearer(mint([("nbf", num(now + 10))]))).allow)
        expectInvalid(try run(lenient, bearer(mint([("nbf", num(now + 11))]))), .tokenNotYetValid)
    }

    @Test func timeClaimsOfTheWrongTypeAreMalformed() throws {
        expectInvalid(try run(try step(), bearer(mint([("exp", "tomorrow")]))), .malformedToken)
    }

    @Test func requireExpRefusesATokenWithoutExp() throws {
        #expect(try run(try step(), bearer(mint([("sub", "a")]))).allow)
        let strict = try step("secret = \"\(secret256)\"\nrequire_exp = true\n")
        expectInvalid(try run(strict, bearer(mint([("sub", "a")]))), .missingClaim)
        #expect(try run(strict, bearer(mint([("sub", "a"), ("exp", num(now + 5))]))).allow)
    }

    @Test func issuerMustMatchOneOfTheConfigured() throws {
        let one = try step("secret = \"\(secret256)\"\nissuer = \"https://ams.example\"\n")
        #expect(try run(one, bearer(mint([("iss", "https://ams.example")]))).allow)
        expectInvalid(try run(one, bearer(mint([("iss", "https://evil.example")]))), .badIssuer)
        expectInvalid(try run(one, bearer(mint([("sub", "x")]))), .badIssuer)
        expectInvalid(try run(one, bearer(mint([("iss", ["https://ams.example"])]))), .badIssuer)

        let list = try step("secret = \"\(secret256)\"\nissuer = [\"a\", \"b\"]\n")
        #expect(try run(list, bearer(mint([("iss", "b")]))).allow)
        expectInvalid(try run(list, bearer(mint([("iss", "c")]))), .badIssuer)
    }

    @Test func audienceMustShareAValue() throws {
        let one = try step("secret = \"\(secret256)\"\naudience = \"live\"\n")
        #expect(try run(one, bearer(mint([("aud", "live")]))).allow)
        #expect(try run(one, bearer(mint([("aud", ["other", "live"])]))).allow)
        expectInvalid(try run(one, bearer(mint([("aud", "vod")]))), .badAudience)
        expectInvalid(try run(one, bearer(mint([("aud", ["vod", "other"])]))), .badAudience)
        expectInvalid(try run(one, bearer(mint([("sub", "x")]))), .badAudience)
        expectInvalid(try run(one, bearer(mint([("aud", 5)]))), .badAudience)

        let list = try step("secret = \"\(secret256)\"\naudience = [\"live\", \"vod\"]\n")
        #expect(try run(list, bearer(mint([("aud", "vod")]))).allow)
        #expect(try run(list, bearer(mint([("aud", ["x", "live"])]))).allow)
        expectInvalid(try run(list, bearer(mint([("aud", ["x", "y"])]))), .badAudience)
    }

    @Test func requiredClaimsMustBePresent() throws {
        let p = try step("secret = \"\(secret256)\"\nrequired_claims = [\"sub\", \"role\"]\n")
        #expect(try run(p, bearer(mint([("sub", "a"), ("role", "admin")]))).allow)
        #expect(try run(p, bearer(mint([("sub", "a"), ("role", nil)]))).allow)
        expectInvalid(try run(p, bearer(mint([("sub", "a")]))), .missingClaim)
    }

    @Test func forwardClaimsBecomeHeaders() throws {
        let p = try step("""
            secret = "\(secret256)"
            forward_claims = { sub = "x-auth-subject", role = "X-Auth-Role", n = "x-n", groups = "x-groups", absent = "x-absent", bad = "x-bad" }
            """)
        let r = try run(p, bearer(mint([("sub", "alice"), ("role", "admin"), ("n", 42), ("groups", ["a", "b"]), ("bad", "a\r\nInjected: 1")])))
        #expect(r.allow)
        let h = Dictionary(r.headers, uniquingKeysWith: { a, _ in a })
        #expect(h == ["x-auth-subject": "alice", "x-auth-role": "admin", "x-n": "42", "x-groups": "a,b"])
    }

    @Test func ttlIsBoundedByExp() throws {
        let p = try step()
        #expect(try run(p, bearer(mint([("exp", num(now + 30))]))).ttl == 30)
        #expect(try run(p, bearer(mint([("exp", num(now + 1))]))).ttl == 1)
        #expect((try run(p, bearer(mint([("exp", num(now + 100_000))]))).ttl ?? .max) <= AppChain.maxTTL)
        #expect(try run(p, bearer(mint([("sub", "a")]))).ttl == nil)
        // Within leeway past exp: allowed, but not cacheable.
        let lenient = try step("secret = \"\(secret256)\"\nleeway = 30\n")
        #expect(try run(lenient, bearer(mint([("exp", num(now - 5))]))).ttl == 0)
    }

    @Test func keysWithKidsRotate() throws {
        let dir = try StepFixture.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data((otherSecret + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/old.key"))
        let p = try step("""
            secrets = [{ kid = "2026-11", secret = "\(secret256)" }, { kid = "old", secret_file = "old.key" }]
            """, baseDirectory: dir)
        #expect(try run(p, bearer(mint(secret: secret256, kid: "2026-11"))).allow)
        #expect(try run(p, bearer(mint(secret: otherSecret, kid: "old"))).allow)
        // A kid picks its own secret only.
        expectInvalid(try run(p, bearer(mint(secret: secret256, kid: "old"))), .badSignature)
        // No kid: any secret may verify.
        #expect(try run(p, bearer(mint(secret: otherSecret))).allow)
        #expect(try run(p, bearer(mint(secret: secret256))).allow)
        // A kid nobody has, and no unkeyed secret to fall back on.
        expectInvalid(try run(p, bearer(mint(secret: secret256, kid: "2025-01"))), .unknownKid)
    }

    @Test func anUnknownKidFallsBackToUnkeyedSecrets() throws {
        let p = try step("""
            secrets = [{ kid = "new", secret = "\(secret256)" }, { secret = "\(otherSecret)" }]
            """)
        #expect(try run(p, bearer(mint(secret: otherSecret, kid: "whatever"))).allow)
        expectInvalid(try run(p, bearer(mint(secret: secret256, kid: "whatever"))), .badSignature)
        let single = try step()
        #expect(try run(single, bearer(mint(kid: "any"))).allow)
    }

    @Test func theChallengeFollowsRFC6750() throws {
        let r = try run(try step(), bearer(mint(secret: otherSecret)))
        #expect(r.headers.count == 1)
        #expect(r.headers.first?.0 == "www-authenticate")
        #expect(r.headers.first?.1 == #"Bearer realm="app", error="invalid_token", error_description="bad signature""#)
    }

    @Test func theRealmIsAQuotedStringEvenForOddAppNames() throws {
        let p = try StepFixture.plugin(JWTHMACFactory(), "secret = \"\(secret256)\"\n", app: #"we"ird\app"#)
        let r = try run(p, CheckRequest(app: "x"))
        #expect(r.headers.first?.1 == #"Bearer realm="we\"ird\\app""#)
    }

    @Test func aCachedTokenIsDeniedOnceItExpires() throws {
        for cache in ["", "token_cache_size = 0\n"] {
            let p = try step("secret = \"\(secret256)\"\n" + cache)
            let t = mint([("sub", "a"), ("exp", num(now + 100))])
            #expect(try run(p, bearer(t)).allow)
            #expect(try run(p, bearer(t), at: now + 99).allow)
            expectInvalid(try run(p, bearer(t), at: now + 100), .tokenExpired)
            expectInvalid(try run(p, bearer(t), at: now + 5000), .tokenExpired)
        }
    }

    @Test func aCachedTokenIsStillCheckedForNotBefore() throws {
        let p = try step()
        let t = mint([("nbf", num(now))])
        #expect(try run(p, bearer(t)).allow)
        expectInvalid(try run(p, bearer(t), at: now - 100), .tokenNotYetValid)
    }

    @Test func aCachedTokenKeepsItsSignatureCheckAgainstAnotherToken() throws {
        let p = try step()
        let good = mint()
        #expect(try run(p, bearer(good)).allow)
        let parts = good.split(separator: ".")
        expectInvalid(try run(p, bearer(parts[0] + "." + parts[1] + "." + Base64URL.encode([1, 2, 3]))), .badSignature)
    }

    @Test func messagesNeverContainTheTokenOrTheSecret() throws {
        let p = try step()
        for t in [mint(secret: otherSecret), mint([("exp", num(now - 1))]), "abc.def.ghi"] {
            let r = try run(p, bearer(t))
            #expect(!(r.message ?? "").contains(t))
            #expect(!(r.message ?? "").contains(secret256))
        }
    }
}
