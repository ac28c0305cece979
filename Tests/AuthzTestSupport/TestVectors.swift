import AuthzJSON
import Foundation
import Testing

/// Finds and loads the public test vectors kept beside the repository (never copied into it):
/// one place for every test target that needs them.
public enum TestVectors {
    /// `AUTHZD_TESTVECTORS` if set, else `../shared/testvectors` from the package root.
    public static var root: URL {
        if let override = ProcessInfo.processInfo.environment["AUTHZD_TESTVECTORS"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        // This file is Tests/AuthzTestSupport/TestVectors.swift: three levels up is the package root.
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.appendingPathComponent("../shared/testvectors").standardizedFileURL
    }

    /// The JSON object at `relativePath` under the root, or nil after recording an issue that
    /// says plainly it is absent (or not a JSON object).
    public static func load(_ relativePath: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONObject? {
        let url = root.appendingPathComponent(relativePath)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record("test vector \(relativePath) is absent under \(root.path) (set AUTHZD_TESTVECTORS to the testvectors folder)",
                         sourceLocation: sourceLocation)
            return nil
        }
        do {
            guard let object = try JSONParser.parse(Array(data), options: .init(maxDepth: 64)).objectValue else {
                Issue.record("\(relativePath) is not a JSON object", sourceLocation: sourceLocation)
                return nil
            }
            return object
        } catch {
            Issue.record("\(relativePath) does not parse: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// A Wycheproof file by name.
    public static func wycheproof(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONObject? {
        load("wycheproof/\(name)", sourceLocation: sourceLocation)
    }
}
