import AuthzCrypto
import Dispatch
import Testing

/// Each key prepares one verification context per scheme and every verification copies it: these
/// prove that the prepared context is never used up or altered by a verification, whatever its
/// outcome, and that threads sharing a key never see each other's work.
@Suite struct VerifyTemplateTests {
    /// One generated key per family, with every scheme it serves.
    static let cases: [(PrivateKey.Spec, [SignatureAlgorithm])] = [
        (.rsa(bits: 2048), [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512]),
        (.ec(.p256), [.es256]),
        (.ec(.p384), [.es384]),
        (.ec(.p521), [.es512]),
        (.ed25519, [.edDSA]),
    ]

    @Test(arguments: cases)
    func everySchemeVerifiesAgainAfterSuccessesAndFailures(spec: PrivateKey.Spec, algorithms: [SignatureAlgorithm]) throws {
        let key = try PrivateKey(generating: spec)
        let message = Array("eyJhbGciOiJ0ZXN0In0.eyJzdWIiOiJhbGljZSJ9".utf8)
        for algorithm in algorithms {
            let signature = try key.sign(algorithm, message: message)
            var tampered = signature
            tampered[tampered.count / 2] ^= 0x01
            // Alternating outcomes: a failed check must leave nothing behind for the next one.
            for round in 0..<3 {
                #expect(key.publicKey.verify(algorithm, message: message, signature: signature),
                        "\(algorithm.rawValue) round \(round): valid signature refused")
                #expect(!key.publicKey.verify(algorithm, message: message, signature: tampered),
                        "\(algorithm.rawValue) round \(round): altered signature accepted")
                #expect(!key.publicKey.verify(algorithm, message: message + [0x2E], signature: signature),
                        "\(algorithm.rawValue) round \(round): signature accepted for another message")
            }
        }
    }

    @Test func schemesOfOneRSAKeyKeepTheirOwnPadding() throws {
        // The six RSA templates share one key: a PKCS#1 signature must not verify as PSS or
        // under another hash, and the reverse.
        let key = try PrivateKey(generating: .rsa(bits: 2048))
        let message: [UInt8] = [1, 2, 3, 4]
        let schemes: [SignatureAlgorithm] = [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512]
        for signer in schemes {
            let signature = try key.sign(signer, message: message)
            for verifier in schemes {
                #expect(key.publicKey.verify(verifier, message: message, signature: signature) == (signer == verifier),
                        "signed \(signer.rawValue), verified as \(verifier.rawValue)")
            }
        }
    }

    @Test(arguments: [SignatureAlgorithm.rs256, .ps256, .es256, .edDSA])
    func threadsSharingOneKeyGetEveryAnswerRight(algorithm: SignatureAlgorithm) throws {
        let spec: PrivateKey.Spec = switch algorithm {
        case .es256: .ec(.p256)
        case .edDSA: .ed25519
        default: .rsa(bits: 2048)
        }
        let key = try PrivateKey(generating: spec)
        let publicKey = key.publicKey
        let messages = (0..<8).map { [UInt8]("message \($0)".utf8) }
        let signatures = try messages.map { try key.sign(algorithm, message: $0) }
        let threads = 4
        // Each thread writes only its own slot, so sharing the buffer is safe.
        nonisolated(unsafe) let wrong = UnsafeMutableBufferPointer<Int>.allocate(capacity: threads)
        wrong.initialize(repeating: 0)
        defer { wrong.deallocate() }
        // Real threads, not tasks on a pool that may run them one after another.
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var errors = 0
            for i in 0..<100 {
                let m = (i + t) % messages.count
                // The signature of the next message never verifies this one.
                let other = signatures[(m + 1) % messages.count]
                if !publicKey.verify(algorithm, message: messages[m], signature: signatures[m]) { errors += 1 }
                if publicKey.verify(algorithm, message: messages[m], signature: other) { errors += 1 }
            }
            wrong[t] = errors
        }
        #expect(Array(wrong) == [Int](repeating: 0, count: threads))
    }
}
