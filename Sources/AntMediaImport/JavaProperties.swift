/// A Java `.properties` file read exactly as `java.util.Properties.load(InputStream)` reads it, so
/// the importer sees the same keys and values Ant Media saw:
/// - bytes are ISO-8859-1 (each byte is the character U+0000–U+00FF); non-Latin-1 text must be
///   written as `\uXXXX`;
/// - lines end at `\n`, `\r` or `\r\n`; a line whose first non-blank character is `#` or `!` is a
///   comment; blank lines are skipped; leading spaces, tabs and form feeds are dropped;
/// - a line ending in an odd number of backslashes continues on the next line, whose leading
///   blanks are dropped (a comment line never continues);
/// - the key ends at the first unescaped `=`, `:` or blank; blanks around one `=` or `:` are
///   dropped; trailing blanks of the value are kept;
/// - `\t \n \r \f` and `\uXXXX` (exactly four hex digits) are escapes, and a backslash before any
///   other character stands for that character;
/// - a key given twice keeps its last value.
/// Each entry remembers the line its logical line starts on, for `FILE:LINE` messages.
public struct JavaProperties: Sendable {
    /// One key and its value.
    public struct Entry: Sendable, Equatable {
        public let key: String
        /// The value as Java holds it: UTF-16 code units, possibly with a lone surrogate.
        public let utf16: [UInt16]
        /// The line (1-based) where this key's logical line starts.
        public let line: Int

        /// The value as a Swift string; a lone surrogate (which only a `\uD800`-style escape can
        /// make) becomes U+FFFD, so check `hasLoneSurrogate` where exact bytes matter.
        public var value: String { String(decoding: utf16, as: UTF16.self) }

        /// Whether the value holds a UTF-16 surrogate without its partner, which Java would
        /// encode as `?` in UTF-8 and Swift cannot hold at all.
        public var hasLoneSurrogate: Bool {
            var i = 0
            while i < utf16.count {
                let u = utf16[i]
                if UTF16.isLeadSurrogate(u) {
                    guard i + 1 < utf16.count, UTF16.isTrailSurrogate(utf16[i + 1]) else { return true }
                    i += 2
                    continue
                }
                if UTF16.isTrailSurrogate(u) { return true }
                i += 1
            }
            return false
        }
    }

    /// Keyed by UTF-16 code units, as Java's `Hashtable` tells keys apart: Swift's `String`
    /// equality is canonical equivalence, under which `jwtSecret\u212Aey` (KELVIN SIGN) is
    /// `jwtSecretKey`, a key Java (and so Ant Media) never reads for it.
    private var table: [[UInt16]: Entry] = [:]

    /// Every entry (one per distinct key), in the order of their lines.
    public var entries: [Entry] { table.values.sorted { $0.line < $1.line } }

    /// The entry whose key has exactly these code units.
    public subscript(key: String) -> Entry? { table[Array(key.utf16)] }

    /// Parses a whole file's bytes.
    public static func parse(_ bytes: [UInt8]) throws(JavaPropertiesError) -> JavaProperties {
        var result = JavaProperties()
        for logical in logicalLines(bytes) {
            let entry = try parseEntry(logical.chars, line: logical.line)
            result.table[Array(entry.key.utf16)] = entry
        }
        return result
    }

    /// Parses text (each character must be in U+0000–U+00FF, as a Latin-1 file's would be);
    /// for tests and callers that already hold the text.
    public static func parse(latin1 text: String) throws(JavaPropertiesError) -> JavaProperties {
        var bytes: [UInt8] = []
        for s in text.unicodeScalars {
            guard s.value <= 0xFF else {
                throw JavaPropertiesError(line: 0, message: "U+\(String(s.value, radix: 16, uppercase: true)) is not a Latin-1 character")
            }
            bytes.append(UInt8(s.value))
        }
        return try parse(bytes)
    }

