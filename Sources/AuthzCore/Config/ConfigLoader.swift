#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AuthzTOML
import Logging

/// Reads the main file and the apps directory into a `Configuration`. It collects every error it
/// can (each as `FILE:LINE: message`) and returns a configuration only when there are none, so a
/// bad file never half-applies.
public struct ConfigLoader: Sendable {
    public let registry: PluginRegistry
    public let resources: SharedResources
    public let fetcher: (any HTTPFetcher)?
    public let logger: Logger

    public init(registry: PluginRegistry, resources: SharedResources = SharedResources(),
                fetcher: (any HTTPFetcher)? = nil, logger: Logger = Logger(label: "authzd.config")) {
        self.registry = registry
        self.resources = resources
        self.fetcher = fetcher
        self.logger = logger
    }

    /// Loads `path` and the apps it names. Every table is checked key by key and every step of
    /// every app is built, so the errors thrown are all that can be found, not the first: the main
    /// file's by line, then each app file's (in name order) by line.
    public func load(path: String) throws(ConfigErrors) -> Configuration {
        var files = [path]
        let root: TOMLTable
        do {
            root = try Self.parseFile(path)
        } catch {
            throw ConfigErrors([error])
        }
        let main = ConfigTable(file: path, table: root, path: "")
        let baseDir = Self.directory(of: path)

        var server = ServerSettings()
        var log = LogSettings()
        var metrics = MetricsSettings()
        if let t = main.attempt({ () throws(ConfigError) in try main.table("server") }) ?? nil {
            do { try Self.parseServer(t, into: &server) } catch { t.record(error) }
        }
        if let t = main.attempt({ () throws(ConfigError) in try main.table("log") }) ?? nil {
            do { try Self.parseLog(t, into: &log) } catch { t.record(error) }
        }
        if let t = main.attempt({ () throws(ConfigError) in try main.table("metrics") }) ?? nil {
            do { try Self.parseMetrics(t, into: &metrics) } catch { t.record(error) }
        }

        var apps: [String: AppChain] = [:]
        var inlineNames: Set<String> = []
        if let inline = main.attempt({ () throws(ConfigError) in try main.table("apps") }) ?? nil {
            for entry in inline.table.entries {
                guard case .table = entry.node.value else {
                    inline.markUsed(entry.key)
                    inline.record(ConfigError(file: path, line: entry.node.line, message: "apps.\(entry.key) must be a table"))
                    continue
                }
                inlineNames.insert(entry.key)
                guard Self.isValidAppName(entry.key) else {
                    inline.markUsed(entry.key)
                    inline.record(ConfigError(file: path, line: entry.node.line, message: Self.badAppNameMessage(entry.key)))
                    continue
                }
                guard let app = inline.attempt({ () throws(ConfigError) in try inline.table(entry.key) }) ?? nil else { continue }
                if let chain = buildApp(name: entry.key, table: app, baseDir: baseDir, tokenCacheSize: server.tokenCacheSize) {
                    apps[entry.key] = chain
                }
            }
        }
        main.reportUnknownKeys()

        // apps.d/*.toml
        let appsDir = server.appsDir.hasPrefix("/") ? server.appsDir : baseDir + "/" + server.appsDir
        let explicitAppsDir = main.table["server"].flatMap { n -> Bool? in
            if case .table(let t) = n.value { return t["apps_dir"] != nil } else { return nil }
        } ?? false
        var appFileErrors: [ConfigError] = []
        switch Self.listTOMLFiles(appsDir) {
        case .success(let names):
            for name in names {
                let file = appsDir + "/" + name
                let appName = String(name.dropLast(5))
                files.append(file)
                guard Self.isValidAppName(appName) else {
                    appFileErrors.append(ConfigError(file: file, line: 1, message: Self.badAppNameMessage(appName)))
                    continue
                }
                if inlineNames.contains(appName) {
                    appFileErrors.append(ConfigError(file: file, line: 1, message: "app \(appName) is also defined inline in \(path)"))
                    continue
                }
                let table: TOMLTable
                do {
                    table = try Self.parseFile(file)
                } catch {
                    appFileErrors.append(error)
                    continue
                }
                let app = ConfigTable(file: file, table: table, path: "")
                if let chain = buildApp(name: appName, table: app, baseDir: baseDir, tokenCacheSize: server.tokenCacheSize) {
                    apps[appName] = chain
                }
                appFileErrors.append(contentsOf: app.errors)
            }
        case .failure(let message):
            if explicitAppsDir {
                main.record(ConfigError(file: path, line: main.table["server"]?.line ?? 1, message: "apps_dir \(appsDir): \(message.message)"))
            }
        }

        let errors = main.errors + appFileErrors
        if !errors.isEmpty { throw ConfigErrors(errors) }
        var configuration = Configuration(file: path, server: server, log: log, apps: apps, files: files)
        configuration.metrics = metrics
        return configuration
    }

