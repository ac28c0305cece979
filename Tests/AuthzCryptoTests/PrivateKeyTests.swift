import AuthzCrypto
import Testing

@Suite struct PrivateKeyTests {
    @Test(arguments: [
        (PrivateKey.Spec.rsa(bits: 2048), [SignatureAlgorithm.rs256, .rs384, .rs512, .ps256, .ps384, .ps512]),
        (.ec(.p256), [.es256]),
        (.ec(.p384), [.es384]),
        (.ec(.p521), [.es512]),
        (.ed25519, [.edDSA]),
    ])
    func signaturesVerifyUnderThePublicKeyAndTamperingBreaksThem(spec: PrivateKey.Spec, algorithms: [SignatureAlgorithm]) throws {
        let key = try PrivateKey(generating: spec)
        let message = Array("header.payload".utf8)
        for alg in algorithms {
            let signature = try key.sign(alg, message: message)
            #expect(key.publicKey.verify(alg, message: message, signature: signature), "\(alg)")
            #expect(!key.publicKey.verify(alg, message: message + [0], signature: signature), "\(alg)")
            var flipped = signature
            flipped[flipped.count / 2] ^= 0x10
            #expect(!key.publicKey.verify(alg, message: message, signature: flipped), "\(alg)")
        }
    }

    @Test func ecdsaSignaturesAreRawAndFullWidth() throws {
        let key = try PrivateKey(generating: .ec(.p521))
        // Many signatures, so that r or s with leading zero bytes is exercised by the padding.
        for i in 0..<32 {
            #expect(try key.sign(.es512, message: [UInt8(i)]).count == 132)
        }
    }

    @Test func exportedComponentsRebuildAnEqualKey() throws {
        let key = try PrivateKey(generating: .rsa(bits: 2048))
        guard case .rsa(let n, let e) = key.publicKey.components else {
            Issue.record("RSA key exported non-RSA components")
            return
        }
        #expect(n.count == 256)
        let rebuilt = try PublicKey.rsa(modulus: n, exponent: e)
        let signature = try key.sign(.ps256, message: [1, 2, 3])
        #expect(rebuilt.verify(.ps256, message: [1, 2, 3], signature: signature))
    }

    @Test func signingWithAnAlgorithmOfAnotherFamilyThrows() throws {
        let key = try PrivateKey(generating: .ed25519)
        #expect(throws: CryptoError.self) { try key.sign(.es256, message: [1]) }
        #expect(throws: CryptoError.self) { try PrivateKey(generating: .rsa(bits: 1024)) }
    }
}
