/// Why a JSON text was refused, and at which byte offset.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let offset: Int

    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) at byte \(offset)" }
}

/// A strict RFC 8259 parser over UTF-8 bytes.
///
/// Strict by design: the token and wire paths are security boundaries, so duplicate member names
/// (when asked), lone surrogates, control characters in strings, leading zeros, trailing commas
/// and trailing garbage are all errors. Nesting is bounded so a hostile input cannot exhaust the
/// stack.
public struct JSONParser {
    /// Options for a parse.
    public struct Options: Sendable {
        /// Refuse an object that names the same member twice (RFC 8725 wants this for JOSE).
        public var rejectDuplicateKeys: Bool
        /// The deepest nesting of arrays and objects accepted.
        public var maxDepth: Int

        public init(rejectDuplicateKeys: Bool = false, maxDepth: Int = 32) {
            self.rejectDuplicateKeys = rejectDuplicateKeys
            self.maxDepth = maxDepth
        }
    }

    /// Parses a complete JSON text.
    public static func parse(_ bytes: some Collection<UInt8>, options: Options = Options()) throws(JSONError) -> JSONValue {
        // Contiguous input (arrays, ByteBuffer views) is parsed in place; anything else is copied once.
        let inPlace = bytes.withContiguousStorageIfAvailable { buf in
            Result { () throws(JSONError) -> JSONValue in try parse(buffer: buf, options: options) }
        }
        if let inPlace { return try inPlace.get() }
        return try Array(bytes).withUnsafeBufferPointer { (buf) throws(JSONError) -> JSONValue in
            try parse(buffer: buf, options: options)
        }
    }

