import AuthzTestSupport
import AuthzCore
import AuthzCrypto
import AuthzJSON
import Foundation
import JOSE
import JWTHMACPlugin
import Testing

/// RFC 7520 §4.4 (HMAC-SHA2 integrity protection) with the §3.5 symmetric key, through `jwt_hmac`.
@Suite struct JWTHMACCookbookTests {
    struct Vector {
        let kid: String
        let key: [UInt8]
        let compact: String
        let protectedB64: String
        let signingInput: String
        let signature: String
    }

    private func vector(sourceLocation: SourceLocation = #_sourceLocation) throws -> Vector? {
        guard let jws = TestVectors.load("jose-cookbook/jws/4_4.hmac-sha2_integrity_protection.json", sourceLocation: sourceLocation),
              let jwk = TestVectors.load("jose-cookbook/jwk/3_5.symmetric_key_mac_computation.json", sourceLocation: sourceLocation)
        else { return nil }
        let signing = try #require(jws["signing"]?.objectValue)
        return Vector(
            kid: try #require(jwk["kid"]?.stringValue),
            key: try #require(jwk["k"]?.stringValue.flatMap { Base64URL.decode($0) }),
            compact: try #require(jws["output"]?["compact"]?.stringValue),
            protectedB64: try #require(signing["protected_b64u"]?.stringValue),
            signingInput: try #require(signing["sig-input"]?.stringValue),
            signature: try #require(signing["sig"]?.stringValue))
    }

    /// A `jwt_hmac` step holding the cookbook key under its kid, read from a binary secret file.
    private func step(_ v: Vector, dir: String) throws -> any ChainPlugin {
        try Data(v.key).write(to: URL(fileURLWithPath: dir + "/cookbook.key"))
        return try StepFixture.plugin(JWTHMACFactory(), """
            secrets = [{ kid = "\(v.kid)", secret_file = "cookbook.key" }]
            algorithms = ["HS256"]
            require_exp = false
            """, baseDirectory: dir)
    }

    @Test func theCookbookKeyLoadsAndReproducesTheCookbookMAC() throws {
        guard let v = try vector() else { return }
        #expect(v.key.count == 32)
        // The key the plugin reads from the file is the one that made the vector's signature.
        let mac = HMACKey(algorithm: .sha256, key: v.key).mac(Array(v.signingInput.utf8))
        #expect(Base64URL.encode(mac) == v.signature)
        #expect(v.compact == v.signingInput + "." + v.signature)
    }

    @Test func aTokenUnderTheCookbookHeaderAndKeyVerifiesThroughThePlugin() throws {
        guard let v = try vector() else { return }
        let dir = try StepFixture.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plugin = try step(v, dir: dir)

        // The cookbook's protected header, byte for byte, over a claims payload without exp.
        let input = v.protectedB64 + "." + Base64URL.encode(Array(#"{"sub":"frodo"}"#.utf8))
        let mac = HMACKey(algorithm: .sha256, key: v.key).mac(Array(input.utf8))
        let token = input + "." + Base64URL.encode(mac)
        let request = CheckRequest(app: "app", headers: Headers([("Authorization", "Bearer " + token)]))
        let r = try #require(StepFixture.result(plugin, request))
        #expect(r.allow, "\(r.reason): \(r.message ?? "")")
        #expect(r.subject == "frodo")

        // The same token with a flipped MAC bit is a bad signature, so the allow above was the MAC's doing.
        var bad = mac
        bad[31] ^= 0x80
        let forged = CheckRequest(app: "app", headers: Headers([("Authorization", input + "." + Base64URL.encode(bad))]))
        #expect(StepFixture.result(plugin, forged)?.reason == .badSignature)
    }

    @Test func theCookbookTokenItselfIsRefusedBecauseItsPayloadIsNotAClaimsSet() throws {
        // §4.4 signs a line of prose, not a JSON claims object: it is a valid JWS but not a JWT
        // (RFC 7519 §7.2 step 10), so a JWT step must not allow it, whatever its signature.
        guard let v = try vector() else { return }
        let dir = try StepFixture.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plugin = try step(v, dir: dir)
        let r = try #require(StepFixture.result(plugin, CheckRequest(app: "app", headers: Headers([("Authorization", v.compact)]))))
        #expect(!r.allow)
        #expect(r.reason == .malformedToken)
        #expect(r.status == 401)
    }
}
