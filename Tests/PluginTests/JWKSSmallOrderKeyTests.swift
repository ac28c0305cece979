import AuthzCore
import AuthzJSON
import JOSE
@testable import JWKSPlugin
import Testing

/// A JWK set that publishes a small-order Ed25519 key: the key is skipped with its reason, and
/// the signature that would verify any message under it is refused.
struct JWKSSmallOrderKeyTests {
    /// The identity point, y = 1: `AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`.
    static let identityJWK: JSONValue = .object(JSONObject([
        ("kty", "OKP"), ("crv", "Ed25519"), ("kid", "zero"), ("use", "sig"),
        ("x", .string(Base64URL.encode([1] + [UInt8](repeating: 0, count: 31)))),
    ]))

    /// A token over `claims` carrying the universal forgery for the identity key: R = identity,
    /// S = 0, i.e. `01` then 63 zero bytes.
    static func forgedToken(kid: String?) -> String {
        var header = JSONObject([("alg", "EdDSA"), ("typ", "JWT")])
        if let kid { header["kid"] = .string(kid) }
        var w = JSONWriter()
        w.write(.object(header))
        var token = Base64URL.encode(w.bytes) + "."
        w = JSONWriter()
        w.write(.object(JWKSTestKey.validClaims(sub: "admin")))
        token += Base64URL.encode(w.bytes)
        return token + "." + Base64URL.encode([1] + [UInt8](repeating: 0, count: 63))
    }

    @Test func theSmallOrderKeyIsSkippedWithItsReason() throws {
        let set = try JWKSet.parse(jwksDocument([Self.identityJWK, JWKSTestKey(kid: "good", alg: .edDSA, JWKSTestKey.ed25519).jwk()]))
        #expect(set.keys.map(\.kid) == ["good"])
        #expect(set.skipped == [#"key #0 (kid "zero"): Ed25519 public key is a point of small order 1: one fixed signature would verify every message"#])
    }

    @Test func theForgedSignatureIsRefusedWithOrWithoutItsKid() {
        let good = JWKSTestKey(kid: "good", alg: .edDSA, JWKSTestKey.ed25519)
        let h = JWKSHarness()
        h.fetcher.serve(keys: [Self.identityJWK, good.jwk()])
        #expect(h.evaluate(good.token())?.allow == true)
        #expect(h.evaluate(Self.forgedToken(kid: "zero"))?.reason == .unknownKid)
        #expect(h.evaluate(Self.forgedToken(kid: nil))?.reason == .badSignature)
        #expect(h.cache.stats["skipped_keys"] == 1)
    }

    @Test func aSetHoldingOnlyTheSmallOrderKeyIsNoKeySet() {
        let h = JWKSHarness()
        h.fetcher.serve(keys: [Self.identityJWK])
        let r = h.evaluate(Self.forgedToken(kid: "zero"))
        #expect(r?.allow == false)
        #expect(r?.reason == .jwksUnavailable)
        #expect(r?.message?.contains("small order") == true)
    }
}
