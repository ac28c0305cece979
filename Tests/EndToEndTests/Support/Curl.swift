import Foundation

/// One HTTP exchange as real curl saw it.
struct CurlResponse {
    let status: Int
    /// Response header fields in order, names as sent.
    let headers: [(name: String, value: String)]
    let body: String

    /// The first value of a header (case-insensitive name).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Parses `curl -i` output: one status line, header lines, a blank line, the body.
    init(curlOutput text: String) throws {
        let parts = text.components(separatedBy: "\r\n\r\n")
        guard let head = parts.first, parts.count >= 2 else { throw TestFailure("no HTTP head in curl output: \(text)") }
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let code = Int(statusLine[1]) else { throw TestFailure("bad status line in: \(text)") }
        status = code
        headers = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        body = parts.dropFirst().joined(separator: "\r\n\r\n")
    }
}

/// Real curl, as a client of the nginx under test.
enum Curl {
    static var executable: String { "/usr/bin/curl" }

    /// The arguments for one request: `-i` so the head comes back with the body.
    /// `options` go to curl as they are (e.g. `--path-as-is`).
    static func arguments(_ url: String, method: String = "GET", headers: [String] = [], from source: String? = nil,
                          options: [String] = []) -> [String] {
        var args = ["-sS", "-i", "--max-time", "20", "-X", method] + options
        for h in headers { args += ["-H", h] }
        if let source { args += ["--interface", source] }
        return args + [url]
    }

    /// Runs one request to completion.
    static func request(_ url: String, method: String = "GET", headers: [String] = [], from source: String? = nil,
                        options: [String] = []) throws -> CurlResponse {
        let r = try runCommand(executable, arguments(url, method: method, headers: headers, from: source, options: options))
        guard r.status == 0 else { throw TestFailure("curl \(url) failed (\(r.status)): \(r.stderr)") }
        return try CurlResponse(curlOutput: r.stdout)
    }

    /// Starts every request at once, each its own curl process (so its own client connection),
    /// and returns the responses in the order given.
    static func parallel(_ requests: [[String]]) throws -> [CurlResponse] {
        var running: [(Process, Pipe, Pipe)] = []
        for args in requests {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = args
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            p.standardInput = FileHandle.nullDevice
            try p.run()
            running.append((p, out, err))
        }
        return try running.map { p, out, err in
            // Each output is one small response, well under a pipe's buffer: read after exit.
            p.waitUntilExit()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            guard p.terminationStatus == 0 else {
                let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw TestFailure("curl failed (\(p.terminationStatus)): \(e)")
            }
            return try CurlResponse(curlOutput: text)
        }
    }
}
