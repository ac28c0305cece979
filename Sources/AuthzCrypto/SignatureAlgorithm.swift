/// A signature scheme, named as JWS names it (RFC 7518 §3.1, RFC 8037 §3.1).
public enum SignatureAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// RSASSA-PKCS1-v1_5.
    case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512"
    /// RSASSA-PSS, MGF1 with the same hash, salt as long as the hash.
    case ps256 = "PS256", ps384 = "PS384", ps512 = "PS512"
    /// ECDSA with a raw r||s signature.
    case es256 = "ES256", es384 = "ES384", es512 = "ES512"
    /// Ed25519.
    case edDSA = "EdDSA"

    /// The hash the scheme uses; nil for EdDSA, which hashes internally.
    public var hash: HashFunction? {
        switch self {
        case .rs256, .ps256, .es256: .sha256
        case .rs384, .ps384, .es384: .sha384
        case .rs512, .ps512, .es512: .sha512
        case .edDSA: nil
        }
    }

    /// Whether a key of this kind can verify this scheme. ECDSA binds the curve to the hash
    /// (RFC 7518 §3.4), so an ES256 signature never verifies under a P-384 key.
    public func isCompatible(with kind: PublicKey.Kind) -> Bool {
        switch (self, kind) {
        case (.rs256, .rsa), (.rs384, .rsa), (.rs512, .rsa),
             (.ps256, .rsa), (.ps384, .rsa), (.ps512, .rsa):
            true
        case (.es256, .ec(.p256)), (.es384, .ec(.p384)), (.es512, .ec(.p521)):
            true
        case (.edDSA, .ed25519):
            true
        default:
            false
        }
    }

    /// This scheme's position in `allCases`, where a key keeps its verification template.
    var templateSlot: Int {
        switch self {
        case .rs256: 0
        case .rs384: 1
        case .rs512: 2
        case .ps256: 3
        case .ps384: 4
        case .ps512: 5
        case .es256: 6
        case .es384: 7
        case .es512: 8
        case .edDSA: 9
        }
    }
}
