import AuthzCrypto

/// A public key from a JWK set, ready to verify the algorithms it may serve.
public struct VerificationKey: Sendable {
    /// The JWK's `kid`, if any.
    public let kid: String?
    /// The JWK's `alg`, if it names one; the key then serves only that algorithm.
    public let alg: JWSAlgorithm?
    /// The key itself.
    public let key: PublicKey
    /// The algorithms this key may verify: its `alg` if given, else every algorithm its type
    /// and curve support (RSA: RS*/PS*; P-256: ES256; P-384: ES384; P-521: ES512; Ed25519: EdDSA).
    public let algorithms: [JWSAlgorithm]

    public init(kid: String?, alg: JWSAlgorithm?, key: PublicKey) {
        self.kid = kid
        self.alg = alg
        self.key = key
        if let alg {
            algorithms = (alg.signatureAlgorithm?.isCompatible(with: key.kind) ?? false) ? [alg] : []
        } else {
            algorithms = JWSAlgorithm.algorithms(for: key.kind)
        }
    }

    /// Whether this key may verify a token signed with `algorithm`.
    public func canServe(_ algorithm: JWSAlgorithm) -> Bool {
        algorithms.contains(algorithm)
    }
}
