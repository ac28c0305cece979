import AuthzCore
import AuthzJSON
import NIOCore
import Testing

@testable import AuthzWire

/// `WireAnswer.decode` reads the plain shape authzd writes with `CheckAnswerScanner` and everything
/// else with the JSON parser: both paths must give the same answer for every line.
@Suite struct CheckAnswerScannerTests {
    private func encoded(_ d: Decision, id: JSONValue?) -> String {
        var b = ByteBuffer()
        WireAnswer.encode(d, id: id, into: &b)
        return String(decoding: b.readableBytesView.dropLast(), as: UTF8.self)
    }

    private func bothPaths(_ line: String) -> (fast: Result<WireAnswer, WireError>, full: Result<WireAnswer, WireError>) {
        let bytes = Array(line.utf8)
        let fast = Result { () throws(WireError) in try WireAnswer.decode(bytes) }
        let full = Result { () throws(WireError) in try WireAnswer.decodeParsing(bytes) }
        return (fast, full)
    }

    /// Lines authzd writes take the scanner's path and read as the parser reads them.
    @Test func theDaemonsOwnLinesAreScannedToWhatTheParserReads() {
        let decisions = [
            Decision(allow: true, status: 200, reason: .ok, plugin: "jwt_hmac", message: "fine",
                     headers: [("x-auth-subject", "alice"), ("x-auth-scope", "read write")], ttl: 30),
            Decision(allow: false, status: 401, reason: .noToken, plugin: "jwt_hmac",
                     headers: [("www-authenticate", "Bearer realm=\"api\"")]),
            Decision(allow: false, status: 403, reason: .ipNotAllowed, plugin: "ip_allowlist"),
            Decision(allow: true, status: 200, reason: .ok, plugin: nil, ttl: 0),
        ]
        var scanned = 0
        for d in decisions {
            for id: JSONValue? in [nil, 0, 7, 123_456_789_012_345, "req-1"] {
                let line = encoded(d, id: id)
                let (fast, full) = bothPaths(line)
                #expect(fast == full, "\(line)")
                if (line.utf8.withContiguousStorageIfAvailable({ CheckAnswerScanner.scan($0) }) ?? nil) != nil { scanned += 1 }
            }
        }
        // Only the escaped quote in the challenge sends a line to the parser.
        #expect(scanned == 15)
    }

    /// Every way a line can leave the plain shape reads the same as through the parser,
    /// malformed lines included (they fail the same way).
    @Test(arguments: [
        #"{"id":1,"allow":true,"status":200,"reason":"ok"}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok","status":403}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok","id":2}"#,
        #"{"id":1,"allow":1,"status":200,"reason":"ok"}"#,
        #"{"id":1,"allow":true,"status":200.0,"reason":"ok"}"#,
        #"{"id":1,"allow":true,"status":2e2,"reason":"ok"}"#,
        #"{"id":1,"allow":true,"status":700,"reason":"ok"}"#,
        #"{"id":1,"allow":true,"status":199,"reason":"ok"}"#,
        #"{"id":1,"allow":true,"status":200}"#,
        #"{"id":1,"allow":true,"reason":"ok"}"#,
        #"{"id":01,"allow":true,"status":200,"reason":"ok"}"#,
        #"{"id":-0,"allow":true,"status":200,"reason":"ok"}"#,
        #"{"id":-3,"allow":true,"status":200,"reason":"ok"}"#,
        #"{"id":1234567890123456789,"allow":true,"status":200,"reason":"ok"}"#,
        #"{"id":null,"allow":true,"status":200,"reason":"ok"}"#,
        #"{"id":[1],"allow":true,"status":200,"reason":"ok"}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok","ttl":-5}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok","ttl":1.5}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok","ttl":"30"}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok","plugin":null}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok","message":3}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok","headers":{"a":"1","a":"2"}}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok","headers":{"a":1}}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok","headers":[]}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok","headers":{}}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"o\u006b"}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"caf\u00e9 café"}"#,
        #"{"id":1,"allow":true,"status":200,"st\u0061tus":403,"reason":"ok"}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok","extra":{"x":[1,2]}}"#,
        #"{"id":1,"ok":true}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok"} "#,
        "{\"id\":1,\"allow\":true,\"status\":200,\"reason\":\"ok\"}\r",
        #" {"id":1,"allow":true,"status":200,"reason":"ok"}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok"}x"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok",}"#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok""#,
        #"{"id":1,"allow":true,"status":200,"reason":"ok\"}"#,
        #"{"id":1,"allow":tru,"status":200,"reason":"ok"}"#,
        #"{}"#,
        #"[]"#,
        "",
    ])
    func linesOutsideThePlainShapeReadAsTheParserReadsThem(_ line: String) {
        let (fast, full) = bothPaths(line)
        #expect(fast == full)
    }
}
