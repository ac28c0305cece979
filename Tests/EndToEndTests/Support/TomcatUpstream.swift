import AuthzJSON
import Foundation
import Testing

/// A real servlet container behind nginx: embedded Tomcat 10.1 (Debian's
/// `libtomcat10-embed-java`) running `Tests/support/TomcatEcho.java`, compiled with javac into
/// the test's temporary directory. Each app is a context (`/LiveApp`) with the echo servlet on
/// `/rest/*`, as Ant Media Server serves its REST API; the same servlet also answers every
/// other path of every context and of the root context, so any request that reaches Tomcat is
/// seen. The JVM is the child process itself, so releasing this object kills it.
final class TomcatUpstream: @unchecked Sendable {
    static let coreJar = "/usr/share/java/tomcat10-embed-core.jar"
    static let javac = "/usr/bin/javac"
    static let java = "/usr/bin/java"
    static var source: String {
        TestEnvironment.packageRoot.appendingPathComponent("Tests/support/TomcatEcho.java").path
    }

    let port: Int
    let process: ChildProcess

    /// `lenient`: Tomcat decodes %2f and %5c in paths (encodedSolidusHandling and
    /// encodedReverseSolidusHandling "decode", allowBackslash), settings some deployments use.
    init(dir: TempDirectory, contexts: [String], lenient: Bool = false) throws {
        for (path, package) in [(Self.coreJar, "libtomcat10-embed-java"), (Self.javac, "a JDK (default-jdk-headless)")]
        where !FileManager.default.fileExists(atPath: path) {
            Issue.record("\(path) is missing: install \(package) (`make test` does)")
            throw TestFailure("no \(path)")
        }
        let classes = dir.file("tomcat/classes"), base = dir.file("tomcat/base")
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let built = try runCommand(Self.javac, ["-cp", Self.coreJar, "-d", classes, Self.source], timeout: 120)
        guard built.status == 0 else { throw TestFailure("javac \(Self.source) failed:\n\(built.stderr)") }

        let process = try ChildProcess(Self.java, ["-Xshare:auto", "-Xmx128m", "-cp", "\(Self.coreJar):\(classes)",
                                                   "TomcatEcho"] + (lenient ? ["--lenient"] : []) + [base] + contexts,
                                       logPath: dir.file("tomcat.log"))
        self.process = process
        var found: Int?
        _ = eventually(timeout: 90) {
            if let line = process.log.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }) {
                found = Int(line.dropFirst(5))
            }
            return found != nil || !process.isRunning
        }
        guard let found else {
            Issue.record("Tomcat (TomcatEcho) did not start; it said:\n\(process.log)")
            throw TestFailure("Tomcat did not start")
        }
        port = found
    }

    /// What the servlet saw, from a response body it wrote.
    struct Seen {
        let method: String
        /// The request URI as Tomcat received it, query included.
        let path: String
        let contextPath: String
        let servletPath: String
        let pathInfo: String?
        let headers: [(name: String, value: String)]

        /// Every value received under this name (case-insensitive), in order.
        func values(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }

        /// nil when the body is not the servlet's: nginx (or Tomcat itself) answered.
        init?(body: String) {
            guard let json = try? JSONParser.parse(body), let method = json["method"]?.stringValue,
                  let path = json["path"]?.stringValue, let context = json["context_path"]?.stringValue,
                  let servlet = json["servlet_path"]?.stringValue, case .array(let list)? = json["headers"] else {
                return nil
            }
            self.method = method
            self.path = path
            contextPath = context
            servletPath = servlet
            pathInfo = json["path_info"]?.stringValue
            headers = list.compactMap { pair in
                guard case .array(let p) = pair, p.count == 2, let n = p[0].stringValue, let v = p[1].stringValue else { return nil }
                return (n, v)
            }
        }
    }
}
