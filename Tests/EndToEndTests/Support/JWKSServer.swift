import Foundation
import Testing

/// The HTTPS JWKS provider of `Tests/support/jwks_server.py`, serving one ES256 key, with a
/// token it signed. Stopped (its stdin closed) when released.
final class JWKSServer: @unchecked Sendable {
    let dir: TempDirectory
    let port: Int
    /// A token signed by the served key (`kid` "k1"), valid for an hour.
    let token: String
    private let process: Process
    private let stdin: Pipe

    var url: String { "https://127.0.0.1:\(port)/jwks.json" }
    var caFile: String { dir.file("cert.pem") }

    init() throws {
        dir = try TempDirectory("jwks")
        let script = TestEnvironment.packageRoot.appendingPathComponent("Tests/support/jwks_server.py").path
        let now = Int(Date().timeIntervalSince1970)
        let request = try dir.write("batch.json", """
            {"dir": "\(dir.path)", "keys": [{"kid": "k1", "alg": "ES256"}],
             "tokens": [{"key": "k1", "alg": "ES256", "kid": "k1", "claims": {"sub": "alice", "exp": \(now + 3600)}}]}
            """)
        let minted = try runCommand("/bin/sh", ["-c", "exec python3 \"$0\" batch < \"$1\"", script, request])
        guard minted.status == 0,
              let out = try JSONSerialization.jsonObject(with: Data(minted.stdout.utf8)) as? [String: Any],
              let jwks = out["jwks"] as? [String: Any], let tokens = out["tokens"] as? [String], let token = tokens.first else {
            throw TestFailure("jwks_server.py batch failed (needs python3 with cryptography): \(minted.stderr)")
        }
        let set = try JSONSerialization.data(withJSONObject: ["keys": Array(jwks.values)])
        try dir.write("jwks.json", String(decoding: set, as: UTF8.self))
        self.token = token

        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "serve", "--dir", dir.path]
        stdin = Pipe()
        let output = Pipe()
        process.standardInput = stdin
        process.standardOutput = output
        try process.run()
        // The first line is "PORT n"; EOF before it means the script failed.
        var line: [UInt8] = []
        while true {
            let chunk = output.fileHandleForReading.readData(ofLength: 1)
            if chunk.isEmpty || chunk.first == 0x0A { break }
            line.append(chunk.first!)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            process.terminate()
            throw TestFailure("the JWKS test server did not start; said: \(text)")
        }
        self.port = port
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
