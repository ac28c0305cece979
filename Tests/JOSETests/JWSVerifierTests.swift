import AuthzCrypto
import AuthzJSON
@testable import JOSE
import Testing

@Suite struct JWSVerifierTests {
    /// Loads a cookbook example: its compact output, parsed (payloads there are text, not claims),
    /// and its key reduced to the public half through JWKSet.
    func cookbook(_ path: String) throws -> (jws: CompactJWS, key: VerificationKey)? {
        guard let doc = TestVectors.load(path) else { return nil }
        let compact = try #require(doc["output"]?["compact"]?.stringValue)
        let jws = try CompactJWS.parse(compact, maxLength: 8192, payloadIsClaims: false)
        let jwk = try #require(doc["input"]?["key"])
        let set = try JWKSet.parse(Array(JSONValue.object(JSONObject([("keys", [jwk])])).jsonString.utf8))
        let key = try #require(set.keys.first, "cookbook key skipped: \(set.skipped)")
        return (jws, key)
    }

    @Test(arguments: [
        ("jose-cookbook/jws/4_1.rsa_v15_signature.json", JWSAlgorithm.rs256),
        ("jose-cookbook/jws/4_2.rsa-pss_signature.json", .ps384),
        ("jose-cookbook/jws/4_3.ecdsa_signature.json", .es512),
        ("jose-cookbook/curve25519/jws.json", .edDSA),
    ])
    func cookbookSignaturesVerifyAndTamperingFails(path: String, alg: JWSAlgorithm) throws {
        guard let (jws, key) = try cookbook(path) else { return }
        #expect(jws.algorithm == alg)
        #expect(JWSVerifier.verify(jws, with: key))
        #expect(JWSVerifier.verify(jws, with: key.key))
        // Same header and signature over a different payload.
        let parts = try #require(TestVectors.load(path)?["output"]?["compact"]?.stringValue)
            .split(separator: ".", omittingEmptySubsequences: false)
        let forged = parts[0] + "." + Base64URL.encode(Array("forged".utf8)) + "." + parts[2]
        let forgedJWS = try CompactJWS.parse(forged, maxLength: 8192, payloadIsClaims: false)
        #expect(!JWSVerifier.verify(forgedJWS, with: key))
    }

    @Test func cookbookPayloadsAreNotClaimsSoStrictParsingRefusesThem() throws {
        let doc = try #require(TestVectors.load("jose-cookbook/jws/4_1.rsa_v15_signature.json"))
        let compact = try #require(doc["output"]?["compact"]?.stringValue)
        expectCode(.malformedToken) { () throws(JOSEError) in _ = try CompactJWS.parse(compact) }
    }

    @Test func cookbookHMACVerifiesWithTheSymmetricKey() throws {
        let doc = try #require(TestVectors.load("jose-cookbook/jws/4_4.hmac-sha2_integrity_protection.json"))
        let keyDoc = try #require(TestVectors.load("jose-cookbook/jwk/3_5.symmetric_key_mac_computation.json"))
        let secret = try #require(Base64URL.decode(keyDoc["k"]?.stringValue ?? ""))
        let compact = try #require(doc["output"]?["compact"]?.stringValue)
        let jws = try CompactJWS.parse(compact, maxLength: 8192, payloadIsClaims: false)
        #expect(jws.algorithm == .hs256)
        #expect(JWSVerifier.verify(jws, hmac: HMACKey(algorithm: .sha256, key: secret)))
        // The right secret under the wrong hash, and a wrong secret, both fail.
        #expect(!JWSVerifier.verify(jws, hmac: HMACKey(algorithm: .sha384, key: secret)))
        var wrong = secret
        wrong[0] ^= 1
        #expect(!JWSVerifier.verify(jws, hmac: HMACKey(algorithm: .sha256, key: wrong)))
    }

    @Test func keyOfTheWrongFamilyNeverVerifies() throws {
        let rsa = try PrivateKey(generating: .rsa(bits: 2048))
        let ec = try PrivateKey(generating: .ec(.p256))
        let claims: JSONObject = JSONObject([("sub", "alice")])
        let rsToken = try CompactJWS.parse(JWSSigner.sign(claims: claims, algorithm: .rs256, key: rsa))
        #expect(JWSVerifier.verify(rsToken, with: rsa.publicKey))
        #expect(!JWSVerifier.verify(rsToken, with: ec.publicKey))
        // Algorithm confusion: an RS256 token "MACed" with the RSA public key bytes as the secret.
        guard case .rsa(let n, _) = rsa.publicKey.components else { return }
        let hsToken = try CompactJWS.parse(JWSSigner.sign(claims: claims, hmac: HMACKey(algorithm: .sha256, key: n)))
        #expect(!JWSVerifier.verify(hsToken, with: rsa.publicKey))
        #expect(!JWSVerifier.verify(rsToken, hmac: HMACKey(algorithm: .sha256, key: n)))
    }

    @Test func verificationKeyRestrictedByAlgRefusesOtherAlgorithms() throws {
        let rsa = try PrivateKey(generating: .rsa(bits: 2048))
        let token = try CompactJWS.parse(JWSSigner.sign(claims: JSONObject(), algorithm: .rs256, key: rsa))
        #expect(JWSVerifier.verify(token, with: VerificationKey(kid: nil, alg: nil, key: rsa.publicKey)))
        #expect(!JWSVerifier.verify(token, with: VerificationKey(kid: nil, alg: .ps256, key: rsa.publicKey)))
    }

    @Test(arguments: JWSAlgorithm.allCases)
    func signedTokensRoundTrip(alg: JWSAlgorithm) throws {
        let claims = JSONObject([("sub", "alice"), ("exp", .number(JSONNumber(1_700_000_100)))])
        let token: String
        let check: (CompactJWS) -> Bool
        if let hash = alg.hmacHash {
            let key = HMACKey(algorithm: hash, key: Array(repeating: 0x42, count: hash.byteCount))
            token = JWSSigner.sign(claims: claims, kid: "k", hmac: key)
            check = { JWSVerifier.verify($0, hmac: key) }
        } else {
            let spec: PrivateKey.Spec
            switch alg {
            case .es256: spec = .ec(.p256)
            case .es384: spec = .ec(.p384)
            case .es512: spec = .ec(.p521)
            case .edDSA: spec = .ed25519
            default: spec = .rsa(bits: 2048)
            }
            let key = try PrivateKey(generating: spec)
            token = try JWSSigner.sign(claims: claims, kid: "k", algorithm: alg, key: key)
            check = { JWSVerifier.verify($0, with: key.publicKey) }
        }
        let jws = try CompactJWS.parse(token)
        #expect(jws.algorithm == alg)
        #expect(jws.kid == "k")
        #expect(jws.typ == "JWT")
        #expect(jws.claims == claims)
        #expect(check(jws))
        try ClaimPolicy(requireExp: true).validate(jws.claims, now: 1_700_000_000)
    }
}
