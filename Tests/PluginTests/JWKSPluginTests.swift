import AuthzCore
import AuthzCrypto
import AuthzJSON
import JOSE
@testable import JWKSPlugin
import Testing

/// A token with any header, signed by `key`.
func jwksRawToken(header: JSONObject, claims: JSONObject = JWKSTestKey.validClaims(), key: PrivateKey, alg: JWSAlgorithm) -> String {
    var w = JSONWriter()
    w.write(.object(header))
    var input = Base64URL.encode(w.bytes) + "."
    w = JSONWriter()
    w.write(.object(claims))
    input += Base64URL.encode(w.bytes)
    let sig = try! key.sign(alg.signatureAlgorithm!, message: Array(input.utf8))
    return input + "." + Base64URL.encode(sig)
}

/// Key selection and verification rules, against sets served by a scripted fetcher.
struct JWKSPluginTests {
    static let all: [JWKSTestKey] = [
        JWKSTestKey(kid: "rs256", alg: .rs256, JWKSTestKey.rsa),
        JWKSTestKey(kid: "rs384", alg: .rs384, JWKSTestKey.rsa),
        JWKSTestKey(kid: "rs512", alg: .rs512, JWKSTestKey.rsa),
        JWKSTestKey(kid: "ps256", alg: .ps256, JWKSTestKey.rsa),
        JWKSTestKey(kid: "ps384", alg: .ps384, JWKSTestKey.rsa),
        JWKSTestKey(kid: "ps512", alg: .ps512, JWKSTestKey.rsa),
        JWKSTestKey(kid: "es256", alg: .es256, JWKSTestKey.p256),
        JWKSTestKey(kid: "es384", alg: .es384, JWKSTestKey.p384),
        JWKSTestKey(kid: "es512", alg: .es512, JWKSTestKey.p521),
        JWKSTestKey(kid: "eddsa", alg: .edDSA, JWKSTestKey.ed25519),
    ]

    @Test(arguments: JWKSPluginTests.all.map(\.kid!))
    func everyAlgorithmVerifiesWithItsKidsKey(kid: String) {
        let key = Self.all.first { $0.kid == kid }!
        let h = JWKSHarness()
        h.fetcher.serve(keys: Self.all.map { $0.jwk(alg: true) })
        let r = h.evaluate(key.token())
        #expect(r?.allow == true)
        #expect(r?.subject == "alice")
    }

    @Test func tamperedTokenIsABadSignature() {
        let key = Self.all[0]
        let h = JWKSHarness()
        h.fetcher.serve(keys: [key.jwk()])
        var token = key.token()
        // Flip one signature character (keeping it canonical base64url).
        let last = token.removeLast()
        token.append(last == "A" ? "Q" : "A")
        #expect(h.evaluate(token)?.reason == .badSignature)
    }

    @Test func rsaKeysUnder2048BitsAreNeverUsed() {
        let strong = JWKSTestKey(kid: "strong", alg: .rs256, JWKSTestKey.rsa)
        let h = JWKSHarness()
        h.fetcher.serve(keys: [weakRSAJWK, strong.jwk()])
        #expect(h.evaluate(strong.token())?.allow == true)
        // Whatever signed it, a token naming the weak key finds no usable key.
        #expect(h.evaluate(strong.token(kid: "weak"))?.reason == .unknownKid)
        #expect(h.cache.stats["skipped_keys"] == 1)
    }

    @Test func aKidWhoseKeyIsOfAnotherTypeOrCurveCannotVerify() {
        let ec = JWKSTestKey(kid: "ec", alg: .es256, JWKSTestKey.p256)
        let h = JWKSHarness()
        h.fetcher.serve(keys: [ec.jwk()])
        // An ES384 token (P-384 key) naming the P-256 key's kid: curve does not fit the alg.
        let p384Token = JWKSTestKey(kid: "ec", alg: .es384, JWKSTestKey.p384).token()
        #expect(h.evaluate(p384Token)?.reason == .badSignature)
        // An RS256 token naming an EC key.
        let rsaToken = JWKSTestKey(kid: "ec", alg: .rs256, JWKSTestKey.rsa).token()
        #expect(h.evaluate(rsaToken)?.reason == .badSignature)
    }

