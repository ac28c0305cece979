import AuthzCore
import AuthzJSON
import JOSE
import JWTSupport

/// `jwks`: JWTs signed by an identity provider whose public keys come from a cached JWKS
/// endpoint (RS*, PS*, ES*, EdDSA). Keys come only from the configured set: a token's `jku`,
/// `x5u`, `jwk` and `x5c` headers are never read.
public struct JWKSPlugin: ChainPlugin {
    let cache: JWKSCache
    let options: JWTOptions
    let verdict: JWTVerdict
    let tokens: VerifiedTokenCache

    init(cache: JWKSCache, options: JWTOptions, realm: String) {
        self.cache = cache
        self.options = options
        self.verdict = JWTVerdict(realm: realm, options: options)
        self.tokens = VerifiedTokenCache(capacity: options.cacheSize)
    }

    public func evaluate(_ request: CheckRequest, now: Int64) -> StepOutcome {
        guard let token = options.token(in: request) else { return .result(verdict.noToken()) }
        // A token already verified under the current key set skips parsing and the signature.
        if let current = cache.freshSnapshot(), let claims = tokens.claims(for: token, generation: current.generation) {
            return .result(verdict.decide(claims: claims, now: now))
        }
        let jws: CompactJWS
        switch verdict.parse(token) {
        case .token(let t): jws = t
        case .denied(let d): return .result(d)
        }
        let snapshot: KeySnapshot
        switch cache.lookup() {
        case .ready(let s): snapshot = s
        case .wait(let attempt): return .pending(attempt)
        case .unavailable(let why): return .result(.denied(.jwksUnavailable, status: 503, message: why))
        }
        if let claims = tokens.claims(for: token, generation: snapshot.generation) {
            return .result(verdict.decide(claims: claims, now: now))
        }
        let key: VerificationKey
        switch Self.select(jws, in: snapshot.keys) {
        case .key(let k):
            key = k
        case .unknownKid(let why):
            // The provider may have rotated: fetch again, at most once per min_refetch_interval.
            if let attempt = cache.refetchForUnknownKid() { return .pending(attempt) }
            return .result(verdict.invalid(.unknownKid, message: why))
        case .refused(let reason, let why):
            return .result(verdict.invalid(reason, message: why))
        }
        guard JWSVerifier.verify(jws, with: key) else {
            return .result(verdict.invalid(.badSignature, message: "signature does not verify"))
        }
        tokens.insert(token, claims: jws.claims, generation: snapshot.generation)
        return .result(verdict.decide(claims: jws.claims, now: now))
    }

    /// Which key may verify a token.
    enum Selection {
        case key(VerificationKey)
        /// No key for this kid (or, without a kid, none for the algorithm): a refetch may help.
        case unknownKid(String)
        /// A definite refusal no refetch changes.
        case refused(Reason, String)
    }

    /// The kid names the key, whose type, curve and `alg` must fit the token's algorithm. A token
    /// without a kid is accepted only when exactly one usable key fits its algorithm, so that
    /// the choice never depends on key order.
    static func select(_ jws: CompactJWS, in set: JWKSet) -> Selection {
        if let kid = jws.kid {
            let fitting = set.keys(for: jws.algorithm, kid: kid)
            if let first = fitting.first {
                // Duplicate kids are a provider mistake; refuse rather than guess.
                return fitting.count == 1 ? .key(first) : .refused(.unknownKid, "\(fitting.count) keys share this kid")
            }
            if set.contains(kid: kid) {
                return .refused(.badSignature, "the key with this kid cannot verify \(jws.algorithm.rawValue)")
            }
            return .unknownKid("no key has this token's kid")
        }
        let fitting = set.keys(for: jws.algorithm, kid: nil)
        switch fitting.count {
        case 1: return .key(fitting[0])
        case 0: return .unknownKid("token has no kid and no key fits \(jws.algorithm.rawValue)")
        default: return .refused(.unknownKid, "token has no kid and \(fitting.count) keys fit \(jws.algorithm.rawValue)")
        }
    }
}
