import AuthzCore
import AuthzJSON
import JOSE

/// The settings both JWT plugins share (SPEC §4), validated at load time.
public struct JWTOptions: Sendable {
    public var algorithms: [JWSAlgorithm]
    public var policy: ClaimPolicy
    /// Claim name → response header name.
    public var forwardClaims: [(claim: String, header: String)]
    public var tokenSources: [TokenSource]
    /// Verified-token cache entries (0: off).
    public var cacheSize: Int

    /// The keys `parse` reads.
    public static let keys: Set<String> = [
        "algorithms", "issuer", "audience", "leeway", "require_exp", "required_claims", "forward_claims",
        "token_from", "token_cache_size",
    ]

    /// Reads `algorithms`, `issuer`, `audience`, `leeway`, `require_exp`, `required_claims`,
    /// `forward_claims`, `token_from` and `token_cache_size` from a step's table.
    public static func parse(_ config: ConfigTable, context: PluginContext, permitted: [JWSAlgorithm],
                             defaultAlgorithms: [JWSAlgorithm], defaultRequireExp: Bool) throws(ConfigError) -> JWTOptions {
        var algorithms: [JWSAlgorithm] = []
        if let names = try config.stringList("algorithms") {
            guard !names.isEmpty else { throw config.error("algorithms", "algorithms must not be empty") }
            for n in names {
                guard let alg = JWSAlgorithm(rawValue: n), permitted.contains(alg) else {
                    throw config.error("algorithms", "algorithm \"\(n)\" is not one of \(permitted.map(\.rawValue).joined(separator: " "))")
                }
                if !algorithms.contains(alg) { algorithms.append(alg) }
            }
        } else {
            algorithms = defaultAlgorithms
        }
        let issuers = try config.stringOrList("issuer") ?? []
        let audiences = try config.stringOrList("audience") ?? []
        // An empty list would silently turn the check off; say so instead.
        if config.has("issuer"), issuers.isEmpty { throw config.error("issuer", "issuer must not be empty (leave it out to accept any)") }
        if config.has("audience"), audiences.isEmpty { throw config.error("audience", "audience must not be empty (leave it out to skip the check)") }
        let leeway = try config.int("leeway", min: 0, max: 86400) ?? 0
        let requireExp = try config.bool("require_exp") ?? defaultRequireExp
        let required = try config.stringList("required_claims") ?? []
        var forward: [(claim: String, header: String)] = []
        if let t = try config.table("forward_claims") {
            for e in t.table.entries {
                t.markUsed(e.key)
                guard case .string(let h) = e.node.value else {
                    throw ConfigError(file: config.file, line: e.node.line, message: "forward_claims.\(e.key) must be a header name string")
                }
                guard isToken(h) else {
                    throw ConfigError(file: config.file, line: e.node.line, message: "forward_claims.\(e.key): \"\(h)\" is not a valid header name")
                }
                forward.append((e.key, h.lowercased()))
            }
        }
        var sources: [TokenSource] = []
        if let list = try config.stringList("token_from") {
            guard !list.isEmpty else { throw config.error("token_from", "token_from must not be empty") }
            for s in list {
                guard let src = TokenSource(s) else {
                    throw config.error("token_from", "token_from entry \"\(s)\" must be authorization, header:NAME, cookie:NAME or query:NAME")
                }
                sources.append(src)
            }
        } else {
            sources = [.authorization]
        }
        let cacheSize = try config.int("token_cache_size", min: 0, max: 10_000_000) ?? context.tokenCacheSize
        let policy = ClaimPolicy(issuers: issuers, audiences: audiences, leeway: Int64(leeway),
                                 requireExp: requireExp, requiredClaims: required)
        return JWTOptions(algorithms: algorithms, policy: policy, forwardClaims: forward, tokenSources: sources, cacheSize: cacheSize)
    }

    static func isToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
        }
    }

    /// The first token any source finds.
    public func token(in request: CheckRequest) -> String? {
        for s in tokenSources {
            if let t = s.token(in: request) { return t }
        }
        return nil
    }
}