    @Test func aKeysJWKAlgRestrictsItToThatAlgorithm() {
        let h = JWKSHarness()
        h.fetcher.serve(keys: [JWKSTestKey(kid: "k", alg: .rs256, JWKSTestKey.rsa).jwk(alg: true)])
        #expect(h.evaluate(JWKSTestKey(kid: "k", alg: .rs256, JWKSTestKey.rsa).token())?.allow == true)
        #expect(h.evaluate(JWKSTestKey(kid: "k", alg: .ps256, JWKSTestKey.rsa).token())?.reason == .badSignature)
    }

    @Test func keysForEncryptionOrWithoutVerifyInKeyOpsAreNotUsed() {
        let enc = JWKSTestKey(kid: "enc", alg: .rs256, JWKSTestKey.rsa)
        let ops = JWKSTestKey(kid: "ops", alg: .rs256, JWKSTestKey.rsaOther)
        let ok = JWKSTestKey(kid: "ok", alg: .es256, JWKSTestKey.p256)
        let h = JWKSHarness()
        h.fetcher.serve(keys: [enc.jwk([("use", "enc")]), ops.jwk([("key_ops", ["encrypt", "wrapKey"])]),
                               ok.jwk([("key_ops", ["verify"])])])
        #expect(h.evaluate(enc.token())?.reason == .unknownKid)
        #expect(h.evaluate(ops.token())?.reason == .unknownKid)
        #expect(h.evaluate(ok.token())?.allow == true)
    }

    @Test func theKidSelectsTheKey() {
        let k1 = JWKSTestKey(kid: "k1", alg: .rs256, JWKSTestKey.rsa)
        let k2 = JWKSTestKey(kid: "k2", alg: .rs256, JWKSTestKey.rsaOther)
        let h = JWKSHarness()
        h.fetcher.serve(keys: [k1.jwk(), k2.jwk()])
        #expect(h.evaluate(k2.token())?.allow == true)
        // Signed by k2 but naming k1: only k1 is tried.
        #expect(h.evaluate(k2.token(kid: "k1"))?.reason == .badSignature)
    }

    @Test func aTokenWithoutKidNeedsExactlyOneFittingKey() {
        let rsa = JWKSTestKey(kid: "r", alg: .rs256, JWKSTestKey.rsa)
        let ec = JWKSTestKey(kid: "e", alg: .es256, JWKSTestKey.p256)
        let h = JWKSHarness()
        h.fetcher.serve(keys: [rsa.jwk(), ec.jwk()])
        #expect(h.evaluate(rsa.token(kid: .some(nil)))?.allow == true)

        let other = JWKSTestKey(kid: "r2", alg: .rs256, JWKSTestKey.rsaOther)
        let two = JWKSHarness()
        two.fetcher.serve(keys: [rsa.jwk(), other.jwk()])
        let r = two.evaluate(rsa.token(kid: .some(nil)))
        #expect(r?.reason == .unknownKid)
        #expect(r?.allow == false)
    }

    @Test func unknownKeyTypesAreSkippedAndTheRestServe() {
        let rsa = JWKSTestKey(kid: "r", alg: .rs256, JWKSTestKey.rsa)
        let h = JWKSHarness()
        h.fetcher.serve(keys: [["kty": "oct", "kid": "sym", "k": "c2VjcmV0"], ["kty": "EC", "crv": "secp256k1", "kid": "k1", "x": "AA", "y": "AA"], rsa.jwk()])
        #expect(h.evaluate(rsa.token())?.allow == true)
        #expect(h.cache.stats["skipped_keys"] == 2)
    }

    @Test func anAlgorithmOutsideTheStepsListIsRefusedBeforeAnyKeyIsLooked() {
        let h = JWKSHarness("url = \"https://idp.test/jwks.json\"")
        let ec = JWKSTestKey(kid: "e", alg: .es256, JWKSTestKey.p256)
        h.fetcher.serve(keys: [ec.jwk()])
        #expect(h.evaluate(ec.token())?.reason == .algNotAllowed)
        #expect(h.fetcher.fetchCount == 0)
    }

