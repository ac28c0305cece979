import Logging

/// Builds one kind of chain plugin from its validated configuration. Registering a plugin means
/// adding its factory to `PluginRegistry` in one place (the AuthzPlugins module).
public protocol PluginFactory: Sendable {
    /// The `plugin = "…"` name.
    var name: String { get }
    /// Reads this step's keys (everything but `plugin` and `control`), validating them fully:
    /// the request path never sees raw configuration. Each key is checked on its own and each
    /// problem recorded in `config` (`attempt`, `record`), so that one run reports them all; then
    /// `config.finish()`, which reports unread keys and throws if anything was recorded. The
    /// loader reports keys left unread once this returns in any case, so a factory that forgets
    /// `finish()` still cannot accept a misspelt key.
    func makePlugin(config: ConfigTable, context: PluginContext) throws(ConfigError) -> any ChainPlugin
}

/// The known plugins by name.
public struct PluginRegistry: Sendable {
    public private(set) var factories: [String: any PluginFactory] = [:]

    public init(_ factories: [any PluginFactory] = []) {
        for f in factories { register(f) }
    }

    public mutating func register(_ factory: any PluginFactory) {
        factories[factory.name] = factory
    }

    public var names: [String] { factories.keys.sorted() }
}

/// What a plugin factory may use besides its own table.
public struct PluginContext: Sendable {
    /// Directory of the main configuration file; relative `secret_file` paths resolve against it.
    public let baseDirectory: String
    /// The app the step belongs to.
    public let appName: String
    public let logger: Logger
    /// Long-lived objects (JWKS caches) shared across apps and kept across reloads.
    public let resources: SharedResources
    /// How plugins fetch over HTTP(S); nil where fetching is not available (check-config).
    public let fetcher: (any HTTPFetcher)?
    /// Default bound of each plugin's verified-token cache.
    public let tokenCacheSize: Int

    public init(baseDirectory: String, appName: String, logger: Logger, resources: SharedResources,
                fetcher: (any HTTPFetcher)?, tokenCacheSize: Int = 10_000) {
        self.baseDirectory = baseDirectory
        self.appName = appName
        self.logger = logger
        self.resources = resources
        self.fetcher = fetcher
        self.tokenCacheSize = tokenCacheSize
    }

    /// Resolves a path from the configuration against the main file's directory.
    public func resolve(_ path: String) -> String {
        if path.hasPrefix("/") || baseDirectory.isEmpty { return path }
        return baseDirectory.hasSuffix("/") ? baseDirectory + path : baseDirectory + "/" + path
    }
}