    /// Builds one app's chain from a table with a `chain` array, or returns nil with the errors
    /// recorded in `table`. Every step is built, faulty or not, so each one's errors are found.
    func buildApp(name: String, table: ConfigTable, baseDir: String, tokenCacheSize: Int) -> AppChain? {
        let steps = table.attempt { () throws(ConfigError) -> [ConfigTable] in
            guard let list = try table.tableList("chain") else {
                throw table.error(nil, "app \(name) has no [[chain]] steps")
            }
            guard !list.isEmpty else { throw table.error("chain", "app \(name) has no [[chain]] steps") }
            return list
        } ?? []
        table.reportUnknownKeys()
        var built: [AppChain.Step] = []
        for step in steps {
            if let s = buildStep(step, appName: name, baseDir: baseDir, tokenCacheSize: tokenCacheSize) { built.append(s) }
        }
        guard table.errors.isEmpty else { return nil }
        return AppChain(name: name, steps: built)
    }

    /// Builds one step, or returns nil with its errors recorded in `step`. `plugin`, `control` and
    /// `match` are checked independently of each other and of the plugin's own keys.
    private func buildStep(_ step: ConfigTable, appName name: String, baseDir: String, tokenCacheSize: Int) -> AppChain.Step? {
        let pluginName = step.attempt { () throws(ConfigError) in try step.requiredString("plugin") }
        let control = step.attempt { () throws(ConfigError) -> Control in
            let text = try step.string("control") ?? "required"
            guard let control = Control(rawValue: text) else {
                throw step.error("control", "control must be required, sufficient or optional, not \"\(text)\"")
            }
            return control
        }
        // `match` belongs to the chain, not the plugin: read (and marked used) before the plugin's keys.
        let match = Self.readMatch(step)
        // Without a known plugin nobody knows which other keys belong here: report nothing more.
        guard let pluginName else { return nil }
        guard let factory = registry.factories[pluginName] else {
            step.record(step.error("plugin", "unknown plugin \"\(pluginName)\" (known: \(registry.names.joined(separator: ", ")))"))
            return nil
        }
        let context = PluginContext(baseDirectory: baseDir, appName: name, logger: logger, resources: resources,
                                    fetcher: fetcher, tokenCacheSize: tokenCacheSize)
        let plugin: any ChainPlugin
        do {
            plugin = try factory.makePlugin(config: step, context: context)
        } catch {
            step.record(error)
            return nil
        }
        // The loader, not each factory, has the last word on unread keys: a factory that forgets
        // `finish()` must not turn a misspelt key into a silent default. (After a throw the
        // factory may have stopped reading early, so unread keys are then not known to be wrong.)
        step.reportUnknownKeys()
        guard let control, step.errors.isEmpty else { return nil }
        return AppChain.Step(pluginName: pluginName, control: control, plugin: plugin, match: match)
    }

