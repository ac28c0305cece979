internal import COpenSSL

extension PublicKey {
    /// Whether `signature` is a valid `algorithm` signature of `message` under this key.
    ///
    /// False, never an error, for anything that is not a valid signature: a scheme this kind of
    /// key cannot serve (an RSA key never verifies ES256, a P-384 key never verifies ES256), a
    /// signature of the wrong length, or a failed check. ECDSA signatures are the raw r||s form
    /// JWS uses (RFC 7518 §3.4), exactly twice the coordinate size.
    public func verify(_ algorithm: SignatureAlgorithm, message: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer) -> Bool {
        guard algorithm.isCompatible(with: kind) else { return false }
        switch algorithm {
        case .rs256, .rs384, .rs512:
            guard signature.count == (bits + 7) / 8 else { return false }
            return templateVerify(algorithm, message: message, signature: signature)
        case .ps256, .ps384, .ps512:
            guard signature.count == (bits + 7) / 8 else { return false }
            return templateVerify(algorithm, message: message, signature: signature)
        case .es256, .es384, .es512:
            guard case .ec(let curve) = kind, signature.count == 2 * curve.coordinateByteCount else { return false }
            let der = ECDSASignature.der(fromRaw: signature)
            return der.withUnsafeBytes { templateVerify(algorithm, message: message, signature: $0) }
        case .edDSA:
            guard signature.count == 64 else { return false }
            return templateVerify(algorithm, message: message, signature: signature)
        }
    }

    /// Whether `signature` is a valid `algorithm` signature of `message` under this key.
    public func verify(_ algorithm: SignatureAlgorithm, message: [UInt8], signature: [UInt8]) -> Bool {
        message.withUnsafeBytes { m in signature.withUnsafeBytes { s in verify(algorithm, message: m, signature: s) } }
    }

    enum RSAPadding {
        case pkcs1
        case pss
    }

    /// The verification templates a key of `kind` needs, indexed by `SignatureAlgorithm.templateSlot`:
    /// every scheme the kind can serve, each set up once when the key is built.
    static func makeTemplates(pkey: OpaquePointer, kind: Kind) -> [VerifyTemplate?] {
        SignatureAlgorithm.allCases.map { algorithm in
            guard algorithm.isCompatible(with: kind) else { return nil }
            switch algorithm {
            case .rs256, .rs384, .rs512: return VerifyTemplate(pkey: pkey, hash: algorithm.hash, padding: .pkcs1)
            case .ps256, .ps384, .ps512: return VerifyTemplate(pkey: pkey, hash: algorithm.hash, padding: .pss)
            case .es256, .es384, .es512, .edDSA: return VerifyTemplate(pkey: pkey, hash: algorithm.hash, padding: nil)
            }
        }
    }

    /// One EVP_DigestVerify on a copy of this key's template for `algorithm`.
    private func templateVerify(_ algorithm: SignatureAlgorithm, message: UnsafeRawBufferPointer,
                                signature: UnsafeRawBufferPointer) -> Bool {
        guard let template = templates[algorithm.templateSlot] else { return false }
        return template.verify(message: message, signature: signature)
    }
}
