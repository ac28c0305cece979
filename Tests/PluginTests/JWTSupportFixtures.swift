import AuthzCore
import AuthzTOML
import Foundation
import Testing

/// Builds one chain step from TOML text through its factory, as the loader does, and runs it.
enum StepFixture {
    /// The clock the unit tests evaluate at.
    static let now: Int64 = 1_800_000_000

    /// A step table parsed from `toml` (the keys of one `[[chain]]` entry, without `plugin`).
    static func table(_ toml: String, file: String = "apps.d/app.toml") throws -> ConfigTable {
        ConfigTable(file: file, table: try TOML.parse(toml), path: "chain[0]")
    }

    /// The plugin `factory` makes from `toml`, or the configuration error it reports.
    static func build(_ factory: some PluginFactory, _ toml: String, baseDirectory: String = ".",
                      app: String = "app") throws -> Result<any ChainPlugin, ConfigError> {
        let t = try table(toml)
        let context = PluginContext(baseDirectory: baseDirectory, appName: app, logger: .init(label: "test"),
                                    resources: SharedResources(), fetcher: nil)
        do {
            return .success(try factory.makePlugin(config: t, context: context))
        } catch {
            return .failure(error)
        }
    }

    /// The plugin; records the configuration error as an issue.
    static func plugin(_ factory: some PluginFactory, _ toml: String, baseDirectory: String = ".", app: String = "app",
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> any ChainPlugin {
        switch try build(factory, toml, baseDirectory: baseDirectory, app: app) {
        case .success(let p): return p
        case .failure(let e):
            Issue.record("step did not load: \(e)", sourceLocation: sourceLocation)
            throw e
        }
    }

    /// The configuration error; records an issue when the step loads.
    static func error(_ factory: some PluginFactory, _ toml: String, baseDirectory: String = ".",
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> ConfigError? {
        switch try build(factory, toml, baseDirectory: baseDirectory) {
        case .success:
            Issue.record("step loaded but should not have", sourceLocation: sourceLocation)
            return nil
        case .failure(let e): return e
        }
    }

    /// Every error the factory records for `toml`, as `line: message`, in line order; records an
    /// issue when the step loads, or when the error it throws is not among those recorded.
    static func errors(_ factory: some PluginFactory, _ toml: String, baseDirectory: String = ".",
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> [(line: Int, message: String)] {
        let t = try table(toml)
        let context = PluginContext(baseDirectory: baseDirectory, appName: "app", logger: .init(label: "test"),
                                    resources: SharedResources(), fetcher: nil)
        do {
            _ = try factory.makePlugin(config: t, context: context)
            Issue.record("step loaded but should not have", sourceLocation: sourceLocation)
        } catch {
            #expect(t.errors.contains(error), "the error thrown is one of those recorded", sourceLocation: sourceLocation)
        }
        return t.errors.map { ($0.line, $0.message) }
    }

    /// A step's immediate result (these plugins never pend).
    static func result(_ plugin: any ChainPlugin, _ request: CheckRequest, now: Int64 = now,
                       sourceLocation: SourceLocation = #_sourceLocation) -> StepResult? {
        switch plugin.evaluate(request, now: now) {
        case .result(let r): return r
        case .pending:
            Issue.record("step pended", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// A scratch directory; the caller removes it (`FileManager.removeItem`).
    static func scratchDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("authzd-step-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }
}