    @Test func anHS256TokenMACedWithThePublicKeyIsRefused() {
        let rsa = JWKSTestKey(kid: "r", alg: .rs256, JWKSTestKey.rsa)
        let h = JWKSHarness()
        h.fetcher.serve(keys: [rsa.jwk()])
        // The classic confusion: the attacker uses the published key as an HMAC secret.
        let secret = HMACKey(algorithm: .sha256, key: jwksDocument([rsa.jwk()]))
        let token = JWSSigner.sign(claims: JWKSTestKey.validClaims(), kid: "r", hmac: secret)
        let r = h.evaluate(token)
        #expect(r?.reason == .algNotAllowed)
        #expect(r?.status == 401)
    }

    @Test func keysCarriedInTheTokenAreNeverUsed() {
        let real = JWKSTestKey(kid: "real", alg: .rs256, JWKSTestKey.rsa)
        let attacker = JWKSTestKey(kid: "evil", alg: .rs256, JWKSTestKey.rsaOther)
        let h = JWKSHarness()
        h.fetcher.serve(keys: [real.jwk()])
        for kid in ["real", "evil"] {
            let header = JSONObject([("alg", "RS256"), ("kid", .string(kid)), ("jwk", attacker.jwk()),
                                     ("jku", "https://evil.test/jwks.json"), ("x5u", "https://evil.test/cert.pem")])
            let r = h.evaluate(jwksRawToken(header: header, key: JWKSTestKey.rsaOther, alg: .rs256))
            #expect(r?.allow == false)
            #expect(r?.reason == (kid == "real" ? .badSignature : .unknownKid))
        }
    }

    @Test func expIsRequiredByDefault() {
        let rsa = JWKSTestKey(kid: "r", alg: .rs256, JWKSTestKey.rsa)
        let h = JWKSHarness()
        h.fetcher.serve(keys: [rsa.jwk()])
        #expect(h.evaluate(rsa.token(JSONObject([("sub", "bob")])))?.reason == .missingClaim)
        #expect(h.evaluate(rsa.token(JWKSTestKey.validClaims(exp: JWKSTestKey.now - 1)))?.reason == .tokenExpired)
    }

    @Test func claimChecksAndForwardedClaimsApply() {
        let rsa = JWKSTestKey(kid: "r", alg: .rs256, JWKSTestKey.rsa)
        let h = JWKSHarness("""
            url = "https://idp.test/jwks.json"
            issuer = "https://idp.test/"
            audience = ["api"]
            forward_claims = { sub = "x-auth-subject" }
            """)
        h.fetcher.serve(keys: [rsa.jwk()])
        var claims = JWKSTestKey.validClaims(sub: "carol")
        claims["iss"] = "https://idp.test/"
        claims["aud"] = "api"
        let ok = h.evaluate(rsa.token(claims))
        #expect(ok?.allow == true)
        #expect(ok?.headers.first { $0.0 == "x-auth-subject" }?.1 == "carol")
        #expect(ok?.ttl == 60)
        claims["iss"] = "https://other.test/"
        #expect(h.evaluate(rsa.token(claims))?.reason == .badIssuer)
    }

    @Test func noTokenAndMalformedTokenAreDeniedWithAChallenge() {
        let h = JWKSHarness()
        let none = h.evaluate(nil)
        #expect(none?.reason == .noToken)
        #expect(none?.headers.contains { $0.0 == "www-authenticate" } == true)
        #expect(h.evaluate("not.a.jwt")?.reason == .malformedToken)
        #expect(h.fetcher.fetchCount == 0)
    }

    @Test func aRepeatedTokenIsServedFromTheVerifiedTokenCacheButTimeClaimsAreRechecked() {
        let rsa = JWKSTestKey(kid: "r", alg: .rs256, JWKSTestKey.rsa)
        let h = JWKSHarness()
        h.fetcher.serve(keys: [rsa.jwk()])
        let token = rsa.token(JWKSTestKey.validClaims(exp: JWKSTestKey.now + 10))
        #expect(h.evaluate(token)?.allow == true)
        #expect(h.plugin.tokens.count == 1)
        #expect(h.evaluate(token)?.allow == true)
        #expect(h.evaluate(token, now: JWKSTestKey.now + 10)?.reason == .tokenExpired)
    }
}
