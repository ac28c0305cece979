import AuthzCrypto

/// Signature checks for a parsed `CompactJWS`. Each refuses a key that does not fit the token's
/// `alg` (an RSA key never verifies ES256; an HMAC key never verifies RS256 — the classic
/// algorithm-confusion attack), so callers cannot forget that check.
public enum JWSVerifier {
    /// Whether `jws` carries a valid signature by `key` under its `alg`.
    public static func verify(_ jws: CompactJWS, with key: PublicKey) -> Bool {
        guard let scheme = jws.algorithm.signatureAlgorithm, scheme.isCompatible(with: key.kind) else { return false }
        return key.verify(scheme, message: jws.signingInput, signature: jws.signature)
    }

    /// Whether `jws` carries a valid signature by `key`, which must also allow the token's `alg`.
    public static func verify(_ jws: CompactJWS, with key: VerificationKey) -> Bool {
        key.canServe(jws.algorithm) && verify(jws, with: key.key)
    }

    /// Whether `jws` carries a valid HS* MAC under `hmac`, whose hash must match the `alg`.
    public static func verify(_ jws: CompactJWS, hmac: HMACKey) -> Bool {
        guard jws.algorithm.hmacHash == hmac.algorithm else { return false }
        return hmac.isValid(mac: jws.signature, for: jws.signingInput)
    }
}
