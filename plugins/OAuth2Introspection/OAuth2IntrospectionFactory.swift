import AuthzCore
import JOSE
import JWTSupport

/// Builds `oauth2_introspection` steps (SPEC §8). Each step has its own answer cache, so one
/// app's answers never decide for another and a reload starts afresh; steps asking the same
/// endpoint with the same client share one `IntrospectionEndpoint`, which reports its health.
public struct OAuth2IntrospectionFactory: PluginFactory {
    public let name = "oauth2_introspection"

    /// The step's own keys; the shared JWT keys come from `JWTOptions.keys`.
    static let ownKeys: Set<String> = ["url", "client_id", "client_secret", "client_secret_file", "cache_ttl",
                                       "fetch_timeout", "ca_file"]
    /// Shared JWT keys that mean nothing for an opaque token.
    static let refusedSharedKeys: Set<String> = ["algorithms"]

    public init() {}

    public func makePlugin(config: ConfigTable, context: PluginContext) throws(ConfigError) -> any ChainPlugin {
        for key in Self.refusedSharedKeys.sorted() where config.has(key) {
            config.record(config.error(key, "\(key) does not apply to oauth2_introspection: the token is opaque"))
            config.markUsed(key)
        }
        config.rejectUnknownKeys(known: JWTOptions.keys.union(Self.ownKeys))
        let options = JWTOptions.read(config, context: context, permitted: JWSAlgorithm.allCases, defaultAlgorithms: [],
                                      defaultRequireExp: false)
        let settings = Self.readSettings(config, context: context)
        try config.finish()
        guard let settings else { throw config.error(nil, "oauth2_introspection needs a valid url") }  // recorded already
        // The endpoint's health is shared by every step that asks it (for `stats` and the
        // status line); the answers are not.
        let endpoint = try context.resources.resource(IntrospectionEndpoint.resourceKey(settings), as: IntrospectionEndpoint.self) {
            () throws(ConfigError) in IntrospectionEndpoint(settings: settings, logger: context.logger)
        }
        let cache = IntrospectionCache(settings: settings, capacity: options.cacheSize, fetcher: context.fetcher,
                                       logger: context.logger, endpoint: endpoint)
        return OAuth2IntrospectionPlugin(cache: cache, options: options, realm: context.appName)
    }

    /// Reads and checks url, client_id, client_secret or client_secret_file, cache_ttl,
    /// fetch_timeout and ca_file, recording every problem in `config`; nil when there is no
    /// usable url or the client credentials are wrong.
    static func readSettings(_ config: ConfigTable, context: PluginContext) -> IntrospectionSettings? {
        let url = config.attempt { () throws(ConfigError) -> String in
            let url = try config.requiredString("url")
            guard HTTPFetchRequest.isValidURL(url) else {
                throw config.error("url", "url must be an https:// (or http://) URL with a host and no user info, not \"\(url.prefix(200))\"")
            }
            return url
        }
        let ttl = config.attempt { () throws(ConfigError) in try config.int("cache_ttl", min: 0, max: 86400) } ?? nil
        let timeout = config.attempt { () throws(ConfigError) in try config.int("fetch_timeout", min: 1, max: 120) } ?? nil
        let caFile = config.attempt { () throws(ConfigError) -> String in
            guard let file = try config.string("ca_file"), !file.isEmpty else { return "" }
            let resolved = context.resolve(file)
            if case .failure(let e) = readFileBytes(resolved, limit: 8 << 20) {
                throw config.error("ca_file", "ca_file: \(e.message)")
            }
            return resolved
        } ?? ""
        let client: ClientCredentials?
        switch readClient(config, context: context) {
        case .none: client = nil
        case .client(let c): client = c
        case .invalid: return nil
        }
        guard let url else { return nil }
        return IntrospectionSettings(url: url, client: client, cacheTTL: ttl ?? 60,
                                     fetchTimeout: timeout ?? 5, caFile: caFile)
    }

    /// The client credentials: none, or `client_id` with exactly one of `client_secret` and
    /// `client_secret_file`. nil (with the problem recorded) when that does not hold.
    private static func readClient(_ config: ConfigTable, context: PluginContext) -> ClientReading {
        let id = config.attempt { () throws(ConfigError) in try config.string("client_id") } ?? nil
        let inline = config.attempt { () throws(ConfigError) in try config.string("client_secret") } ?? nil
        let file = config.attempt { () throws(ConfigError) in try config.string("client_secret_file") } ?? nil
        let hasSecret = config.has("client_secret"), hasFile = config.has("client_secret_file")
        guard config.has("client_id") else {
            if hasSecret || hasFile {
                let key = hasSecret ? "client_secret" : "client_secret_file"
                config.record(config.error(key, "\(key) needs client_id"))
                return .invalid
            }
            return .none
        }
        guard let id else { return .invalid }  // a type error, recorded
        var ok = true
        if id.isEmpty || id.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            config.record(config.error("client_id", "client_id must be a non-empty string without control characters"))
            ok = false
        }
        guard hasSecret != hasFile else {
            config.record(config.error("client_id", "client_id needs exactly one of client_secret or client_secret_file"))
            return .invalid
        }
        var secret: [UInt8]?
        if let inline { secret = Array(inline.utf8) }
        if let file {
            switch readSecretFile(context.resolve(file)) {
            case .success(let bytes): secret = bytes
            case .failure(let e): config.record(config.error("client_secret_file", e.message))
            }
        }
        guard let secret, ok else { return .invalid }
        guard !secret.isEmpty else {
            config.record(config.error(hasSecret ? "client_secret" : "client_secret_file", "the client secret is empty"))
            return .invalid
        }
        return .client(ClientCredentials(id: id, secret: secret))
    }

    private enum ClientReading {
        case none
        case client(ClientCredentials)
        case invalid
    }
}