    /// Reads `[server]` into `s`, each key on its own: an error is recorded in `t` and the other
    /// keys are still read (and still take effect in `s`, so the apps directory can be checked).
    static func parseServer(_ t: ConfigTable, into s: inout ServerSettings) throws(ConfigError) {
        t.attempt { () throws(ConfigError) in
            if let v = try t.string("socket") {
                guard !v.isEmpty else { throw t.error("socket", "server.socket must not be empty") }
                s.socket = v
            }
        }
        t.attempt { () throws(ConfigError) in
            if let v = try t.string("socket_mode") {
                guard let mode = UInt32(v, radix: 8), mode <= 0o777 else {
                    throw t.error("socket_mode", "server.socket_mode must be an octal mode such as \"0660\"")
                }
                s.socketMode = mode
            }
        }
        t.attempt { () throws(ConfigError) in if let v = try t.string("socket_group") { s.socketGroup = v } }
        t.attempt { () throws(ConfigError) in
            guard let n = t.table["allowed_uids"] else { return }
            t.markUsed("allowed_uids")
            guard case .array(let items) = n.value else { throw t.error("allowed_uids", "server.allowed_uids must be an array of integers") }
            var uids: [UInt32] = []
            for i in items {
                guard case .integer(let v) = i.value, v >= 0, v <= Int64(UInt32.max) else {
                    throw ConfigError(file: t.file, line: i.line, message: "server.allowed_uids must be an array of uids")
                }
                uids.append(UInt32(v))
            }
            s.allowedUIDs = uids
        }
        t.attempt { () throws(ConfigError) in if let v = try t.int("max_line_bytes", min: 256, max: 16 << 20) { s.maxLineBytes = v } }
        t.attempt { () throws(ConfigError) in if let v = try t.int("max_connections", min: 1, max: 1_000_000) { s.maxConnections = v } }
        t.attempt { () throws(ConfigError) in if let v = try t.string("apps_dir") { s.appsDir = v } }
        t.attempt { () throws(ConfigError) in if let v = try t.int("token_cache_size", min: 0, max: 10_000_000) { s.tokenCacheSize = v } }
        t.attempt { () throws(ConfigError) in if let v = try t.int("idle_timeout", min: 0, max: 86_400) { s.idleTimeout = v } }
        t.attempt { () throws(ConfigError) in if let v = try t.int("request_timeout", min: 0, max: 3_600) { s.requestTimeout = v } }
        try t.finish()
    }

    /// Reads `[log]` into `s`, each key on its own (as `parseServer`).
    static func parseLog(_ t: ConfigTable, into s: inout LogSettings) throws(ConfigError) {
        t.attempt { () throws(ConfigError) in
            if let v = try t.string("target") {
                guard let target = LogTarget(rawValue: v) else { throw t.error("target", "log.target must be auto, journal or stderr") }
                s.target = target
            }
        }
        t.attempt { () throws(ConfigError) in
            if let v = try t.string("level") {
                guard let level = Logger.Level(rawValue: v) else {
                    throw t.error("level", "log.level must be one of trace, debug, info, notice, warning, error, critical")
                }
                s.level = level
            }
        }
        t.attempt { () throws(ConfigError) in
            if let v = try t.string("decisions") {
                guard let d = DecisionLogging(rawValue: v) else { throw t.error("decisions", "log.decisions must be none, deny or all") }
                s.decisions = d
            }
        }
        t.attempt { () throws(ConfigError) in if let v = try t.int("decision_rate_limit", min: 1, max: 1_000_000) { s.decisionRateLimit = v } }
        try t.finish()
    }

    /// What `authzd-nginx` accepts in X-Authz-App: 1 to 64 of `A-Z a-z 0-9 . _ -`. An app that
    /// nginx could never name would be dead configuration, and a name that can hold anything
    /// else (a newline, a slash) would reach logs, metrics labels and file names.
    public static func isValidAppName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
        }
    }

    static func badAppNameMessage(_ name: String) -> String {
        "\"\(name)\" is not a valid app name: an app name is 1 to 64 letters, digits, '.', '_' or '-' (what authzd-nginx accepts in X-Authz-App)"
    }

    /// Reads and parses a TOML file; errors carry the file and line.
    public static func parseFile(_ path: String) throws(ConfigError) -> TOMLTable {
        let text: String
        switch readFile(path) {
        case .success(let t): text = t
        case .failure(let e): throw ConfigError(file: path, line: 0, message: e.message)
        }
        do {
            return try TOML.parse(text)
        } catch {
            throw ConfigError(file: path, line: error.line, message: error.message)
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The sorted `*.toml` names in a directory.
    static func listTOMLFiles(_ dir: String) -> Result<[String], FileMessage> {
        guard let d = opendir(dir) else { return .failure(FileMessage(errnoText())) }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasSuffix(".toml"), !name.hasPrefix(".") { names.append(name) }
        }
        return .success(names.sorted())
    }
}
