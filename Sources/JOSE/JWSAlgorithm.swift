import AuthzCrypto

/// A JWS signature or MAC algorithm this library implements (RFC 7518 §3.1, RFC 8037 §3.1).
///
/// Parsing is exact and case-sensitive. `none` is deliberately not a case, so no spelling of it
/// (`none`, `NONE`, `nOnE`) can ever name an algorithm.
public enum JWSAlgorithm: String, Sendable, Hashable, CaseIterable {
    case hs256 = "HS256", hs384 = "HS384", hs512 = "HS512"
    case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512"
    case ps256 = "PS256", ps384 = "PS384", ps512 = "PS512"
    case es256 = "ES256", es384 = "ES384", es512 = "ES512"
    case edDSA = "EdDSA"

    /// The HMAC hash for HS*; nil for signature algorithms.
    public var hmacHash: HashFunction? {
        switch self {
        case .hs256: .sha256
        case .hs384: .sha384
        case .hs512: .sha512
        default: nil
        }
    }

    /// The public-key signature scheme; nil for HS*.
    public var signatureAlgorithm: SignatureAlgorithm? {
        SignatureAlgorithm(rawValue: rawValue)
    }

    /// Whether this is an HMAC algorithm.
    public var isHMAC: Bool { hmacHash != nil }

    /// The signature algorithms a public key of `kind` can serve.
    public static func algorithms(for kind: PublicKey.Kind) -> [JWSAlgorithm] {
        allCases.filter { $0.signatureAlgorithm?.isCompatible(with: kind) ?? false }
    }
}
