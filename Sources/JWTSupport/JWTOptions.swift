import AuthzCore
import AuthzJSON
import AuthzText
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
    /// Scopes the token's `scope` (space-separated) or `scp` (array) must all hold (SPEC §8);
    /// empty: no scope check.
    public var requiredScopes: [String]

    /// The keys `parse` reads.
    public static let keys: Set<String> = [
        "algorithms", "issuer", "audience", "leeway", "require_exp", "required_claims", "forward_claims",
        "token_from", "token_cache_size", "required_scopes",
    ]

    /// Reads `algorithms`, `issuer`, `audience`, `leeway`, `require_exp`, `required_claims`,
    /// `forward_claims`, `token_from`, `token_cache_size` and `required_scopes` from a step's
    /// table; throws the first problem after every key has been checked (all of them are
    /// recorded in `config`).
    public static func parse(_ config: ConfigTable, context: PluginContext, permitted: [JWSAlgorithm],
                             defaultAlgorithms: [JWSAlgorithm], defaultRequireExp: Bool) throws(ConfigError) -> JWTOptions {
        let before = config.errors
        let options = read(config, context: context, permitted: permitted, defaultAlgorithms: defaultAlgorithms,
                           defaultRequireExp: defaultRequireExp)
        if let new = config.errors.first(where: { !before.contains($0) }) { throw new }
        return options
    }

    /// `parse` without throwing: each key is checked on its own, every problem is recorded in
    /// `config`, and a key with a problem keeps its default (or, for a list, its valid entries),
    /// so a factory can go on to check what depends on it (a secret's length on `algorithms`).
    public static func read(_ config: ConfigTable, context: PluginContext, permitted: [JWSAlgorithm],
                            defaultAlgorithms: [JWSAlgorithm], defaultRequireExp: Bool) -> JWTOptions {
        var algorithms: [JWSAlgorithm] = []
        if let names = config.attempt({ () throws(ConfigError) in try config.stringList("algorithms") }) ?? nil {
            if names.isEmpty { config.record(config.error("algorithms", "algorithms must not be empty")) }
            for n in names {
                guard let alg = JWSAlgorithm(rawValue: n), permitted.contains(alg) else {
                    config.record(config.error("algorithms", "algorithm \"\(n)\" is not one of \(permitted.map(\.rawValue).joined(separator: " "))"))
                    continue
                }
                if !algorithms.contains(alg) { algorithms.append(alg) }
            }
        }
        if algorithms.isEmpty { algorithms = defaultAlgorithms }
        let issuers = config.attempt { () throws(ConfigError) in try config.stringOrList("issuer") } ?? nil
        let audiences = config.attempt { () throws(ConfigError) in try config.stringOrList("audience") } ?? nil
        // An empty list would silently turn the check off; say so instead.
        if issuers?.isEmpty == true { config.record(config.error("issuer", "issuer must not be empty (leave it out to accept any)")) }
        if audiences?.isEmpty == true { config.record(config.error("audience", "audience must not be empty (leave it out to skip the check)")) }
        let leeway = config.attempt { () throws(ConfigError) in try config.int("leeway", min: 0, max: 86400) } ?? nil
        let requireExp = config.attempt { () throws(ConfigError) in try config.bool("require_exp") } ?? nil
        let required = config.attempt { () throws(ConfigError) in try config.stringList("required_claims") } ?? nil
        var forward: [(claim: String, header: String)] = []
        if let t = config.attempt({ () throws(ConfigError) in try config.table("forward_claims") }) ?? nil {
            for e in t.table.entries {
                t.markUsed(e.key)
                guard case .string(let h) = e.node.value else {
                    t.record(ConfigError(file: config.file, line: e.node.line, message: "forward_claims.\(e.key) must be a header name string"))
                    continue
                }
                guard HTTPField.isToken(h) else {
                    t.record(ConfigError(file: config.file, line: e.node.line, message: "forward_claims.\(e.key): \"\(h)\" is not a valid header name"))
                    continue
                }
                forward.append((e.key, h.lowercased()))
            }
        }
        var sources: [TokenSource] = []
        if let list = config.attempt({ () throws(ConfigError) in try config.stringList("token_from") }) ?? nil {
            if list.isEmpty { config.record(config.error("token_from", "token_from must not be empty")) }
            for s in list {
                guard let src = TokenSource(s) else {
                    config.record(config.error("token_from", "token_from entry \"\(s)\" must be authorization, header:NAME, cookie:NAME or query:NAME"))
                    continue
                }
                sources.append(src)
            }
        }
        if sources.isEmpty { sources = [.authorization] }
        let cacheSize = config.attempt { () throws(ConfigError) in
            try config.int("token_cache_size", min: 0, max: 10_000_000)
        } ?? nil
        var scopes: [String] = []
        if let list = config.attempt({ () throws(ConfigError) in try config.stringList("required_scopes") }) ?? nil {
            if list.isEmpty {
                config.record(config.error("required_scopes", "required_scopes must not be empty (leave it out to skip the check)"))
            }
            for (i, scope) in list.enumerated() {
                guard isScopeToken(scope) else {
                    // The entry's own line, when the list spans several.
                    var line = config.line(of: "required_scopes")
                    if case .array(let items)? = config.table["required_scopes"]?.value, i < items.count { line = items[i].line }
                    config.record(ConfigError(file: config.file, line: line, message: "required_scopes entry \"\(scope)\" is not a scope: one or more printable ASCII characters other than space, '\"' and '\\' (RFC 6749 §3.3)"))
                    continue
                }
                if !scopes.contains(scope) { scopes.append(scope) }
            }
        }
        let policy = ClaimPolicy(issuers: issuers ?? [], audiences: audiences ?? [], leeway: Int64(leeway ?? 0),
                                 requireExp: requireExp ?? defaultRequireExp, requiredClaims: required ?? [])
        return JWTOptions(algorithms: algorithms, policy: policy, forwardClaims: forward, tokenSources: sources,
                          cacheSize: cacheSize ?? context.tokenCacheSize, requiredScopes: scopes)
    }

    /// RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`: no space, `"`, `\` or
    /// control character, so a scope can be quoted in a challenge as it is.
    static func isScopeToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { c in c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E) }
    }

    /// The first token any source finds.
    public func token(in request: CheckRequest) -> String? {
        for s in tokenSources {
            if let t = s.token(in: request) { return t }
        }
        return nil
    }
}
