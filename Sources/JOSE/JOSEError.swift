/// Why a token or key set was refused.
///
/// The message is for logs and people; it never contains the token, a claim value taken from the
/// token, a secret or a key. Map `code` to the wire protocol's reason codes in one place.
public struct JOSEError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of refusal this is. A struct wrapping a private enum so codes can be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case malformedToken
            case algNotAllowed
            case badSignature
            case tokenExpired
            case tokenNotYetValid
            case badIssuer
            case badAudience
            case missingClaim
            case unknownKid
            case invalidKeySet
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Not a well-formed compact JWS, or a claim of the wrong type.
        public static let malformedToken = Code(.malformedToken)
        /// `alg` is missing from the supported set (including `none`, in any spelling).
        public static let algNotAllowed = Code(.algNotAllowed)
        /// The signature does not verify under any candidate key.
        public static let badSignature = Code(.badSignature)
        /// `exp` has passed (with leeway).
        public static let tokenExpired = Code(.tokenExpired)
        /// `nbf` or `iat` lies in the future (beyond leeway).
        public static let tokenNotYetValid = Code(.tokenNotYetValid)
        /// `iss` is missing or not one of the accepted issuers.
        public static let badIssuer = Code(.badIssuer)
        /// `aud` is missing or shares no value with the accepted audiences.
        public static let badAudience = Code(.badAudience)
        /// A required claim is absent.
        public static let missingClaim = Code(.missingClaim)
        /// No key with the token's `kid`.
        public static let unknownKid = Code(.unknownKid)
        /// A JWK set that is not a JSON object with a `keys` array.
        public static let invalidKeySet = Code(.invalidKeySet)

        public var description: String {
            switch base {
            case .malformedToken: "malformedToken"
            case .algNotAllowed: "algNotAllowed"
            case .badSignature: "badSignature"
            case .tokenExpired: "tokenExpired"
            case .tokenNotYetValid: "tokenNotYetValid"
            case .badIssuer: "badIssuer"
            case .badAudience: "badAudience"
            case .missingClaim: "missingClaim"
            case .unknownKid: "unknownKid"
            case .invalidKeySet: "invalidKeySet"
            }
        }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
