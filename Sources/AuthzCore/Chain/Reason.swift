/// A reason code from SPEC §3. Codes are a closed vocabulary on the wire; the struct keeps call
/// sites typed while letting new codes be added in one place.
public struct Reason: Sendable, Hashable, CustomStringConvertible {
    public let code: String

    private init(_ code: String) { self.code = code }

    public var description: String { code }

    public static let ok = Reason("ok")
    public static let ipNotAllowed = Reason("ip_not_allowed")
    public static let noToken = Reason("no_token")
    public static let malformedToken = Reason("malformed_token")
    public static let algNotAllowed = Reason("alg_not_allowed")
    public static let badSignature = Reason("bad_signature")
    public static let tokenExpired = Reason("token_expired")
    public static let tokenNotYetValid = Reason("token_not_yet_valid")
    public static let badIssuer = Reason("bad_issuer")
    public static let badAudience = Reason("bad_audience")
    public static let missingClaim = Reason("missing_claim")
    public static let unknownKid = Reason("unknown_kid")
    public static let jwksUnavailable = Reason("jwks_unavailable")
    public static let unknownApp = Reason("unknown_app")
    public static let badRequest = Reason("bad_request")
    public static let lineTooLong = Reason("line_too_long")
    public static let noDecision = Reason("no_decision")
    /// SPEC §8: the token is valid but lacks a scope the step requires (403).
    public static let insufficientScope = Reason("insufficient_scope")
    /// SPEC §8: the introspection endpoint says `active: false`.
    public static let tokenInactive = Reason("token_inactive")
    /// SPEC §8: the introspection endpoint cannot be reached or fails; the step fails closed.
    public static let introspectionUnavailable = Reason("introspection_unavailable")

    /// Every code, for documentation and tests.
    public static let all: [Reason] = [
        .ok, .ipNotAllowed, .noToken, .malformedToken, .algNotAllowed, .badSignature, .tokenExpired,
        .tokenNotYetValid, .badIssuer, .badAudience, .missingClaim, .unknownKid, .jwksUnavailable,
        .unknownApp, .badRequest, .lineTooLong, .noDecision, .insufficientScope, .tokenInactive,
        .introspectionUnavailable,
    ]

    /// The HTTP status SPEC §3 pairs with this reason.
    public var defaultStatus: Int {
        switch self {
        case .ok: 200
        case .ipNotAllowed, .unknownApp, .insufficientScope: 403
        case .badRequest, .lineTooLong: 400
        case .jwksUnavailable, .introspectionUnavailable: 503
        default: 401
        }
    }
}
