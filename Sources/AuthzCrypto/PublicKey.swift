internal import COpenSSL

/// A public key for signature verification, owning an OpenSSL `EVP_PKEY`.
///
/// Keys are built from their mathematical components (as a JWK carries them) and validated on
/// construction, so a key that exists is usable. A `PublicKey` is immutable and safe to share
/// across threads: the verification contexts it prepares once per scheme (``VerifyTemplate``)
/// are only ever copied, and every verification works on its own copy.
public final class PublicKey: @unchecked Sendable {
    /// The family of a key, with the curve for EC keys.
    public enum Kind: Sendable, Hashable, CustomStringConvertible {
        case rsa
        case ec(ECCurve)
        case ed25519

        public var description: String {
            switch self {
            case .rsa: "RSA"
            case .ec(let curve): "EC \(curve.rawValue)"
            case .ed25519: "Ed25519"
            }
        }
    }

    /// The public components the key was built from, normalised (RSA integers without leading
    /// zero bytes; EC coordinates at the curve's full width), e.g. for publishing it as a JWK.
    public enum Components: Sendable, Hashable {
        case rsa(modulus: [UInt8], exponent: [UInt8])
        case ec(curve: ECCurve, x: [UInt8], y: [UInt8])
        case ed25519(publicKey: [UInt8])
    }

    /// The family of this key.
    public let kind: Kind
    /// The key size in bits: the modulus size for RSA, the curve size for EC, 256 for Ed25519.
    public let bits: Int
    /// The components the key was built from.
    public let components: Components

    /// EVP_PKEY*; never mutated after init.
    let pkey: OpaquePointer
    /// One initialised verification context per scheme this key can serve, indexed by
    /// `SignatureAlgorithm.templateSlot`; nil for the others.
    let templates: [VerifyTemplate?]

    /// The largest RSA modulus accepted: OpenSSL's own verification limit; larger keys would only
    /// let a key publisher make every verification slow.
    public static let maxRSABits = 16384

    private init(pkey: OpaquePointer, kind: Kind, components: Components) {
        self.pkey = pkey
        self.kind = kind
        self.components = components
        self.bits = Int(EVP_PKEY_get_bits(pkey))
        self.templates = Self.makeTemplates(pkey: pkey, kind: kind)
    }

    deinit {
        EVP_PKEY_free(pkey)
    }

    /// An RSA public key from its big-endian modulus and public exponent.
    ///
    /// Leading zero bytes are ignored. The modulus must be odd and at most `maxRSABits` long; the
    /// exponent must be odd, greater than 1 and at most 256 bits (OpenSSL's public-key check).
    public static func rsa(modulus: [UInt8], exponent: [UInt8]) throws(CryptoError) -> PublicKey {
        let n = Array(modulus.drop(while: { $0 == 0 }))
        let e = Array(exponent.drop(while: { $0 == 0 }))
        guard !n.isEmpty, !e.isEmpty else { throw CryptoError(.invalidKey, "RSA modulus or exponent is zero") }
        guard n.count * 8 <= maxRSABits else {
            throw CryptoError(.unsupported, "RSA modulus is larger than \(maxRSABits) bits")
        }
        guard e.count <= 32 else { throw CryptoError(.invalidKey, "RSA public exponent is larger than 256 bits") }

        let bnN = n.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        let bnE = e.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        defer {
            BN_free(bnN)
            BN_free(bnE)
        }
        guard let bnN, let bnE, let builder = OSSL_PARAM_BLD_new() else {
            drainOpenSSLErrors()
            throw CryptoError(.internalFailure, "out of memory building an RSA key")
        }
        defer { OSSL_PARAM_BLD_free(builder) }
        guard OSSL_PARAM_BLD_push_BN(builder, authzd_PARAM_RSA_N(), bnN) == 1,
              OSSL_PARAM_BLD_push_BN(builder, authzd_PARAM_RSA_E(), bnE) == 1,
              let params = OSSL_PARAM_BLD_to_param(builder)
        else {
            drainOpenSSLErrors()
            throw CryptoError(.internalFailure, "out of memory building an RSA key")
        }
        defer { OSSL_PARAM_free(params) }
        let pkey = try fromData(type: "RSA", params: params)
        let key = PublicKey(pkey: pkey, kind: .rsa, components: .rsa(modulus: n, exponent: e))
        guard key.passesPublicCheck() else {
            throw CryptoError(.invalidKey, "RSA public key fails validation")
        }
        return key
    }

