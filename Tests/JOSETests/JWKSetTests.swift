import AuthzCrypto
import AuthzJSON
@testable import JOSE
import Testing

/// JSON text of a JWK set holding `keys`.
func jwks(_ keys: JSONValue...) -> [UInt8] {
    Array(JSONValue.object(JSONObject([("keys", .array(keys))])).jsonString.utf8)
}

/// A public JWK for `key`, with extra members.
func jwk(_ key: PublicKey, _ extra: (String, JSONValue)...) -> JSONValue {
    var members: [(key: String, value: JSONValue)]
    switch key.components {
    case .rsa(let n, let e):
        members = [("kty", "RSA"), ("n", .string(Base64URL.encode(n))), ("e", .string(Base64URL.encode(e)))]
    case .ec(let curve, let x, let y):
        members = [("kty", "EC"), ("crv", .string(curve.rawValue)), ("x", .string(Base64URL.encode(x))),
                   ("y", .string(Base64URL.encode(y)))]
    case .ed25519(let x):
        members = [("kty", "OKP"), ("crv", "Ed25519"), ("x", .string(Base64URL.encode(x)))]
    }
    members += extra.map { (key: $0.0, value: $0.1) }
    return .object(JSONObject(members))
}

@Suite struct JWKSetTests {
    static let ec = try! PrivateKey(generating: .ec(.p256))
    static let ed = try! PrivateKey(generating: .ed25519)
    static let rsa = try! PrivateKey(generating: .rsa(bits: 2048))

    @Test func cookbookPublicKeysParse() throws {
        let ecJWK = try #require(TestVectors.load("jose-cookbook/jwk/3_1.ec_public_key.json"))
        let rsaJWK = try #require(TestVectors.load("jose-cookbook/jwk/3_3.rsa_public_key.json"))
        let set = try JWKSet.parse(jwks(.object(ecJWK), .object(rsaJWK)))
        #expect(set.skipped == [])
        #expect(set.keys.count == 2)
        #expect(set.keys[0].key.kind == .ec(.p521))
        #expect(set.keys[0].algorithms == [.es512])
        #expect(set.keys[0].kid == "bilbo.baggins@hobbiton.example")
        #expect(set.keys[1].key.kind == .rsa)
        #expect(set.keys[1].key.bits == 2048)
        #expect(Set(set.keys[1].algorithms) == [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512])
    }

    @Test func algorithmsFollowKeyTypeAndCurve() throws {
        let p384 = try PrivateKey(generating: .ec(.p384))
        let set = try JWKSet.parse(jwks(jwk(Self.ec.publicKey), jwk(p384.publicKey), jwk(Self.ed.publicKey)))
        #expect(set.keys.map(\.algorithms) == [[.es256], [.es384], [.edDSA]])
    }

    @Test func jwkAlgRestrictsTheKeyToThatAlgorithm() throws {
        let set = try JWKSet.parse(jwks(jwk(Self.rsa.publicKey, ("alg", "PS256"), ("kid", "r"))))
        #expect(set.keys.first?.alg == .ps256)
        #expect(set.keys(for: .ps256, kid: "r").count == 1)
        #expect(set.keys(for: .rs256, kid: "r").isEmpty)
    }

    @Test func unusableKeysAreSkippedWithAReason() throws {
        let set = try JWKSet.parse(jwks(
            ["kty": "oct", "k": "AAAA", "kid": "sym"],
            jwk(Self.ec.publicKey, ("use", "enc"), ("kid", "enc")),
            jwk(Self.ec.publicKey, ("key_ops", ["encrypt"]), ("kid", "ops")),
            ["kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA", "kid": "k1"],
            ["kty": "OKP", "crv": "X25519", "x": "AA", "kid": "x25519"],
            jwk(Self.ec.publicKey, ("alg", "RS256"), ("kid", "mismatch")),
            jwk(Self.ec.publicKey, ("alg", "HS256"), ("kid", "hmac-alg")),
            jwk(Self.ec.publicKey, ("kid", 5)),
            "not an object",
            jwk(Self.ec.publicKey, ("kid", "good"), ("use", "sig"), ("key_ops", ["verify"]))
        ))
        #expect(set.keys.map(\.kid) == ["good"])
        #expect(set.skipped.count == 9)
        #expect(set.skipped.contains { $0.contains("\"sym\"") && $0.contains("kty") })
        #expect(set.skipped.contains { $0.contains("\"enc\"") && $0.contains("use") })
        #expect(set.skipped.contains { $0.contains("\"ops\"") && $0.contains("key_ops") })
    }

