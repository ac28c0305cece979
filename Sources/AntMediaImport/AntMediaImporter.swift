#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AuthzCore
import AuthzTOML
import Logging

/// Turns one Ant Media app's `red5-web.properties` into an authzd app, or says with `FILE:LINE`
/// why it will not. It refuses whatever would protect the app less than Ant Media did, or less
/// than authzd allows: a short secret, a bad address range, a JWT filter with no key, an app left
/// with no check at all. Every chain it returns has been built by the real plugins (`registry`),
/// so it loads as it would under `authzd check-config`.
public struct AntMediaImporter: Sendable {
    /// The plugins that build (and so check) each generated step; the daemon's own registry.
    public let registry: PluginRegistry

    /// HS256's minimum key length, which the `jwt_hmac` plugin enforces.
    public static let minimumSecretBytes = 32
    /// Larger than any real `red5-web.properties`; a bound so a wrong path cannot eat memory.
    public static let maximumFileBytes = 1 << 20

    public init(registry: PluginRegistry) {
        self.registry = registry
    }

    /// Reads and imports the app `name` from `file`.
    public func importApp(name: String, file: String) -> Result<ImportedApp, AntMediaImportErrors> {
        // Opening a FIFO or a device would block or read forever: only regular files are read.
        var st = stat()
        if stat(file, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
            return .failure(AntMediaImportErrors([AntMediaImportError(.unreadableFile, file: file, line: 0, message: "not a regular file")]))
        }
        switch readFileBytes(file, limit: Self.maximumFileBytes) {
        case .success(let bytes):
            return importApp(name: name, file: file, bytes: bytes)
        case .failure(let e):
            return .failure(AntMediaImportErrors([AntMediaImportError(.unreadableFile, file: file, line: 0, message: e.message)]))
        }
    }

    /// Imports the app `name` from the bytes of its properties file (`file` names it in messages
    /// and in the app file's header).
    public func importApp(name: String, file: String, bytes: [UInt8]) -> Result<ImportedApp, AntMediaImportErrors> {
        if let problem = Self.appNameProblem(name) {
            return .failure(AntMediaImportErrors([AntMediaImportError(.badAppName, file: file, line: 0, message: problem)]))
        }
        let properties: JavaProperties
        do {
            properties = try JavaProperties.parse(bytes)
        } catch {
            return .failure(AntMediaImportErrors([AntMediaImportError(.malformedProperties, file: file, line: error.line, message: error.message)]))
        }
        let settings: RestFilterSettings
        switch RestFilterSettings.read(properties, file: file) {
        case .success(let s): settings = s
        case .failure(let errors): return .failure(errors)
        }

        var errors: [AntMediaImportError] = []
        var steps: [ImportedApp.Step] = []
        let ip = settings.ipFilterEnabled, cidrs = settings.remoteAllowedCIDR, jwt = settings.jwtControlEnabled
        if ip.value {
            if cidrs.value.isEmpty {
                errors.append(AntMediaImportError(
                    .emptyAllowlist, file: file, line: cidrs.line,
                    message: "\(cidrs.entry?.key ?? "remoteAllowedCIDR") is empty while the IP filter is on: Ant Media would refuse every address, and authzd refuses an empty allow list; name the addresses or set ipFilterEnabled=false"))
            } else {
                steps.append(.ipAllowlist(allow: cidrs.value,
                                          origin: "\(ip.origin("ipFilterEnabled")); \(cidrs.origin("remoteAllowedCIDR"))"))
            }
        }
        if jwt.value {
            if let url = settings.jwksURL {
                steps.append(.jwks(url: RestFilterSettings.trimmed(url.value),
                                   origin: "\(jwt.origin("jwtControlEnabled")); \(url.key), line \(url.line)"))
            } else if let secret = settings.jwtSecretKey, !secret.utf16.isEmpty {
                let bytes = secret.value.utf8.count
                if secret.hasLoneSurrogate {
                    errors.append(AntMediaImportError(
                        .badSecret, file: file, line: secret.line,
                        message: "\(secret.key) holds a \\u escape of half a UTF-16 surrogate pair, which Java turns into \"?\" and authzd cannot hold; choose a new secret"))
                } else if bytes < Self.minimumSecretBytes {
                    errors.append(AntMediaImportError(
                        .shortSecret, file: file, line: secret.line,
                        message: "\(secret.key) is \(bytes) bytes; HS256 needs at least \(Self.minimumSecretBytes) (a shorter key can be guessed offline from any token it signed): set a longer secret in Ant Media and in the clients that sign tokens"))
                } else {
                    steps.append(.jwtHMAC(secret: secret.value,
                                          origin: "\(jwt.origin("jwtControlEnabled")); \(secret.key), line \(secret.line)"))
                }
            } else {
                errors.append(AntMediaImportError(
                    .noCredential, file: file, line: jwt.line,
                    message: "\(jwt.entry?.key ?? "jwtControlEnabled") is true but neither jwtSecretKey nor jwksURL is set: no token could be checked"))
            }
        }
        if !ip.value && !jwt.value {
            errors.append(AntMediaImportError(
                .unprotectedApp, file: file, line: ip.line,
                message: "both filters are off (\(ip.origin("ipFilterEnabled")); \(jwt.origin("jwtControlEnabled"))): Ant Media leaves this app's REST API open to anyone, and authzd will not write a chain that checks nothing; turn a filter on, or write the app file by hand"))
        }
        guard errors.isEmpty else { return .failure(AntMediaImportErrors(errors)) }

        let app = ImportedApp(name: name, source: file, steps: steps)
        let stepErrors = check(app, settings: settings, file: file)
        guard stepErrors.isEmpty else { return .failure(AntMediaImportErrors(stepErrors)) }
        return .success(app)
    }

