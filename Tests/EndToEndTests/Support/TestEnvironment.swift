import Foundation
import Testing

/// Where the package and its built binaries are. End-to-end tests run the real executables;
/// `AUTHZD_BIN_DIR` points them at another build (e.g. `.build/release`).
enum TestEnvironment {
    static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["AUTHZD_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        return packageRoot.appendingPathComponent(".build/debug")
    }

    /// A built executable; the test fails plainly when it was not built.
    static func binary(_ name: String) throws -> String {
        let path = binDirectory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            Issue.record("\(path) is missing: run `swift build` (or `make test`) first")
            throw TestFailure("missing binary \(name)")
        }
        return path
    }

    /// The shared test vectors (`../shared/testvectors`, or `AUTHZD_TESTVECTORS`).
    static var testVectors: URL {
        if let dir = ProcessInfo.processInfo.environment["AUTHZD_TESTVECTORS"] { return URL(fileURLWithPath: dir) }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/testvectors")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A fresh directory, removed when the value is deinitialized.
final class TempDirectory: @unchecked Sendable {
    let url: URL
    var path: String { url.path }

    init(_ prefix: String = "authzd-test") throws {
        // Short paths: a Unix socket path must fit in 108 bytes.
        var template = Array("/tmp/\(prefix.prefix(8))-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        url = URL(fileURLWithPath: String(cString: p))
    }

    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = file(name)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}
