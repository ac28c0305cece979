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
            return digestVerify(hash: algorithm.hash, padding: .pkcs1, message: message, signature: signature)
        case .ps256, .ps384, .ps512:
            guard signature.count == (bits + 7) / 8 else { return false }
            return digestVerify(hash: algorithm.hash, padding: .pss, message: message, signature: signature)
        case .es256, .es384, .es512:
            guard case .ec(let curve) = kind, signature.count == 2 * curve.coordinateByteCount else { return false }
            let der = ECDSASignature.der(fromRaw: signature)
            return der.withUnsafeBytes {
                digestVerify(hash: algorithm.hash, padding: nil, message: message, signature: $0)
            }
        case .edDSA:
            guard signature.count == 64 else { return false }
            return digestVerify(hash: nil, padding: nil, message: message, signature: signature)
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

    /// One EVP_DigestVerify with a context of its own, so concurrent calls never share state.
    private func digestVerify(hash: HashFunction?, padding: RSAPadding?, message: UnsafeRawBufferPointer,
                              signature: UnsafeRawBufferPointer) -> Bool {
        guard let mdctx = EVP_MD_CTX_new() else {
            drainOpenSSLErrors()
            return false
        }
        defer { EVP_MD_CTX_free(mdctx) }
        var pctx: OpaquePointer? = nil
        guard EVP_DigestVerifyInit(mdctx, &pctx, hash?.evpMD, nil, pkey) == 1 else {
            drainOpenSSLErrors()
            return false
        }
        if let padding, let hash {
            let configured: Bool
            switch padding {
            case .pkcs1:
                configured = authzd_EVP_PKEY_CTX_set_rsa_padding(pctx, authzd_RSA_PKCS1_PADDING()) == 1
            case .pss:
                // RFC 7518 §3.5: MGF1 with the same hash, salt exactly as long as the hash.
                configured = authzd_EVP_PKEY_CTX_set_rsa_padding(pctx, authzd_RSA_PKCS1_PSS_PADDING()) == 1
                    && authzd_EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, hash.evpMD) == 1
                    && authzd_EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, Int32(hash.byteCount)) == 1
            }
            guard configured else {
                drainOpenSSLErrors()
                return false
            }
        }
        // Ed25519 must see an empty message as empty, not as "no message": pass a real address.
        let msg = message.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(emptyByte)
        let sig = signature.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(emptyByte)
        let ok = EVP_DigestVerify(mdctx, sig, signature.count, msg, message.count) == 1
        if !ok { drainOpenSSLErrors() }
        return ok
    }
}
