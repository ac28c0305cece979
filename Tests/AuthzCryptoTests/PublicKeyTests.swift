import AuthzCrypto
import AuthzJSON
import Testing

/// Left-pads (or strips leading zeros from) a big-endian integer to exactly `size` bytes, as
/// Wycheproof writes EC coordinates in ASN.1 INTEGER form (sometimes with a leading 00, sometimes
/// shorter than the coordinate).
private func fixedWidth(_ bytes: [UInt8], _ size: Int) -> [UInt8] {
    let trimmed = Array(bytes.drop(while: { $0 == 0 }))
    precondition(trimmed.count <= size)
    return [UInt8](repeating: 0, count: size - trimmed.count) + trimmed
}

/// Runs every case of a Wycheproof signature file and checks each outcome against its result.
private func runSignatureVectors(_ file: String, algorithm: SignatureAlgorithm,
                                 key makeKey: (JSONObject) throws -> PublicKey) throws {
    let doc = try #require(TestVectors.wycheproof(file))
    var checked = 0
    var validSeen = 0
    for (group, cases) in doc.wycheproofGroups {
        let key = try makeKey(group)
        for c in cases {
            let outcome = key.verify(algorithm, message: c[hexField: "msg"], signature: c[hexField: "sig"])
            #expect(c.accepts(outcome), "\(file) tcId \(c.id) (\(c.comment)) expected \(c.result), got \(outcome)")
            checked += 1
            if c.result == "valid", outcome { validSeen += 1 }
        }
    }
    // Guards against a harness that silently verifies nothing.
    #expect(checked > 50)
    #expect(validSeen > 0)
}

private func rsaKey(_ group: JSONObject) throws -> PublicKey {
    let pk = try #require(group["publicKey"]?.objectValue)
    return try PublicKey.rsa(modulus: hex(pk["modulus"]?.stringValue ?? ""),
                             exponent: hex(pk["publicExponent"]?.stringValue ?? ""))
}

private func ecKey(_ curve: ECCurve) -> (JSONObject) throws -> PublicKey {
    { group in
        let pk = try #require(group["publicKey"]?.objectValue)
        let n = curve.coordinateByteCount
        return try PublicKey.ec(curve: curve, x: fixedWidth(hex(pk["wx"]?.stringValue ?? ""), n),
                                y: fixedWidth(hex(pk["wy"]?.stringValue ?? ""), n))
    }
}

@Suite struct PublicKeyWycheproofTests {
    @Test(arguments: [
        ("rsa_signature_2048_sha256_test.json", SignatureAlgorithm.rs256),
        ("rsa_signature_2048_sha384_test.json", .rs384),
        ("rsa_signature_2048_sha512_test.json", .rs512),
        ("rsa_signature_3072_sha256_test.json", .rs256),
        ("rsa_signature_4096_sha512_test.json", .rs512),
    ])
    func rsaPKCS1VectorsAllMatch(file: String, algorithm: SignatureAlgorithm) throws {
        try runSignatureVectors(file, algorithm: algorithm, key: rsaKey)
    }

    @Test(arguments: [
        ("rsa_pss_2048_sha256_mgf1_32_test.json", SignatureAlgorithm.ps256),
        ("rsa_pss_2048_sha384_mgf1_48_test.json", .ps384),
        ("rsa_pss_4096_sha512_mgf1_64_test.json", .ps512),
    ])
    func rsaPSSVectorsAllMatch(file: String, algorithm: SignatureAlgorithm) throws {
        try runSignatureVectors(file, algorithm: algorithm, key: rsaKey)
    }

    @Test(arguments: [
        ("ecdsa_secp256r1_sha256_p1363_test.json", SignatureAlgorithm.es256, ECCurve.p256),
        ("ecdsa_secp384r1_sha384_p1363_test.json", .es384, .p384),
        ("ecdsa_secp521r1_sha512_p1363_test.json", .es512, .p521),
    ])
    func ecdsaP1363VectorsAllMatch(file: String, algorithm: SignatureAlgorithm, curve: ECCurve) throws {
        try runSignatureVectors(file, algorithm: algorithm, key: ecKey(curve))
    }

    @Test func ed25519VectorsAllMatch() throws {
        try runSignatureVectors("ed25519_test.json", algorithm: .edDSA) { group in
            let pk = try #require(group["publicKey"]?.objectValue)
            return try PublicKey.ed25519(publicKey: hex(pk["pk"]?.stringValue ?? ""))
        }
    }
}

@Suite struct PublicKeyTests {
    /// A Wycheproof P-256 key and one of its valid signatures (ecdsa_secp256r1_sha256_p1363, tcId 1).
    static let p256X = hex("2927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838")
    static let p256Y = hex("c7787964eaac00e5921fb1498a60f4606766b3d9685001558d1a974e7341513e")
    static let p256Message = hex("313233343030")
    static let p256Signature = hex(
        "2ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e18"
            + "4cd60b855d442f5b3c7b11eb6c4e0ae7525fe710fab9aa7c77a67f79e6fadd76")

    @Test func ecKeyReportsKindBitsAndVerifies() throws {
        let key = try PublicKey.ec(curve: .p256, x: Self.p256X, y: Self.p256Y)
        #expect(key.kind == .ec(.p256))
        #expect(key.bits == 256)
        #expect(key.verify(.es256, message: Self.p256Message, signature: Self.p256Signature))
    }

