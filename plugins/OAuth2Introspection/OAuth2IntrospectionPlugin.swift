import AuthzCore
import JWTSupport

/// `oauth2_introspection`: opaque access tokens, judged by asking the authorization server
/// (RFC 7662). The server's answer to an active token is treated as the token's claims, so the
/// shared claim checks (`issuer`, `audience`, `required_claims`, `exp`, and the scope checks)
/// and `forward_claims` work as they do for JWTs.
public struct OAuth2IntrospectionPlugin: ChainPlugin {
    let cache: IntrospectionCache
    let options: JWTOptions
    let verdict: JWTVerdict

    /// Longer tokens are refused without a call (no real access token is anywhere near this).
    static let maxTokenBytes = 16 << 10

    init(cache: IntrospectionCache, options: JWTOptions, realm: String) {
        self.cache = cache
        self.options = options
        self.verdict = JWTVerdict(realm: realm, options: options)
    }

    public func evaluate(_ request: CheckRequest, now: Int64) -> StepOutcome {
        guard let token = options.token(in: request) else { return .result(verdict.noToken()) }
        guard token.utf8.count <= Self.maxTokenBytes else {
            return .result(verdict.invalid(.malformedToken, message: "token is longer than \(Self.maxTokenBytes) bytes"))
        }
        switch cache.lookup(cache.digest(token), token: token) {
        case .wait(let flight):
            return .pending(flight)
        case .answer(.active(let claims), let remaining):
            var result = verdict.decide(claims: claims, now: now)
            // A caller caching this allow must not outlive our own reuse of the answer, or a
            // revoked token would be let through longer than cache_ttl.
            if result.allow { result.ttl = min(result.ttl ?? Int(remaining), Int(remaining)) }
            return .result(result)
        case .answer(.inactive, _):
            return .result(verdict.invalid(.tokenInactive, message: "the authorization server says the token is not active"))
        case .answer(.unavailable(let why), _):
            return .result(.denied(.introspectionUnavailable, status: 503, message: why))
        }
    }
}
