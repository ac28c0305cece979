import Logging

/// `[server]` settings.
public struct ServerSettings: Sendable, Equatable {
    public var socket = "/run/authzd/authzd.sock"
    public var socketMode: UInt32 = 0o660
    public var socketGroup = ""
    public var allowedUIDs: [UInt32] = []
    public var maxLineBytes = 65536
    public var maxConnections = 1024
    public var appsDir = "apps.d"
    /// Verified-token cache entries per JWT step (0 turns the cache off).
    public var tokenCacheSize = 10_000
    /// Seconds a connection may stay with nothing received and no answer owed (0: never closed).
    public var idleTimeout = 300
    /// Seconds a started line may stay without its newline (0: no limit).
    public var requestTimeout = 10

    public init() {}
}

/// Where logs go.
public enum LogTarget: String, Sendable {
    case auto, journal, stderr
}

/// Which decisions are logged.
public enum DecisionLogging: String, Sendable {
    case none, deny, all
}

/// `[log]` settings.
public struct LogSettings: Sendable, Equatable {
    public var target: LogTarget = .auto
    public var level: Logger.Level = .info
    public var decisions: DecisionLogging = .deny
    /// Decision records per app per second before the rest are counted, not written.
    public var decisionRateLimit = 100

    public init() {}
}

/// A loaded, validated configuration: everything the request path needs, nothing raw.
public struct Configuration: Sendable {
    public var file: String
    public var server: ServerSettings
    public var log: LogSettings
    /// `[metrics]`: where Prometheus scrapes, if anywhere.
    public var metrics = MetricsSettings()
    public var apps: [String: AppChain]
    /// Every file read, for messages.
    public var files: [String]

    public init(file: String, server: ServerSettings, log: LogSettings, apps: [String: AppChain], files: [String]) {
        self.file = file
        self.server = server
        self.log = log
        self.apps = apps
        self.files = files
    }
}
