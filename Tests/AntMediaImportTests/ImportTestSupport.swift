import AntMediaImport
import AuthzCore
import AuthzPlugins
import Foundation

/// A fresh directory removed when the value goes away.
final class ScratchDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("authzd-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        try write(relative, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ relative: String, bytes: [UInt8]) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
    }

    func mkdir(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: path + "/" + relative, withIntermediateDirectories: true)
    }
}

/// The importer with the daemon's plugins.
let importer = AntMediaImporter(registry: BuiltinPlugins.registry)

/// A 40-byte secret, long enough for HS256.
let goodSecret = "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq-2026-12"

/// Imports `text` as the properties of app `name`; the file is called `red5-web.properties`.
func importText(_ text: String, name: String = "LiveApp") -> Result<ImportedApp, AntMediaImportErrors> {
    importer.importApp(name: name, file: "red5-web.properties", bytes: Array(text.utf8))
}

/// The app imported from `text`, or the errors as a thrown description.
func imported(_ text: String, name: String = "LiveApp") throws -> ImportedApp {
    switch importText(text, name: name) {
    case .success(let app): return app
    case .failure(let e): throw ImportTestFailure("expected an import, got:\n\(e)")
    }
}

/// The errors importing `text` gives (empty when it imports).
func importErrors(_ text: String, name: String = "LiveApp") -> [AntMediaImportError] {
    switch importText(text, name: name) {
    case .success: return []
    case .failure(let e): return e.errors
    }
}

struct ImportTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Loads `app`'s rendered file as `apps.d/NAME.toml` beside a main file, through the daemon's own
/// configuration loader and plugins, and returns that app's chain.
func loadThroughConfigLoader(_ app: ImportedApp) throws -> AppChain {
    let dir = try ScratchDirectory()
    let main = try dir.write("authzd.toml", "[server]\nsocket = \"\(dir.path)/s.sock\"\n")
    try dir.write("apps.d/\(app.name).toml", app.render())
    do {
        let config = try ConfigLoader(registry: BuiltinPlugins.registry).load(path: main)
        guard let chain = config.apps[app.name] else { throw ImportTestFailure("app \(app.name) not loaded") }
        return chain
    } catch let errors as ConfigErrors {
        throw ImportTestFailure("the loader refused the imported file:\n\(errors)")
    }
}
