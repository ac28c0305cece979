import AuthzJSON
import Foundation
import Testing

/// The Python JWKS provider of `Tests/support/jwks_server.py`: an HTTPS server on 127.0.0.1 with
/// a certificate made at start, steered through files in its own temporary directory, and a
/// minter of keys and tokens. The server lives while we hold its stdin open.
final class JWKSTestProvider: @unchecked Sendable {
    let dir: String
    let port: Int
    private let process: Process
    private let stdin: Pipe

    static var script: String {
        // This file is Tests/PluginTests/JWKSTestProvider.swift; the script is Tests/support/.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("support").appendingPathComponent("jwks_server.py").path
    }

    /// A fresh scratch directory for one test.
    static func scratch() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("authzd-jwks-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Starts a server; nil after recording an issue when Python or its `cryptography` package is missing.
    static func start(dir: String = scratch(), sourceLocation: SourceLocation = #_sourceLocation) -> JWKSTestProvider? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, "serve", "--dir", dir]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        do {
            try p.run()
        } catch {
            Issue.record("cannot start python3 for the JWKS test server: \(error)", sourceLocation: sourceLocation)
            return nil
        }
        // The first line is "PORT n"; EOF before it means the script failed (e.g. no cryptography).
        var line: [UInt8] = []
        let reader = output.fileHandleForReading
        while true {
            let chunk = reader.readData(ofLength: 1)
            if chunk.isEmpty || chunk.first == 0x0A { break }
            line.append(chunk.first!)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            Issue.record("the JWKS test server did not start (needs python3 with the cryptography package); said: \(text)",
                         sourceLocation: sourceLocation)
            p.terminate()
            return nil
        }
        return JWKSTestProvider(dir: dir, port: port, process: p, stdin: input)
    }

    private init(dir: String, port: Int, process: Process, stdin: Pipe) {
        self.dir = dir
        self.port = port
        self.process = process
        self.stdin = stdin
    }

    /// Stops the server and removes its directory when it is one of ours (`scratch()`).
    deinit {
        stop()
        if (dir as NSString).lastPathComponent.hasPrefix("authzd-jwks-") {
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    /// Closes the server's stdin, which makes it exit, and waits for it.
    func stop() {
        guard process.isRunning else { return }
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    var url: String { "https://127.0.0.1:\(port)/jwks.json" }
    func url(_ path: String) -> String { "https://127.0.0.1:\(port)\(path)" }
    /// The server's self-signed certificate, to be trusted as `ca_file`.
    var caFile: String { dir + "/cert.pem" }

    private func write(_ name: String, _ text: String) {
        // Write then rename, so the server never reads a half-written file.
        let tmp = dir + "/." + name + ".tmp"
        _ = FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8))
        if rename(tmp, dir + "/" + name) != 0 {
            Issue.record("cannot write \(name) for the JWKS test server")
        }
    }

    /// ok | 500 | garbage | hang | big
    func setMode(_ mode: String) { write("mode", mode) }
    func setHangSeconds(_ s: Int) { write("hang_seconds", String(s)) }
    func setKeySet(_ jwks: [JSONValue]) { write("jwks.json", JSONValue.object(JSONObject([("keys", .array(jwks))])).jsonString) }
    func setRawKeySet(_ text: String) { write("jwks.json", text) }
    func setHeaders(_ headers: [String: String]) {
        write("headers.json", JSONValue.object(JSONObject(headers.map { (key: $0.key, value: .string($0.value)) })).jsonString)
    }

    /// Serves `document` as the OpenID discovery document of any issuer path.
    func setDiscovery(_ document: JSONValue) { write("openid-configuration.json", document.jsonString) }

    /// How many times a discovery document was asked for.
    var discoveryCount: Int {
        guard let text = try? String(contentsOfFile: dir + "/discovery.log", encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").count
    }

    /// How many times /jwks.json was asked for.
    var fetchCount: Int {
        guard let text = try? String(contentsOfFile: dir + "/requests.log", encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").count
    }
}

/// A key the minter made: its public JWK and PEM.
struct MintedKey {
    let kid: String
    let alg: String
    let jwk: JSONValue
    let pem: String
}

/// Keys and tokens from `jwks_server.py batch`, kept in `dir/keys` so later calls reuse them.
enum JWKSMinter {
    struct KeySpec {
        var kid: String
        var alg: String
        var bits: Int? = nil
        /// Members to add to or override in the JWK (null removes one).
        var jwk: [(String, JSONValue)] = []
    }

    struct TokenSpec {
        var key: String
        var alg: String
        /// The header's kid: the key's kid by default; `.null` leaves it out.
        var kid: JSONValue? = nil
        var claims: JSONValue = [:]
        var header: [(String, JSONValue)] = []
        /// Sign as HMAC with the named key's public PEM as the secret (the algorithm confusion attack).
        var hmacWithPublicOf: String? = nil
    }

    /// Runs one batch; nil after recording an issue if the script fails.
    static func run(dir: String, keys: [KeySpec], tokens: [TokenSpec] = [],
                    sourceLocation: SourceLocation = #_sourceLocation) -> (keys: [String: MintedKey], tokens: [String])? {
        var keyItems: [JSONValue] = []
        for k in keys {
            var o = JSONObject([("kid", .string(k.kid)), ("alg", .string(k.alg))])
            if let bits = k.bits { o["bits"] = .number(JSONNumber(bits)) }
            o["jwk"] = .object(JSONObject(k.jwk.map { (key: $0.0, value: $0.1) }))
            keyItems.append(.object(o))
        }
        var tokenItems: [JSONValue] = []
        for t in tokens {
            var o = JSONObject([("key", .string(t.key)), ("alg", .string(t.alg)), ("claims", t.claims)])
            if let kid = t.kid { o["kid"] = kid }
            o["header"] = .object(JSONObject(t.header.map { (key: $0.0, value: $0.1) }))
            if let h = t.hmacWithPublicOf { o["hmac_with_public_of"] = .string(h) }
            tokenItems.append(.object(o))
        }
        let request = JSONValue.object(JSONObject([("dir", .string(dir)), ("keys", .array(keyItems)), ("tokens", .array(tokenItems))]))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", JWKSTestProvider.script, "batch"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        do {
            try p.run()
        } catch {
            Issue.record("cannot run python3 for the JWKS minter: \(error)", sourceLocation: sourceLocation)
            return nil
        }
        input.fileHandleForWriting.write(Data(request.jsonString.utf8))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let parsed = try? JSONParser.parse(Array(data)),
              let jwks = parsed["jwks"]?.objectValue, let pems = parsed["pem"]?.objectValue,
              let tokens = parsed["tokens"]?.arrayValue
        else {
            Issue.record("the JWKS minter failed (needs python3 with the cryptography package)", sourceLocation: sourceLocation)
            return nil
        }
        var out: [String: MintedKey] = [:]
        for k in keys {
            out[k.kid] = MintedKey(kid: k.kid, alg: k.alg, jwk: jwks[k.kid] ?? .null, pem: pems[k.kid]?.stringValue ?? "")
        }
        return (out, tokens.compactMap(\.stringValue))
    }
}