    /// An EC public key from its affine coordinates, each exactly the curve's coordinate size
    /// (RFC 7518 §6.2.1.2). The point must lie on the curve.
    public static func ec(curve: ECCurve, x: [UInt8], y: [UInt8]) throws(CryptoError) -> PublicKey {
        let size = curve.coordinateByteCount
        guard x.count == size, y.count == size else {
            throw CryptoError(.invalidKey, "EC coordinates for \(curve.rawValue) must be \(size) bytes each")
        }
        // SEC 1 uncompressed point: 0x04 || x || y.
        var point = [UInt8](repeating: 4, count: 1 + 2 * size)
        point.replaceSubrange(1...size, with: x)
        point.replaceSubrange((1 + size)..., with: y)
        // withCString and friends only rethrow untyped errors, so the closures return an optional.
        let built = curve.openSSLGroupName.withCString { group in
            point.withUnsafeMutableBytes { p in
                var params = [
                    OSSL_PARAM_construct_utf8_string(authzd_PARAM_GROUP_NAME(), UnsafeMutablePointer(mutating: group), 0),
                    OSSL_PARAM_construct_octet_string(authzd_PARAM_PUB_KEY(), p.baseAddress, p.count),
                    OSSL_PARAM_construct_end(),
                ]
                return params.withUnsafeMutableBufferPointer { try? fromData(type: "EC", params: $0.baseAddress!) }
            }
        }
        guard let pkey = built else { throw CryptoError(.invalidKey, "EC point is not on \(curve.rawValue)") }
        let key = PublicKey(pkey: pkey, kind: .ec(curve), components: .ec(curve: curve, x: x, y: y))
        // fromdata already refuses most bad points; the explicit check makes on-curve and in-range
        // a guarantee rather than an implementation detail.
        guard key.passesPublicCheck() else {
            throw CryptoError(.invalidKey, "EC point is not a valid \(curve.rawValue) public key")
        }
        return key
    }

    /// An Ed25519 public key from its 32-byte encoding (RFC 8032 §5.1.5).
    ///
    /// The encoding must be canonical and name a point on the curve that is not of small order
    /// (see ``Ed25519KeyCheck``): under a small-order key one fixed signature verifies every
    /// message.
    public static func ed25519(publicKey: [UInt8]) throws(CryptoError) -> PublicKey {
        guard publicKey.count == 32 else { throw CryptoError(.invalidKey, "Ed25519 public key must be 32 bytes") }
        if let why = Ed25519KeyCheck.refusal(publicKey) { throw CryptoError(.invalidKey, why) }
        return try uncheckedEd25519(publicKey: publicKey)
    }

    /// An Ed25519 key without ``Ed25519KeyCheck``: only for tests that show what the check
    /// prevents.
    static func uncheckedEd25519(publicKey: [UInt8]) throws(CryptoError) -> PublicKey {
        guard publicKey.count == 32 else { throw CryptoError(.invalidKey, "Ed25519 public key must be 32 bytes") }
        let pkey = publicKey.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
        }
        guard let pkey else {
            drainOpenSSLErrors()
            throw CryptoError(.invalidKey, "Ed25519 public key refused")
        }
        return PublicKey(pkey: pkey, kind: .ed25519, components: .ed25519(publicKey: publicKey))
    }

    /// Builds a public EVP_PKEY of `type` from provider parameters.
    private static func fromData(type: String, params: UnsafeMutablePointer<OSSL_PARAM>) throws(CryptoError) -> OpaquePointer {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, type, nil) else {
            drainOpenSSLErrors()
            throw CryptoError(.internalFailure, "OpenSSL has no \(type) implementation")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var pkey: OpaquePointer? = nil
        guard EVP_PKEY_fromdata_init(ctx) == 1,
              EVP_PKEY_fromdata(ctx, &pkey, authzd_EVP_PKEY_PUBLIC_KEY(), params) == 1,
              let pkey
        else {
            drainOpenSSLErrors()
            throw CryptoError(.invalidKey, "\(type) public key refused")
        }
        return pkey
    }

    /// OpenSSL's full public-key validation (range, on-curve and subgroup checks for EC; oddness,
    /// exponent range and small-factor checks for RSA).
    private func passesPublicCheck() -> Bool {
        guard let ctx = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else {
            drainOpenSSLErrors()
            return false
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        let ok = EVP_PKEY_public_check(ctx) == 1
        if !ok { drainOpenSSLErrors() }
        return ok
    }
}
