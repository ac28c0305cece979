/// The two members of an answer line that a load generator counts: its `id` and its `allow`.
public struct AnswerSummary: Sendable, Equatable {
    /// The top-level `id` when it is a non-negative integer.
    public var id: UInt64?
    /// The top-level `allow` when it is a boolean.
    public var allow: Bool?

    public init(id: UInt64? = nil, allow: Bool? = nil) {
        self.id = id
        self.allow = allow
    }

    /// The summary of `line` (without its `\n`; a trailing `\r` is tolerated), or nil when it
    /// is not a single, well-formed JSON object.
    public static func scan(_ line: UnsafeRawBufferPointer) -> AnswerSummary? {
        AnswerScanner.scan(line)
    }
}

/// A validating JSON scanner for answer lines. It checks the whole line is one JSON object
/// (RFC 8259 grammar; UTF-8 is not validated) and extracts the two top-level members the bench
/// counts, without building values. The load generator must cost far less per answer than the
/// daemon does, or it would measure itself; ``WireAnswer/decode(_:)`` builds a tree per line,
/// which would be a large part of the client's budget at several hundred thousand answers a
/// second.
struct AnswerScanner {
    private let p: UnsafeRawBufferPointer
    private var i = 0

    private init(_ p: UnsafeRawBufferPointer) { self.p = p }

    /// The summary of `line` (without its `\n`; a trailing `\r` is tolerated), or nil when it
    /// is not a single, well-formed JSON object.
    static func scan(_ line: UnsafeRawBufferPointer) -> AnswerSummary? {
        var s = AnswerScanner(line)
        return s.topLevel()
    }

    private var atEnd: Bool { i >= p.count }
    private var byte: UInt8 { p[i] }

    private mutating func skipSpace() {
        while i < p.count, p[i] == 0x20 || p[i] == 0x09 || p[i] == 0x0A || p[i] == 0x0D { i += 1 }
    }

    private mutating func topLevel() -> AnswerSummary? {
        var out = AnswerSummary()
        skipSpace()
        guard !atEnd, byte == UInt8(ascii: "{") else { return nil }
        i += 1
        skipSpace()
        if !atEnd, byte == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard !atEnd, byte == UInt8(ascii: ":") else { return nil }
                i += 1
                skipSpace()
                guard !atEnd else { return nil }
                let valueStart = i
                guard value(depth: 1) else { return nil }
                if equals(key, "id") {
                    out.id = unsignedInteger(valueStart..<i)
                } else if equals(key, "allow") {
                    if p[valueStart] == UInt8(ascii: "t") { out.allow = true }
                    if p[valueStart] == UInt8(ascii: "f") { out.allow = false }
                }
                skipSpace()
                guard !atEnd else { return nil }
                if byte == UInt8(ascii: ",") { i += 1; continue }
                guard byte == UInt8(ascii: "}") else { return nil }
                i += 1
                break
            }
        }
        skipSpace()
        return atEnd ? out : nil
    }

    /// A string's raw bytes between its quotes, escapes validated but not decoded.
    private mutating func string() -> Range<Int>? {
        guard !atEnd, byte == 0x22 else { return nil }
        i += 1
        let start = i
        while i < p.count {
            let c = p[i]
            if c == 0x22 { i += 1; return start..<(i - 1) }
            if c < 0x20 { return nil }
            if c == 0x5C {
                i += 1
                guard i < p.count else { return nil }
                switch p[i] {
                case 0x22, 0x5C, 0x2F, UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                     UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 1
                case UInt8(ascii: "u"):
                    i += 1
                    for _ in 0..<4 {
                        guard i < p.count, isHex(p[i]) else { return nil }
                        i += 1
                    }
                default:
                    return nil
                }
            } else {
                i += 1
            }
        }
        return nil
    }

    private func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }

    private mutating func value(depth: Int) -> Bool {
        guard depth <= 64, !atEnd else { return false }
        switch byte {
        case UInt8(ascii: "{"):
            i += 1
            skipSpace()
            if !atEnd, byte == UInt8(ascii: "}") { i += 1; return true }
            while true {
                skipSpace()
                guard string() != nil else { return false }
                skipSpace()
                guard !atEnd, byte == UInt8(ascii: ":") else { return false }
                i += 1
                skipSpace()
                guard value(depth: depth + 1) else { return false }
                skipSpace()
                guard !atEnd else { return false }
                if byte == UInt8(ascii: ",") { i += 1; continue }
                guard byte == UInt8(ascii: "}") else { return false }
                i += 1
                return true
            }
        case UInt8(ascii: "["):
            i += 1
            skipSpace()
            if !atEnd, byte == UInt8(ascii: "]") { i += 1; return true }
            while true {
                skipSpace()
                guard value(depth: depth + 1) else { return false }
                skipSpace()
                guard !atEnd else { return false }
                if byte == UInt8(ascii: ",") { i += 1; continue }
                guard byte == UInt8(ascii: "]") else { return false }
                i += 1
                return true
            }
        case 0x22:
            return string() != nil
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= p.count else { return false }
        for k in 0..<n where p[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    private mutating func digits() -> Int {
        let start = i
        while i < p.count, p[i] >= 0x30, p[i] <= 0x39 { i += 1 }
        return i - start
    }

    private mutating func number() -> Bool {
        if !atEnd, byte == UInt8(ascii: "-") { i += 1 }
        guard !atEnd else { return false }
        if byte == 0x30 {
            i += 1
        } else if digits() == 0 {
            return false
        }
        if !atEnd, byte == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return false }
        }
        if !atEnd, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            i += 1
            if !atEnd, byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return false }
        }
        return true
    }

    private func equals(_ r: Range<Int>, _ word: StaticString) -> Bool {
        guard r.count == word.utf8CodeUnitCount else { return false }
        for k in 0..<r.count where p[r.lowerBound + k] != word.utf8Start[k] { return false }
        return true
    }

    private func unsignedInteger(_ r: Range<Int>) -> UInt64? {
        guard !r.isEmpty, r.count <= 19 else { return nil }
        var v: UInt64 = 0
        for k in r {
            let c = p[k]
            guard c >= 0x30, c <= 0x39 else { return nil }
            v = v * 10 + UInt64(c - 0x30)
        }
        return v
    }
}
