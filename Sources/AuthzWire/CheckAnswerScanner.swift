import AuthzJSON

/// Reads a check answer in the exact shape authzd writes it (`WireAnswer.encode`: no whitespace,
/// no escapes, integers, the known members once each) straight into a `CheckAnswer`, without
/// building a JSON tree. Anything else, including every malformed line, is left to the full
/// parser (`nil`), so what a line decodes to never depends on which path read it; the shim reads
/// one answer per request.
enum CheckAnswerScanner {
    /// The answer, or nil when the line is not in the plain shape (the caller parses it fully).
    static func scan(_ u: UnsafeBufferPointer<UInt8>) -> CheckAnswer? {
        var s = Cursor(u: u)
        guard s.take(UInt8(ascii: "{")) else { return nil }
        var id: JSONValue?
        var allow: Bool?
        var status: Int?
        var reason: String?
        var plugin: String?
        var message: String?
        var headers: [HeaderField]?
        var ttl: Int?
        var first = true
        while !s.take(UInt8(ascii: "}")) {
            if !first { guard s.take(UInt8(ascii: ",")) else { return nil } }
            first = false
            guard let key = s.key() else { return nil }
            switch key {
            case .id:
                guard id == nil else { return nil }
                if s.peek == UInt8(ascii: "\"") {
                    guard let v = s.string() else { return nil }
                    id = .string(v)
                } else {
                    guard let (text, n) = s.integer() else { return nil }
                    id = .number(JSONNumber(text: text, double: Double(n)))
                }
            case .allow:
                guard allow == nil, let v = s.bool() else { return nil }
                allow = v
            case .status:
                guard status == nil, let (_, n) = s.integer() else { return nil }
                status = n
            case .reason:
                guard reason == nil, let v = s.string() else { return nil }
                reason = v
            case .plugin:
                guard plugin == nil, let v = s.string() else { return nil }
                plugin = v
            case .message:
                guard message == nil, let v = s.string() else { return nil }
                message = v
            case .ttl:
                guard ttl == nil, let (_, n) = s.integer() else { return nil }
                ttl = n
            case .headers:
                guard headers == nil, s.take(UInt8(ascii: "{")) else { return nil }
                var fields: [HeaderField] = []
                var firstField = true
                while !s.take(UInt8(ascii: "}")) {
                    if !firstField { guard s.take(UInt8(ascii: ",")) else { return nil } }
                    firstField = false
                    guard let name = s.string(), s.take(UInt8(ascii: ":")), let value = s.string() else { return nil }
                    fields.append(HeaderField(name: name, value: value))
                }
                headers = fields
            }
        }
        // The whole line, and the fields a check answer must have, valid: else the full parser
        // reads it and reports what is wrong.
        guard s.atEnd, let status, (200...599).contains(status), let reason else { return nil }
        return CheckAnswer(
            id: id, allow: allow ?? false, status: status, reason: reason, plugin: plugin, message: message,
            headers: headers ?? [], ttl: ttl ?? 0)
    }

    private enum Key {
        case id, allow, status, reason, plugin, message, headers, ttl
    }

    private struct Cursor {
        let u: UnsafeBufferPointer<UInt8>
        var pos = 0

        var atEnd: Bool { pos == u.count }
        var peek: UInt8? { pos < u.count ? u[pos] : nil }

        mutating func take(_ c: UInt8) -> Bool {
            guard pos < u.count, u[pos] == c else { return false }
            pos += 1
            return true
        }

        /// `"name":` for a member this scanner knows.
        mutating func key() -> Key? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = pos
            while pos < u.count, u[pos] != UInt8(ascii: "\"") { pos += 1 }
            let name = UnsafeBufferPointer(rebasing: u[start..<pos])
            guard take(UInt8(ascii: "\"")), take(UInt8(ascii: ":")) else { return nil }
            switch name.count {
            case 2 where Self.equal(name, "id"): return .id
            case 3 where Self.equal(name, "ttl"): return .ttl
            case 5 where Self.equal(name, "allow"): return .allow
            case 6 where Self.equal(name, "status"): return .status
            case 6 where Self.equal(name, "reason"): return .reason
            case 6 where Self.equal(name, "plugin"): return .plugin
            case 7 where Self.equal(name, "message"): return .message
            case 7 where Self.equal(name, "headers"): return .headers
            default: return nil
            }
        }

        private static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: StaticString) -> Bool {
            guard a.count == b.utf8CodeUnitCount else { return false }
            for i in 0..<a.count where a[i] != b.utf8Start[i] { return false }
            return true
        }

        /// A string of printable ASCII without escapes (anything else: nil, for the full parser).
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = pos
            while pos < u.count {
                let c = u[pos]
                if c == UInt8(ascii: "\"") {
                    let s = String(decoding: UnsafeBufferPointer(rebasing: u[start..<pos]), as: UTF8.self)
                    pos += 1
                    return s
                }
                guard c >= 0x20, c < 0x7F, c != UInt8(ascii: "\\") else { return nil }
                pos += 1
            }
            return nil
        }

        /// A non-negative integer of at most 15 digits, without a leading zero (exact as a
        /// Double, so its value is the one the full parser computes), with its text.
        mutating func integer() -> (String, Int)? {
            let start = pos
            var n = 0
            while pos < u.count, u[pos] &- 0x30 < 10 {
                n = n * 10 + Int(u[pos] &- 0x30)
                pos += 1
            }
            let digits = pos - start
            guard digits >= 1, digits <= 15, digits == 1 || u[start] != 0x30 else { return nil }
            // A fraction or an exponent follows: not an integer in the plain shape.
            if let c = peek, c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return nil }
            return (String(decoding: UnsafeBufferPointer(rebasing: u[start..<pos]), as: UTF8.self), n)
        }

        mutating func bool() -> Bool? {
            if remaining(starts: "true") { pos += 4; return true }
            if remaining(starts: "false") { pos += 5; return false }
            return nil
        }

        private func remaining(starts s: StaticString) -> Bool {
            guard u.count - pos >= s.utf8CodeUnitCount else { return false }
            for i in 0..<s.utf8CodeUnitCount where u[pos + i] != s.utf8Start[i] { return false }
            return true
        }
    }
}
