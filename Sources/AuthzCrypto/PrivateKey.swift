internal import COpenSSL

/// A freshly generated signing key, for tests and tooling that mint tokens (the daemon itself
/// only verifies). Owns an OpenSSL `EVP_PKEY`; immutable and safe to share across threads.
public final class PrivateKey: @unchecked Sendable {
    /// What to generate.
    public enum Spec: Sendable, Hashable {
        case rsa(bits: Int)
        case ec(ECCurve)
        case ed25519
    }

    /// The matching public key, built through the same validating constructors as any other.
    public let publicKey: PublicKey

    /// EVP_PKEY*; never mutated after init.
    private let pkey: OpaquePointer

    /// Generates a new key pair.
    public init(generating spec: Spec) throws(CryptoError) {
        let type: String
        switch spec {
        case .rsa: type = "RSA"
        case .ec: type = "EC"
        case .ed25519: type = "ED25519"
        }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, type, nil) else {
            drainOpenSSLErrors()
            throw CryptoError(.internalFailure, "OpenSSL has no \(type) implementation")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1 else {
            drainOpenSSLErrors()
            throw CryptoError(.internalFailure, "\(type) key generation refused")
        }
        let configured: Bool
        switch spec {
        case .rsa(let bits):
            guard bits >= 2048, bits <= PublicKey.maxRSABits else {
                throw CryptoError(.unsupported, "RSA key size \(bits) is outside 2048...\(PublicKey.maxRSABits)")
            }
            configured = EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)) == 1
        case .ec(let curve):
            configured = EVP_PKEY_CTX_set_group_name(ctx, curve.openSSLGroupName) == 1
        case .ed25519:
            configured = true
        }
        var generated: OpaquePointer? = nil
        guard configured, EVP_PKEY_generate(ctx, &generated) == 1, let generated else {
            drainOpenSSLErrors()
            throw CryptoError(.internalFailure, "\(type) key generation failed")
        }
        pkey = generated
        do {
            publicKey = try Self.exportPublic(generated, spec: spec)
        } catch {
            EVP_PKEY_free(generated)
            throw error
        }
    }

    deinit {
        EVP_PKEY_free(pkey)
    }

    /// Signs `message` with `algorithm`, which must suit this key. ECDSA signatures come out in
    /// JWS's raw r||s form.
    public func sign(_ algorithm: SignatureAlgorithm, message: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard algorithm.isCompatible(with: publicKey.kind) else {
            throw CryptoError(.unsupported, "\(algorithm.rawValue) cannot be made with a \(publicKey.kind) key")
        }
        guard let mdctx = EVP_MD_CTX_new() else { throw CryptoError(.internalFailure, "out of memory") }
        defer { EVP_MD_CTX_free(mdctx) }
        var pctx: OpaquePointer? = nil
        var ok = EVP_DigestSignInit(mdctx, &pctx, algorithm.hash?.evpMD, nil, pkey) == 1
        if ok, let hash = algorithm.hash {
            switch algorithm {
            case .rs256, .rs384, .rs512:
                ok = authzd_EVP_PKEY_CTX_set_rsa_padding(pctx, authzd_RSA_PKCS1_PADDING()) == 1
            case .ps256, .ps384, .ps512:
                ok = authzd_EVP_PKEY_CTX_set_rsa_padding(pctx, authzd_RSA_PKCS1_PSS_PADDING()) == 1
                    && authzd_EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, hash.evpMD) == 1
                    && authzd_EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, Int32(hash.byteCount)) == 1
            default:
                break
            }
        }
        var length = 0
        var signature: [UInt8] = []
        if ok {
            ok = message.withUnsafeBufferPointer { m in
                let input = m.baseAddress ?? UnsafePointer(emptyByte)
                guard EVP_DigestSign(mdctx, nil, &length, input, m.count) == 1 else { return false }
                signature = [UInt8](repeating: 0, count: length)
                return signature.withUnsafeMutableBufferPointer {
                    EVP_DigestSign(mdctx, $0.baseAddress, &length, input, m.count) == 1
                }
            }
        }
        guard ok else {
            drainOpenSSLErrors()
            throw CryptoError(.internalFailure, "\(algorithm.rawValue) signing failed")
        }
        signature.removeSubrange(length...)
        if case .ec(let curve) = publicKey.kind {
            guard let raw = ECDSASignature.raw(fromDER: signature, coordinateSize: curve.coordinateByteCount) else {
                throw CryptoError(.internalFailure, "OpenSSL produced a malformed ECDSA signature")
            }
            return raw
        }
        return signature
    }

    private static func exportPublic(_ pkey: OpaquePointer, spec: Spec) throws(CryptoError) -> PublicKey {
        switch spec {
        case .rsa:
            guard let n = bigNumber(pkey, authzd_PARAM_RSA_N()), let e = bigNumber(pkey, authzd_PARAM_RSA_E()) else {
                throw CryptoError(.internalFailure, "cannot export the RSA public key")
            }
            return try PublicKey.rsa(modulus: n, exponent: e)
        case .ec(let curve):
            let size = curve.coordinateByteCount
            var point = [UInt8](repeating: 0, count: 1 + 2 * size)
            var written = 0
            let ok = point.withUnsafeMutableBufferPointer {
                EVP_PKEY_get_octet_string_param(pkey, authzd_PARAM_PUB_KEY(), $0.baseAddress, $0.count, &written) == 1
            }
            guard ok, written == point.count, point[0] == 4 else {
                drainOpenSSLErrors()
                throw CryptoError(.internalFailure, "cannot export the EC public key")
            }
            return try PublicKey.ec(curve: curve, x: Array(point[1...size]), y: Array(point[(1 + size)...]))
        case .ed25519:
            var raw = [UInt8](repeating: 0, count: 32)
            var length = raw.count
            guard raw.withUnsafeMutableBufferPointer({ EVP_PKEY_get_raw_public_key(pkey, $0.baseAddress, &length) }) == 1,
                  length == 32
            else {
                drainOpenSSLErrors()
                throw CryptoError(.internalFailure, "cannot export the Ed25519 public key")
            }
            return try PublicKey.ed25519(publicKey: raw)
        }
    }

    private static func bigNumber(_ pkey: OpaquePointer, _ name: UnsafePointer<CChar>) -> [UInt8]? {
        var bn: OpaquePointer? = nil
        guard EVP_PKEY_get_bn_param(pkey, name, &bn) == 1, let bn else {
            drainOpenSSLErrors()
            return nil
        }
        defer { BN_free(bn) }
        var out = [UInt8](repeating: 0, count: Int((BN_num_bits(bn) + 7) / 8))
        _ = out.withUnsafeMutableBufferPointer { BN_bn2bin(bn, $0.baseAddress) }
        return out
    }
}
