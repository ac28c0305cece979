import AuthzCore
import AuthzJSON
import JOSE

/// Turns JOSE outcomes into chain results: reasons, RFC 6750 challenges, forwarded claims, TTL.
public struct JWTVerdict: Sendable {
    public let realm: String
    public let options: JWTOptions

    public init(realm: String, options: JWTOptions) {
        self.realm = realm
        self.options = options
        self.quotedRealm = Self.quoted(realm)
        // Scopes checked at load hold no '"' or backslash and come out as written; quoting still
        // guards options built in code.
        self.scopeChallenge = "Bearer realm=\(quotedRealm), error=\"insufficient_scope\", scope=\(Self.quoted(options.requiredScopes.joined(separator: " ")))"
    }

    /// The reason code for a JOSE error (the one place this mapping lives).
    public static func reason(for code: JOSEError.Code) -> Reason {
        switch code {
        case .algNotAllowed: .algNotAllowed
        case .badSignature: .badSignature
        case .tokenExpired: .tokenExpired
        case .tokenNotYetValid: .tokenNotYetValid
        case .badIssuer: .badIssuer
        case .badAudience: .badAudience
        case .missingClaim: .missingClaim
        case .unknownKid: .unknownKid
        default: .malformedToken
        }
    }

    /// The realm as an RFC 9110 quoted-string, built once: an inline app's name may hold `"` or
    /// `\`, which would otherwise end the string early and let the name forge challenge parameters.
    private let quotedRealm: String
    /// RFC 6750 §3.1's challenge for a token without the required scopes, built once.
    private let scopeChallenge: String

    private static func quoted(_ realm: String) -> String {
        var out = "\""
        for c in realm.unicodeScalars {
            if c == "\"" || c == "\\" { out.append("\\") }
            // Control characters cannot be sent in a header at all.
            out.unicodeScalars.append(c.value < 0x20 || c.value == 0x7F ? "?" : c)
        }
        return out + "\""
    }

    /// 401 with `WWW-Authenticate: Bearer realm=…` when no token was sent.
    public func noToken() -> StepResult {
        .denied(.noToken, status: 401, message: "no token in the request",
                headers: [("www-authenticate", "Bearer realm=\(quotedRealm)")])
    }

    /// 401 with an `invalid_token` challenge.
    public func invalid(_ reason: Reason, message: String) -> StepResult {
        let description = reason.code.split(separator: "_").joined(separator: " ")
        return .denied(reason, status: 401, message: message,
                       headers: [("www-authenticate", "Bearer realm=\(quotedRealm), error=\"invalid_token\", error_description=\"\(description)\"")])
    }

    public func invalid(_ error: JOSEError) -> StepResult {
        invalid(Self.reason(for: error.code), message: error.message)
    }

    /// The outcome of reading a token before any key is involved.
    public enum Parsed: Sendable {
        case token(CompactJWS)
        case denied(StepResult)
    }

    /// Parses a compact JWS strictly and refuses an `alg` outside the step's list, before any
    /// key is looked at (so an HS256 token "signed" with a public key stops here).
    public func parse(_ token: String) -> Parsed {
        let jws: CompactJWS
        do {
            jws = try CompactJWS.parse(token)
        } catch {
            return .denied(invalid(error))
        }
        guard options.algorithms.contains(jws.algorithm) else {
            return .denied(invalid(.algNotAllowed, message: "algorithm \(jws.algorithm.rawValue) is not allowed here"))
        }
        return .token(jws)
    }

    /// For a token whose signature is verified (or cached as verified), or an introspection
    /// answer taken as claims: the claim checks, then `required_scopes`, then the allow. Time
    /// claims are checked here on every call, cache hit or not.
    public func decide(claims: JSONObject, now: Int64) -> StepResult {
        do {
            try options.policy.validate(claims, now: now)
        } catch {
            return invalid(error)
        }
        if !options.requiredScopes.isEmpty, let missing = missingScope(claims) {
            return insufficientScope(message: missing)
        }
        return allow(claims: claims, now: now)
    }

    /// 403 `insufficient_scope` with the challenge naming every required scope.
    public func insufficientScope(message: String) -> StepResult {
        .denied(.insufficientScope, status: 403, message: message, headers: [("www-authenticate", scopeChallenge)])
    }

    /// Why the claims do not grant every required scope, or nil when they do. Scopes come from
    /// `scope` (a space-separated string, RFC 6749 §3.3 and RFC 8693) and `scp` (an array of
    /// strings); a token may carry both. Either claim of another type denies: a malformed grant
    /// is no grant. Messages name the configured scope, never a value from the token.
    func missingScope(_ claims: JSONObject) -> String? {
        var granted: [Substring] = []
        if let scope = claims["scope"] {
            guard case .string(let text) = scope else { return "the token's scope claim is not a string" }
            granted.append(contentsOf: text.split(separator: " "))
        }
        if let scp = claims["scp"] {
            guard case .array(let items) = scp else { return "the token's scp claim is not an array of strings" }
            for item in items {
                guard case .string(let s) = item else { return "the token's scp claim is not an array of strings" }
                granted.append(s[...])
            }
        }
        if claims["scope"] == nil && claims["scp"] == nil {
            return "the token carries no scope (required: \(options.requiredScopes.joined(separator: " ")))"
        }
        for required in options.requiredScopes where !granted.contains(where: { $0 == required }) {
            return "the token lacks scope \(required)"
        }
        return nil
    }

    /// An allow carrying forwarded claims, the subject and a TTL bounded by `exp`.
    public func allow(claims: JSONObject, now: Int64) -> StepResult {
        var headers: [(String, String)] = []
        for f in options.forwardClaims {
            if let v = claims[f.claim], let text = Self.headerValue(v) { headers.append((f.header, text)) }
        }
        var ttl: Int?
        if let exp = claims["exp"]?.numberValue?.double {
            ttl = max(0, Int(min(exp - Double(now), Double(AppChain.maxTTL))))
        }
        return .allowed(headers: headers, ttl: ttl, subject: claims["sub"]?.stringValue)
    }

    /// A claim as a header value; nil when it would not be a safe one (control characters).
    static func headerValue(_ v: JSONValue) -> String? {
        let text: String
        switch v {
        case .string(let s): text = s
        case .number(let n): text = n.text
        case .bool(let b): text = b ? "true" : "false"
        case .array(let items) where items.allSatisfy({ $0.stringValue != nil }):
            text = items.compactMap(\.stringValue).joined(separator: ",")
        case .null: return nil
        default: text = v.jsonString
        }
        guard text.utf8.count <= 4096, !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        return text
    }
}
