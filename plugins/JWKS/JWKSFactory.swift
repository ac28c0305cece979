import AuthzCore
import JOSE
import JWTSupport

/// Builds `jwks` steps. Steps naming the same source (`url`, or `oidc_issuer` for a provider
/// whose discovery document names it) share one `JWKSCache` through the
/// context's shared resources; the first fetch starts when the cache is made (not under
/// check-config, which has no fetcher).
public struct JWKSFactory: PluginFactory {
    public let name = "jwks"
    static let permitted: [JWSAlgorithm] = [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512, .es256, .es384, .es512, .edDSA]

    public init() {}

    public func makePlugin(config: ConfigTable, context: PluginContext) throws(ConfigError) -> any ChainPlugin {
        let settings = Self.readSettings(config, context: context)
        var options = JWTOptions.read(config, context: context, permitted: Self.permitted,
                                      defaultAlgorithms: [.rs256], defaultRequireExp: true)
        try config.finish()
        guard let settings else { throw config.error(nil, "jwks needs a valid url or oidc_issuer") }  // recorded already
        options = Self.checkingIssuer(options, of: settings)
        let cache = try context.resources.resource(settings.resourceKey, as: JWKSCache.self) { () throws(ConfigError) in
            JWKSCache(settings: settings, fetcher: context.fetcher, logger: context.logger)
        }
        cache.startIfIdle()
        return JWKSPlugin(cache: cache, options: options, realm: context.appName)
    }

    /// Tokens of a discovered provider must come from it: without `issuer`, `iss` must be
    /// `oidc_issuer`.
    static func checkingIssuer(_ options: JWTOptions, of settings: JWKSSourceSettings) -> JWTOptions {
        var options = options
        if !settings.oidcIssuer.isEmpty, options.policy.issuers.isEmpty { options.policy.issuers = [settings.oidcIssuer] }
        return options
    }

    /// Reads and checks the source keys: url or oidc_issuer, cache_ttl, min_refetch_interval, max_stale,
    /// fetch_timeout, ca_file; throws the first problem after checking them all.
    static func settings(_ config: ConfigTable, context: PluginContext) throws(ConfigError) -> JWKSSourceSettings {
        let before = config.errors
        let settings = readSettings(config, context: context)
        if let new = config.errors.first(where: { !before.contains($0) }) { throw new }
        guard let settings else { throw config.error(nil, "jwks needs a valid url or oidc_issuer") }
        return settings
    }

    /// `settings` without throwing: each key is checked on its own and every problem recorded in
    /// `config`; nil when there is no usable url or oidc_issuer.
    static func readSettings(_ config: ConfigTable, context: PluginContext) -> JWKSSourceSettings? {
        let url = config.attempt { () throws(ConfigError) -> String? in
            guard let url = try config.string("url") else { return nil }
            guard HTTPFetchRequest.isValidURL(url) else {
                throw config.error("url", "url must be an https:// (or http://) URL with a host, not \"\(url.prefix(200))\"")
            }
            return url
        }
        let issuer = config.attempt { () throws(ConfigError) -> String? in
            guard let issuer = try config.string("oidc_issuer") else { return nil }
            guard HTTPFetchRequest.isValidURL(issuer), !issuer.contains("?"), !issuer.contains("#") else {
                throw config.error("oidc_issuer", "oidc_issuer must be an https:// (or http://) URL with a host and no query or fragment, not \"\(issuer.prefix(200))\"")
            }
            return issuer
        }
        // Exactly one of the two says where the keys are.
        let location: (url: String, issuer: String)? = config.attempt { () throws(ConfigError) in
            if config.has("url"), config.has("oidc_issuer") {
                throw config.error("oidc_issuer", "jwks takes url or oidc_issuer, not both")
            }
            switch (url, issuer) {
            case (.some(.some(let url)), _): return (url, "")
            case (_, .some(.some(let issuer))): return ("", issuer)
            case (.some(.none), .some(.none)):
                throw config.error(nil, "url is required (or oidc_issuer, an OpenID provider whose discovery document names the key set)")
            default: return nil  // the key that is set was refused above
            }
        } ?? nil
        let ttl = config.attempt { () throws(ConfigError) in try config.int("cache_ttl", min: 1, max: 7 * 86400) } ?? nil
        let refetch = config.attempt { () throws(ConfigError) in try config.int("min_refetch_interval", min: 1, max: 86400) } ?? nil
        let stale = config.attempt { () throws(ConfigError) in try config.int("max_stale", min: 0, max: 30 * 86400) } ?? nil
        let timeout = config.attempt { () throws(ConfigError) in try config.int("fetch_timeout", min: 1, max: 120) } ?? nil
        let caFile = config.attempt { () throws(ConfigError) -> String in
            guard let file = try config.string("ca_file"), !file.isEmpty else { return "" }
            let resolved = context.resolve(file)
            if case .failure(let e) = readFileBytes(resolved, limit: 8 << 20) {
                throw config.error("ca_file", "ca_file: \(e.message)")
            }
            return resolved
        } ?? ""
        guard let location else { return nil }
        return JWKSSourceSettings(url: location.url, oidcIssuer: location.issuer, caFile: caFile, cacheTTL: ttl ?? 300, minRefetchInterval: refetch ?? 10,
                                  maxStale: stale ?? 86400, fetchTimeout: timeout ?? 5)
    }
}