    @Test func rsaKeysBelow2048BitsAreSkipped() throws {
        // A 1024-bit odd modulus: the key parses, but RFC 7518 §3.3 rules it out.
        var n = [UInt8](repeating: 0xC3, count: 128)
        n[127] = 0xC5
        let set = try JWKSet.parse(jwks(["kty": "RSA", "n": .string(Base64URL.encode(n)), "e": "AQAB", "kid": "small"]))
        #expect(set.keys.isEmpty)
        #expect(set.skipped.first?.contains("2048") == true)
    }

    @Test func privateMembersAreIgnored() throws {
        let set = try JWKSet.parse(jwks(jwk(Self.ec.publicKey, ("d", "bm90LXVzZWQ"), ("kid", "with-d"))))
        #expect(set.keys.map(\.kid) == ["with-d"])
    }

    @Test func documentThatIsNotAKeySetIsAnError() {
        for text in ["[]", "{}", #"{"keys":{}}"#, "not json", #"{"keys":[],"keys":[]}"#] {
            do {
                _ = try JWKSet.parse(Array(text.utf8))
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.code == .invalidKeySet)
            }
        }
    }

    @Test func keysAreSelectedByAlgorithmAndKid() throws {
        let ec2 = try PrivateKey(generating: .ec(.p256))
        let set = try JWKSet.parse(jwks(
            jwk(Self.ec.publicKey, ("kid", "a")), jwk(ec2.publicKey, ("kid", "b")), jwk(Self.ed.publicKey, ("kid", "a"))))
        #expect(set.keys(for: .es256, kid: "b").map(\.kid) == ["b"])
        #expect(set.keys(for: .es256, kid: nil).count == 2)
        #expect(set.keys(for: .edDSA, kid: "a").map(\.key.kind) == [.ed25519])
        #expect(set.keys(for: .es256, kid: "c").isEmpty)
        #expect(set.keys(for: .rs256, kid: nil).isEmpty)
        #expect(set.contains(kid: "a") && !set.contains(kid: "c"))
    }

    @Test func rocaModulusIsSkipped() throws {
        // The Wycheproof JWK tests carry a ROCA-generated modulus (group jws_rsa_roca_key).
        let doc = try #require(TestVectors.load("wycheproof/json_web_key_test.json"))
        let groups = doc["testGroups"]?.arrayValue ?? []
        let roca = try #require(groups.first { $0["comment"]?.stringValue == "jws_rsa_roca_key" }?["public"])
        let set = try JWKSet.parse(Array(roca.jsonString.utf8))
        #expect(set.keys.isEmpty)
        #expect(set.skipped.first?.contains("ROCA") == true)
        // A freshly generated key does not trip the detector.
        guard case .rsa(let n, _) = Self.rsa.publicKey.components else { return }
        #expect(!ROCAFingerprint.matches(modulus: n))
    }

    /// Wycheproof's JWK tests with public keys: the token verifies iff a usable key exists.
    /// Groups with symmetric ("private") key sets are out of scope: a JWK set never supplies HMAC
    /// keys here, and HMAC key length is a configuration rule.
    @Test func wycheproofPublicKeySetVectorsAllMatch() throws {
        let doc = try #require(TestVectors.load("wycheproof/json_web_key_test.json"))
        var checked = 0
        for group in doc["testGroups"]?.arrayValue ?? [] {
            guard let keys = group["public"] else { continue }
            let set: JWKSet
            do {
                set = try JWKSet.parse(Array(keys.jsonString.utf8))
            } catch {
                set = JWKSet(keys: [])
            }
            for test in group["tests"]?.arrayValue ?? [] {
                let id = test["tcId"]?.numberValue?.text ?? "?"
                let jwsText = test["jws"]?.stringValue ?? ""
                var outcome = false
                // The vectors sign the bare text "foo", so parse without requiring a claims object.
                if let jws = try? CompactJWS.parse(jwsText, maxLength: 8192, payloadIsClaims: false) {
                    outcome = set.keys(for: jws.algorithm, kid: jws.kid).contains { JWSVerifier.verify(jws, with: $0) }
                }
                let expected = test["result"]?.stringValue == "valid"
                #expect(outcome == expected, "tcId \(id) (\(group["comment"]?.stringValue ?? ""))")
                checked += 1
            }
        }
        #expect(checked >= 10)
    }
}