    /// Builds each step of `app` through the registry, as the configuration loader would, and
    /// reports what its plugin refuses at the line of the property that produced it.
    func check(_ app: ImportedApp, settings: RestFilterSettings, file: String) -> [AntMediaImportError] {
        let appFile = "\(app.name).toml"
        let errors = Self.buildErrors(app.render(), appFile: appFile, appName: app.name, registry: registry)
        guard !errors.isEmpty else { return [] }
        var out: [AntMediaImportError] = []
        for (index, stepErrors) in errors {
            guard index < app.steps.count else {
                out += stepErrors.map { AntMediaImportError(.invalidStep, file: file, line: 0, message: "generated app file: \($0.message)") }
                continue
            }
            let (code, line, key): (AntMediaImportError.Code, Int, String)
            switch app.steps[index] {
            case .ipAllowlist:
                (code, line, key) = (.badCIDR, settings.remoteAllowedCIDR.line, settings.remoteAllowedCIDR.entry?.key ?? "remoteAllowedCIDR")
            case .jwtHMAC:
                (code, line, key) = (.invalidStep, settings.jwtSecretKey?.line ?? 0, settings.jwtSecretKey?.key ?? "jwtSecretKey")
            case .jwks:
                (code, line, key) = (.invalidStep, settings.jwksURL?.line ?? 0, settings.jwksURL?.key ?? "jwksURL")
            }
            // The plugins' messages quote addresses and URLs, never a secret's value.
            out += stepErrors.map { AntMediaImportError(code, file: file, line: line, message: "\(key): \($0.message)") }
        }
        return out
    }

    /// Loads an app file's text the way the configuration loader does and returns the errors of
    /// each step by index (index `Int.max` for errors outside any step); empty when it loads.
    static func buildErrors(_ text: String, appFile: String, appName: String,
                                   registry: PluginRegistry) -> [(step: Int, errors: [ConfigError])] {
        let root: TOMLTable
        do {
            root = try TOML.parse(text)
        } catch {
            return [(Int.max, [ConfigError(file: appFile, line: error.line, message: error.message)])]
        }
        let table = ConfigTable(file: appFile, table: root, path: "")
        let steps = table.attempt { () throws(ConfigError) in try table.tableList("chain") } ?? nil
        table.reportUnknownKeys()
        let rootErrors = table.errors
        var result: [(step: Int, errors: [ConfigError])] = []
        if !rootErrors.isEmpty { result.append((Int.max, rootErrors)) }
        let resources = SharedResources()
        defer { resources.shutdownAll() }
        let context = PluginContext(baseDirectory: "", appName: appName, logger: Logger(label: "authzd.import"),
                                    resources: resources, fetcher: nil, tokenCacheSize: 0)
        for (index, step) in (steps ?? []).enumerated() {
            let name = step.attempt { () throws(ConfigError) in try step.requiredString("plugin") }
            _ = step.attempt { () throws(ConfigError) -> Void in
                let control = try step.string("control") ?? "required"
                guard Control(rawValue: control) != nil else { throw step.error("control", "unknown control \"\(control)\"") }
            }
            if let name {
                if let factory = registry.factories[name] {
                    do {
                        _ = try factory.makePlugin(config: step, context: context)
                    } catch {
                        step.record(error)
                    }
                } else {
                    step.record(step.error("plugin", "unknown plugin \"\(name)\""))
                }
            }
            if !step.errors.isEmpty { result.append((index, step.errors)) }
        }
        return result
    }

    /// Why `name` cannot be an authzd app file name, or nil when it can.
    public static func appNameProblem(_ name: String) -> String? {
        guard ConfigLoader.isValidAppName(name) else {
            return "the app directory \"\(name)\" is not a valid authzd app name: an app name is 1 to 64 letters, digits, '.', '_' or '-'"
        }
        guard !name.hasPrefix(".") else {
            return "the app directory \"\(name)\" starts with '.': its file \(name).toml would be hidden, and authzd skips hidden files in apps_dir"
        }
        return nil
    }
}