    private static func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0C }
    private static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A, backslash: UInt8 = 0x5C

    /// Splits the file into logical lines (comments and blank lines dropped, continuations
    /// joined), each with the line it starts on; escapes are still raw. This follows Java 17's
    /// `Properties.LineReader` step by step, quirks included: a comment is recognised wherever a
    /// logical line is still empty (also right after a continuation that left it empty), and a
    /// line end that is the file's last byte ends the file, so a final lone `\` line yields
    /// an entry with an empty key.
    static func logicalLines(_ bytes: [UInt8]) -> [(chars: [UInt8], line: Int)] {
        // The line each byte is on: a line ends at \n, at \r\n, or at a \r not followed by \n.
        var lineOf = [Int](repeating: 1, count: bytes.count)
        var line = 1
        for i in bytes.indices {
            lineOf[i] = line
            if bytes[i] == lf || (bytes[i] == cr && (i + 1 == bytes.count || bytes[i + 1] != lf)) { line += 1 }
        }
        var out: [(chars: [UInt8], line: Int)] = []
        var i = 0
        var skipLF = false
        readLine: while true {
            var buf: [UInt8] = []
            var startLine = 0
            var skipBlanks = true, continuing = false, oddBackslashes = false
            while true {
                guard i < bytes.count else {
                    if !buf.isEmpty { out.append((oddBackslashes ? Array(buf.dropLast()) : buf, startLine)) }
                    break readLine
                }
                let c = bytes[i]
                let thisLine = lineOf[i]
                i += 1
                if skipLF {
                    skipLF = false
                    if c == lf { continue }
                }
                if skipBlanks {
                    if isBlank(c) { continue }
                    // Blank lines are skipped, except right after a continuation: there a line
                    // end ends the logical line.
                    if !continuing && (c == cr || c == lf) { continue }
                    skipBlanks = false
                    continuing = false
                }
                if buf.isEmpty && (c == UInt8(ascii: "#") || c == UInt8(ascii: "!")) {
                    while i < bytes.count {
                        let d = bytes[i]
                        i += 1
                        if d == cr || d == lf { break }
                    }
                    guard i < bytes.count else { break readLine }
                    skipBlanks = true
                    continue
                }
                if c != lf && c != cr {
                    if buf.isEmpty { startLine = thisLine }
                    buf.append(c)
                    oddBackslashes = c == backslash ? !oddBackslashes : false
                    continue
                }
                if buf.isEmpty {
                    skipBlanks = true
                    continue
                }
                if i == bytes.count {
                    out.append((oddBackslashes ? Array(buf.dropLast()) : buf, startLine))
                    break readLine
                }
                guard oddBackslashes else {
                    out.append((buf, startLine))
                    continue readLine
                }
                buf.removeLast()
                oddBackslashes = false
                skipBlanks = true
                continuing = true
                if c == cr { skipLF = true }
            }
        }
        return out
    }

    /// Splits one logical line into key and value and resolves their escapes.
    static func parseEntry(_ chars: [UInt8], line: Int) throws(JavaPropertiesError) -> Entry {
        var keyEnd = 0
        var valueStart = chars.count
        var hasSeparator = false
        var escaped = false
        while keyEnd < chars.count {
            let c = chars[keyEnd]
            if !escaped && (c == UInt8(ascii: "=") || c == UInt8(ascii: ":")) {
                valueStart = keyEnd + 1
                hasSeparator = true
                break
            }
            if !escaped && isBlank(c) {
                valueStart = keyEnd + 1
                break
            }
            escaped = c == backslash ? !escaped : false
            keyEnd += 1
        }
        while valueStart < chars.count {
            let c = chars[valueStart]
            if !isBlank(c) {
                guard !hasSeparator && (c == UInt8(ascii: "=") || c == UInt8(ascii: ":")) else { break }
                hasSeparator = true
            }
            valueStart += 1
        }
        let key = try unescape(chars[0..<keyEnd], line: line)
        let value = try unescape(chars[valueStart...], line: line)
        return Entry(key: String(decoding: key, as: UTF16.self), utf16: value, line: line)
    }

    /// Resolves `\uXXXX`, `\t \n \r \f` and `\c` (= c), into UTF-16 code units.
    static func unescape(_ chars: ArraySlice<UInt8>, line: Int) throws(JavaPropertiesError) -> [UInt16] {
        var out: [UInt16] = []
        out.reserveCapacity(chars.count)
        var i = chars.startIndex
        while i < chars.endIndex {
            let c = chars[i]
            i += 1
            guard c == backslash, i < chars.endIndex else {
                out.append(UInt16(c))
                continue
            }
            let e = chars[i]
            i += 1
            switch e {
            case UInt8(ascii: "u"):
                guard chars.endIndex - i >= 4 else {
                    throw JavaPropertiesError(line: line, message: "malformed \\uXXXX escape (Java refuses the whole file)")
                }
                var v: UInt16 = 0
                for h in chars[i..<(i + 4)] {
                    guard let d = hexValue(h) else {
                        throw JavaPropertiesError(line: line, message: "malformed \\uXXXX escape (Java refuses the whole file)")
                    }
                    v = v << 4 | UInt16(d)
                }
                i += 4
                out.append(v)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "f"): out.append(0x0C)
            default: out.append(UInt16(e))
            }
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