    @Test func pointOffTheCurveIsRefused() {
        var y = Self.p256Y
        y[31] ^= 1
        #expect(throws: CryptoError.self) { try PublicKey.ec(curve: .p256, x: Self.p256X, y: y) }
    }

    @Test func coordinatesOfTheWrongLengthAreRefused() {
        #expect(throws: CryptoError.self) { try PublicKey.ec(curve: .p256, x: [0] + Self.p256X, y: [0] + Self.p256Y) }
        #expect(throws: CryptoError.self) { try PublicKey.ec(curve: .p384, x: Self.p256X, y: Self.p256Y) }
        #expect(throws: CryptoError.self) { try PublicKey.ec(curve: .p256, x: Array(Self.p256X.dropFirst()), y: Self.p256Y) }
    }

    @Test func coordinateNotBelowTheFieldPrimeIsRefused() {
        // p-256's prime itself: reduces to 0 mod p, so a lenient parser might accept it.
        let p = hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff")
        #expect(throws: CryptoError.self) { try PublicKey.ec(curve: .p256, x: p, y: Self.p256Y) }
    }

    @Test func ecdsaSignatureOfTheWrongLengthIsFalse() throws {
        let key = try PublicKey.ec(curve: .p256, x: Self.p256X, y: Self.p256Y)
        #expect(!key.verify(.es256, message: Self.p256Message, signature: Array(Self.p256Signature.dropLast())))
        #expect(!key.verify(.es256, message: Self.p256Message, signature: Self.p256Signature + [0]))
        #expect(!key.verify(.es256, message: Self.p256Message, signature: []))
    }

    @Test func ecdsaSignatureInDERFormIsFalse() throws {
        // JWS signatures are raw r||s; a DER signature must not be accepted in its place.
        let key = try PublicKey.ec(curve: .p256, x: Self.p256X, y: Self.p256Y)
        let r = Array(Self.p256Signature[0..<32])
        let s = Array(Self.p256Signature[32...])
        let der: [UInt8] = [0x30, 68, 0x02, 32] + r + [0x02, 32] + s
        #expect(!key.verify(.es256, message: Self.p256Message, signature: der))
    }

    @Test func keyNeverVerifiesAnAlgorithmOfAnotherFamily() throws {
        let key = try PublicKey.ec(curve: .p256, x: Self.p256X, y: Self.p256Y)
        for alg in SignatureAlgorithm.allCases where alg != .es256 {
            #expect(!key.verify(alg, message: Self.p256Message, signature: Self.p256Signature), "\(alg)")
        }
        #expect(!SignatureAlgorithm.es384.isCompatible(with: .ec(.p256)))
        #expect(!SignatureAlgorithm.rs256.isCompatible(with: .ed25519))
        #expect(SignatureAlgorithm.ps512.isCompatible(with: .rsa))
    }

    @Test func rsaKeyReportsBitsAndStripsLeadingZeros() throws {
        let doc = try #require(TestVectors.wycheproof("rsa_signature_2048_sha256_test.json"))
        let group = try #require(doc.wycheproofGroups.first?.group)
        let key = try rsaKey(group)
        #expect(key.kind == .rsa)
        #expect(key.bits == 2048)
        guard case .rsa(let modulus, let exponent) = key.components else {
            Issue.record("RSA key has non-RSA components")
            return
        }
        #expect(modulus.count == 256 && modulus[0] != 0)
        #expect(exponent == [1, 0, 1])
    }

    @Test func malformedRSAKeysAreRefused() {
        // An even modulus, an even exponent and an exponent of 1 are not RSA public keys.
        let odd = [UInt8](repeating: 0xC5, count: 256)
        var even = odd
        even[255] = 0xC4
        #expect(throws: CryptoError.self) { try PublicKey.rsa(modulus: even, exponent: [1, 0, 1]) }
        #expect(throws: CryptoError.self) { try PublicKey.rsa(modulus: odd, exponent: [1, 0, 0]) }
        #expect(throws: CryptoError.self) { try PublicKey.rsa(modulus: odd, exponent: [1]) }
        #expect(throws: CryptoError.self) { try PublicKey.rsa(modulus: [0, 0], exponent: [1, 0, 1]) }
        #expect(throws: CryptoError.self) {
            try PublicKey.rsa(modulus: [0xFF] + [UInt8](repeating: 1, count: 2048), exponent: [1, 0, 1])
        }
    }

    @Test func ed25519KeyOfTheWrongLengthIsRefused() {
        #expect(throws: CryptoError.self) { try PublicKey.ed25519(publicKey: [UInt8](repeating: 1, count: 31)) }
        #expect(throws: CryptoError.self) { try PublicKey.ed25519(publicKey: [UInt8](repeating: 1, count: 33)) }
    }

    @Test func sharedKeyVerifiesFromManyTasksAtOnce() async throws {
        let key = try PublicKey.ec(curve: .p256, x: Self.p256X, y: Self.p256Y)
        let allCorrect = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var ok = true
                    for _ in 0..<50 {
                        ok = ok && key.verify(.es256, message: Self.p256Message, signature: Self.p256Signature)
                        ok = ok && !key.verify(.es256, message: Self.p256Message + [1], signature: Self.p256Signature)
                    }
                    return ok
                }
            }
            return await group.allSatisfy { $0 }
        }
        #expect(allCorrect)
    }
}