    /// Parses bytes in place (the request path hands over the socket buffer's bytes, uncopied).
    public static func parse(_ raw: UnsafeRawBufferPointer, options: Options = Options()) throws(JSONError) -> JSONValue {
        try parse(buffer: UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count),
                  options: options)
    }

    static func parse(buffer buf: UnsafeBufferPointer<UInt8>, options: Options) throws(JSONError) -> JSONValue {
        var p = Cursor(buf: buf, options: options)
        p.skipWhitespace()
        let v = try p.parseValue(depth: 0)
        p.skipWhitespace()
        guard p.pos == buf.count else { throw JSONError("unexpected data after the JSON value", offset: p.pos) }
        return v
    }

    /// Parses a complete JSON text from a string.
    public static func parse(_ text: String, options: Options = Options()) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8), options: options)
    }

    struct Cursor {
        let buf: UnsafeBufferPointer<UInt8>
        let options: Options
        var pos = 0

        init(buf: UnsafeBufferPointer<UInt8>, options: Options) {
            self.buf = buf
            self.options = options
        }

        mutating func skipWhitespace() {
            while pos < buf.count {
                switch buf[pos] {
                case 0x20, 0x09, 0x0A, 0x0D: pos += 1
                default: return
                }
            }
        }

        mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
            guard pos < buf.count else { throw JSONError("unexpected end of input", offset: pos) }
            switch buf[pos] {
            case UInt8(ascii: "{"): return .object(try parseObject(depth: depth + 1))
            case UInt8(ascii: "["): return .array(try parseArray(depth: depth + 1))
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            default: throw JSONError("unexpected character", offset: pos)
            }
        }

        mutating func literal(_ word: StaticString) throws(JSONError) {
            let n = word.utf8CodeUnitCount
            guard pos + n <= buf.count else { throw JSONError("unexpected end of input", offset: pos) }
            let w = word.utf8Start
            for i in 0..<n where buf[pos + i] != w[i] {
                throw JSONError("invalid literal", offset: pos)
            }
            pos += n
        }

        mutating func parseObject(depth: Int) throws(JSONError) -> JSONObject {
            guard depth <= options.maxDepth else { throw JSONError("nesting too deep", offset: pos) }
            pos += 1
            var members: [(key: String, value: JSONValue)] = []
            skipWhitespace()
            if pos < buf.count, buf[pos] == UInt8(ascii: "}") {
                pos += 1
                return JSONObject(members)
            }
            while true {
                skipWhitespace()
                guard pos < buf.count, buf[pos] == UInt8(ascii: "\"") else {
                    throw JSONError("expected a member name", offset: pos)
                }
                let keyOffset = pos
                let key = try parseString()
                if options.rejectDuplicateKeys, members.contains(where: { $0.key == key }) {
                    throw JSONError("duplicate member \"\(key)\"", offset: keyOffset)
                }
                skipWhitespace()
                guard pos < buf.count, buf[pos] == UInt8(ascii: ":") else { throw JSONError("expected ':'", offset: pos) }
                pos += 1
                skipWhitespace()
                let value = try parseValue(depth: depth)
                members.append((key, value))
                skipWhitespace()
                guard pos < buf.count else { throw JSONError("unexpected end of input", offset: pos) }
                if buf[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if buf[pos] == UInt8(ascii: "}") { pos += 1; return JSONObject(members) }
                throw JSONError("expected ',' or '}'", offset: pos)
            }
        }

        mutating func parseArray(depth: Int) throws(JSONError) -> [JSONValue] {
            guard depth <= options.maxDepth else { throw JSONError("nesting too deep", offset: pos) }
            pos += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if pos < buf.count, buf[pos] == UInt8(ascii: "]") {
                pos += 1
                return items
            }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth))
                skipWhitespace()
                guard pos < buf.count else { throw JSONError("unexpected end of input", offset: pos) }
                if buf[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if buf[pos] == UInt8(ascii: "]") { pos += 1; return items }
                throw JSONError("expected ',' or ']'", offset: pos)
            }
        }

        mutating func parseNumber() throws(JSONError) -> JSONNumber {
            let start = pos
            if buf[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < buf.count else { throw JSONError("invalid number", offset: start) }
            if buf[pos] == UInt8(ascii: "0") {
                pos += 1
            } else if isDigit(buf[pos]) {
                while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
            } else {
                throw JSONError("invalid number", offset: start)
            }
            if pos < buf.count, buf[pos] == UInt8(ascii: ".") {
                pos += 1
                guard pos < buf.count, isDigit(buf[pos]) else { throw JSONError("invalid number", offset: start) }
                while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
            }
            if pos < buf.count, buf[pos] == UInt8(ascii: "e") || buf[pos] == UInt8(ascii: "E") {
                pos += 1
                if pos < buf.count, buf[pos] == UInt8(ascii: "+") || buf[pos] == UInt8(ascii: "-") { pos += 1 }
                guard pos < buf.count, isDigit(buf[pos]) else { throw JSONError("invalid number", offset: start) }
                while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
            guard let d = Double(text), d.isFinite else { throw JSONError("number out of range", offset: start) }
            return JSONNumber(text: text, double: d)
        }

        @inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

        mutating func parseString() throws(JSONError) -> String {
            let start = pos
            pos += 1
            // Fast path: no escapes. Tokens, names and addresses are ASCII: those need no UTF-8
            // validation, and String(decoding:) over ASCII is a plain copy (the generic
            // validating initializer was a sixth of a cached decision's cost).
            var scan = pos
            var ascii = true
            while scan < buf.count {
                let c = buf[scan]
                if c == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: buf[pos..<scan])
                    let s: String
                    if ascii {
                        s = String(decoding: slice, as: UTF8.self)
                    } else {
                        guard let v = Self.validatedString(slice) else {
                            throw JSONError("invalid UTF-8 in string", offset: start)
                        }
                        s = v
                    }
                    pos = scan + 1
                    return s
                }
                if c == UInt8(ascii: "\\") { break }
                if c < 0x20 { throw JSONError("control character in string", offset: scan) }
                if c >= 0x80 { ascii = false }
                scan += 1
            }
            // Slow path with escapes.
            var out: [UInt8] = []
            out.reserveCapacity(scan - pos + 16)
            while true {
                guard pos < buf.count else { throw JSONError("unterminated string", offset: start) }
                let c = buf[pos]
                if c == UInt8(ascii: "\"") { pos += 1; break }
                if c < 0x20 { throw JSONError("control character in string", offset: pos) }
                if c != UInt8(ascii: "\\") { out.append(c); pos += 1; continue }
                pos += 1
                guard pos < buf.count else { throw JSONError("unterminated string", offset: start) }
                let e = buf[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        guard pos + 1 < buf.count, buf[pos] == UInt8(ascii: "\\"), buf[pos + 1] == UInt8(ascii: "u") else {
                            throw JSONError("lone surrogate in string", offset: pos)
                        }
                        pos += 2
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw JSONError("lone surrogate in string", offset: pos) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar < 0xE000 {
                        throw JSONError("lone surrogate in string", offset: pos)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw JSONError("invalid escape", offset: pos) }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    throw JSONError("invalid escape", offset: pos - 1)
                }
            }
            guard let s = out.withUnsafeBufferPointer({ Self.validatedString($0) }) else {
                throw JSONError("invalid UTF-8 in string", offset: start)
            }
            return s
        }

        /// Strict UTF-8 (no overlongs, surrogates or bytes past U+10FFFF), else nil.
        static func validatedString(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
            var it = bytes.makeIterator()
            var decoder = UTF8()
            loop: while true {
                switch decoder.decode(&it) {
                case .scalarValue: continue
                case .emptyInput: break loop
                case .error: return nil
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        mutating func hex4() throws(JSONError) -> UInt32 {
            guard pos + 4 <= buf.count else { throw JSONError("invalid \\u escape", offset: pos) }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = buf[pos]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw JSONError("invalid \\u escape", offset: pos)
                }
                v = v << 4 | d
                pos += 1
            }
            return v
        }
    }
}
