import AuthzJSON

/// The registered-claim checks of RFC 7519 §4.1 that a verifier applies after the signature.
public struct ClaimPolicy: Sendable, Equatable {
    /// Accepted `iss` values; empty accepts any issuer (and none).
    public var issuers: [String]
    /// Accepted `aud` values; the token must share one. Empty skips the audience check.
    public var audiences: [String]
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    public var leeway: Int64
    /// Whether a token without `exp` is refused.
    public var requireExp: Bool
    /// Claims that must be present, whatever their value.
    public var requiredClaims: [String]

    public init(issuers: [String] = [], audiences: [String] = [], leeway: Int64 = 0, requireExp: Bool = false,
                requiredClaims: [String] = []) {
        self.issuers = issuers
        self.audiences = audiences
        self.leeway = leeway
        self.requireExp = requireExp
        self.requiredClaims = requiredClaims
    }

    /// Checks `claims` at time `now` (seconds since the epoch).
    ///
    /// Messages name the claim and the rule, never a value from the token.
    public func validate(_ claims: JSONObject, now: Int64) throws(JOSEError) {
        let exp = try numericDate(claims, "exp")
        let nbf = try numericDate(claims, "nbf")
        let iat = try numericDate(claims, "iat")
        let now = Double(now)
        let leeway = Double(max(0, leeway))

        if let exp {
            // RFC 7519 §4.1.4: the token must not be accepted on or after exp.
            if now >= exp + leeway { throw JOSEError(.tokenExpired, "token has expired") }
        } else if requireExp {
            throw JOSEError(.missingClaim, "exp required")
        }
        if let nbf, nbf > now + leeway { throw JOSEError(.tokenNotYetValid, "token is not valid yet (nbf)") }
        if let iat, iat > now + leeway { throw JOSEError(.tokenNotYetValid, "token was issued in the future (iat)") }

        if !issuers.isEmpty {
            guard let iss = claims["iss"] else { throw JOSEError(.badIssuer, "iss required") }
            guard let name = iss.stringValue, issuers.contains(name) else {
                throw JOSEError(.badIssuer, "issuer not accepted")
            }
        }
        if !audiences.isEmpty {
            guard let aud = claims["aud"] else { throw JOSEError(.badAudience, "aud required") }
            let values: [String]
            switch aud {
            case .string(let s):
                values = [s]
            case .array(let items):
                values = items.compactMap(\.stringValue)
                guard values.count == items.count else {
                    throw JOSEError(.badAudience, "aud is not a string or an array of strings")
                }
            default:
                throw JOSEError(.badAudience, "aud is not a string or an array of strings")
            }
            guard values.contains(where: audiences.contains) else {
                throw JOSEError(.badAudience, "audience not accepted")
            }
        }
        for name in requiredClaims where claims[name] == nil {
            throw JOSEError(.missingClaim, "\(name) required")
        }
    }

    /// A NumericDate claim (RFC 7519 §2): a JSON number when present, anything else is malformed.
    private func numericDate(_ claims: JSONObject, _ name: String) throws(JOSEError) -> Double? {
        guard let value = claims[name] else { return nil }
        guard let n = value.numberValue else { throw JOSEError(.malformedToken, "\(name) is not a number") }
        return n.double
    }
}
