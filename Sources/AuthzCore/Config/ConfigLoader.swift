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

    /// Loads `path` and the apps it names.
    public func load(path: String) throws(ConfigErrors) -> Configuration {
        var errors: [ConfigError] = []
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
        do {
            if let t = try main.table("server") { server = try Self.parseServer(t) }
        } catch { errors.append(error) }
        do {
            if let t = try main.table("log") { log = try Self.parseLog(t) }
        } catch { errors.append(error) }

        var apps: [String: AppChain] = [:]
        // Inline apps.
        do {
            if let inline = try main.table("apps") {
                for entry in inline.table.entries {
                    inline.markUsed(entry.key)
                    guard case .table(let t) = entry.node.value else {
                        errors.append(ConfigError(file: path, line: entry.node.line, message: "apps.\(entry.key) must be a table"))
                        continue
                    }
                    guard Self.isValidAppName(entry.key) else {
                        errors.append(ConfigError(file: path, line: entry.node.line,
                                                  message: "app name \"\(entry.key)\" may only use letters, digits, '.', '_' and '-'"))
                        continue
                    }
                    let app = ConfigTable(file: path, table: t, path: "apps.\(entry.key)")
                    do {
                        apps[entry.key] = try buildApp(name: entry.key, table: app, baseDir: baseDir, tokenCacheSize: server.tokenCacheSize)
                    } catch { errors.append(contentsOf: error.errors) }
                }
            }
        } catch { errors.append(error) }
        do { try main.finish() } catch { errors.append(error) }

        // apps.d/*.toml
        let appsDir = server.appsDir.hasPrefix("/") ? server.appsDir : baseDir + "/" + server.appsDir
        let explicitAppsDir = main.table["server"].flatMap { n -> Bool? in
            if case .table(let t) = n.value { return t["apps_dir"] != nil } else { return nil }
        } ?? false
        switch Self.listTOMLFiles(appsDir) {
        case .success(let names):
            for name in names {
                let file = appsDir + "/" + name
                let appName = String(name.dropLast(5))
                files.append(file)
                guard Self.isValidAppName(appName) else {
                    errors.append(ConfigError(file: file, line: 1, message: "app name \"\(appName)\" may only use letters, digits, '.', '_' and '-'"))
                    continue
                }
                if apps[appName] != nil {
                    errors.append(ConfigError(file: file, line: 1, message: "app \(appName) is also defined inline in \(path)"))
                    continue
                }
                let table: TOMLTable
                do {
                    table = try Self.parseFile(file)
                } catch {
                    errors.append(error)
                    continue
                }
                do {
                    apps[appName] = try buildApp(name: appName, table: ConfigTable(file: file, table: table, path: ""),
                                                 baseDir: baseDir, tokenCacheSize: server.tokenCacheSize)
                } catch { errors.append(contentsOf: error.errors) }
            }
        case .failure(let message):
            if explicitAppsDir {
                errors.append(ConfigError(file: path, line: main.table["server"]?.line ?? 1, message: "apps_dir \(appsDir): \(message.message)"))
            }
        }

        if !errors.isEmpty { throw ConfigErrors(errors) }
        return Configuration(file: path, server: server, log: log, apps: apps, files: files)
    }

    /// Builds one app's chain from a table with a `chain` array. Every faulty step is reported,
    /// not just the first, so one `check-config` run shows everything to fix.
    func buildApp(name: String, table: ConfigTable, baseDir: String, tokenCacheSize: Int) throws(ConfigErrors) -> AppChain {
        let steps: [ConfigTable]
        do throws(ConfigError) {
            guard let list = try table.tableList("chain") else {
                throw table.error(nil, "app \(name) has no [[chain]] steps")
            }
            guard !list.isEmpty else { throw table.error("chain", "app \(name) has no [[chain]] steps") }
            try table.finish()
            steps = list
        } catch {
            throw ConfigErrors([error])
        }
        var built: [AppChain.Step] = []
        var errors: [ConfigError] = []
        for step in steps {
            do {
                built.append(try buildStep(step, appName: name, baseDir: baseDir, tokenCacheSize: tokenCacheSize))
            } catch {
                errors.append(error)
            }
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        return AppChain(name: name, steps: built)
    }

    private func buildStep(_ step: ConfigTable, appName name: String, baseDir: String, tokenCacheSize: Int) throws(ConfigError) -> AppChain.Step {
        let pluginName = try step.requiredString("plugin")
        guard let factory = registry.factories[pluginName] else {
            throw step.error("plugin", "unknown plugin \"\(pluginName)\" (known: \(registry.names.joined(separator: ", ")))")
        }
        let controlText = try step.string("control") ?? "required"
        guard let control = Control(rawValue: controlText) else {
            throw step.error("control", "control must be required, sufficient or optional, not \"\(controlText)\"")
        }
        let context = PluginContext(baseDirectory: baseDir, appName: name, logger: logger, resources: resources,
                                    fetcher: fetcher, tokenCacheSize: tokenCacheSize)
        let plugin = try factory.makePlugin(config: step, context: context)
        return AppChain.Step(pluginName: pluginName, control: control, plugin: plugin)
    }

    static func parseServer(_ t: ConfigTable) throws(ConfigError) -> ServerSettings {
        var s = ServerSettings()
        if let v = try t.string("socket") {
            guard !v.isEmpty else { throw t.error("socket", "server.socket must not be empty") }
            s.socket = v
        }
        if let v = try t.string("socket_mode") {
            guard let mode = UInt32(v, radix: 8), mode <= 0o777 else {
                throw t.error("socket_mode", "server.socket_mode must be an octal mode such as \"0660\"")
            }
            s.socketMode = mode
        }
        if let v = try t.string("socket_group") { s.socketGroup = v }
        if let n = t.table["allowed_uids"] {
            t.markUsed("allowed_uids")
            guard case .array(let items) = n.value else { throw t.error("allowed_uids", "server.allowed_uids must be an array of integers") }
            for i in items {
                guard case .integer(let v) = i.value, v >= 0, v <= Int64(UInt32.max) else {
                    throw ConfigError(file: t.file, line: i.line, message: "server.allowed_uids must be an array of uids")
                }
                s.allowedUIDs.append(UInt32(v))
            }
        }
        if let v = try t.int("max_line_bytes", min: 256, max: 16 << 20) { s.maxLineBytes = v }
        if let v = try t.int("max_connections", min: 1, max: 1_000_000) { s.maxConnections = v }
        if let v = try t.string("apps_dir") { s.appsDir = v }
        if let v = try t.int("token_cache_size", min: 0, max: 10_000_000) { s.tokenCacheSize = v }
        if let v = try t.int("idle_timeout", min: 0, max: 86_400) { s.idleTimeout = v }
        if let v = try t.int("request_timeout", min: 0, max: 3_600) { s.requestTimeout = v }
        try t.finish()
        return s
    }

    static func parseLog(_ t: ConfigTable) throws(ConfigError) -> LogSettings {
        var s = LogSettings()
        if let v = try t.string("target") {
            guard let target = LogTarget(rawValue: v) else { throw t.error("target", "log.target must be auto, journal or stderr") }
            s.target = target
        }
        if let v = try t.string("level") {
            guard let level = Logger.Level(rawValue: v) else {
                throw t.error("level", "log.level must be one of trace, debug, info, notice, warning, error, critical")
            }
            s.level = level
        }
        if let v = try t.string("decisions") {
            guard let d = DecisionLogging(rawValue: v) else { throw t.error("decisions", "log.decisions must be none, deny or all") }
            s.decisions = d
        }
        if let v = try t.int("decision_rate_limit", min: 1, max: 1_000_000) { s.decisionRateLimit = v }
        try t.finish()
        return s
    }

    static func isValidAppName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
        }
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

/// A file-system error message.
public struct FileMessage: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

func errnoText() -> String {
    String(cString: strerror(errno))
}

/// Reads a whole file as UTF-8.
public func readFile(_ path: String) -> Result<String, FileMessage> {
    switch readFileBytes(path) {
    case .success(let bytes):
        guard let s = String(validating: bytes, as: UTF8.self) else { return .failure(FileMessage("file is not valid UTF-8")) }
        return .success(s)
    case .failure(let e): return .failure(e)
    }
}

/// Reads a whole file's bytes (configuration and secret files; small).
public func readFileBytes(_ path: String, limit: Int = 16 << 20) -> Result<[UInt8], FileMessage> {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return .failure(FileMessage("cannot open \(path): \(errnoText())")) }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return .failure(FileMessage("cannot read \(path): \(errnoText())"))
        }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<n])
        if out.count > limit { return .failure(FileMessage("\(path) is larger than \(limit) bytes")) }
    }
    return .success(out)
}
