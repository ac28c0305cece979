/// A one-pass TOML 1.0 parser over the document's UTF-8 bytes.
///
/// Values are parsed into `TOMLNode`s directly; tables are built in `TableBuilder`s because a
/// later header may reopen a table defined earlier (`[a.b]` after `[a]`, `[[a]]` repeated).
struct TOMLParser {
    let bytes: [UInt8]
    var pos: Int = 0
    /// Byte offset where each line starts; lines and columns are looked up here on demand.
    let lineStarts: [Int]
    /// Current nesting of arrays and inline tables; bounded so a hostile file cannot exhaust
    /// the stack of `check-config` or a reload.
    var depth = 0
    static let maxDepth = 100

    init(_ text: String) {
        bytes = Array(text.utf8)
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == .lf {
            starts.append(i + 1)
        }
        lineStarts = starts
    }

    // MARK: Document

    mutating func parseDocument() throws(TOMLParseError) -> TOMLTable {
        let root = TableBuilder(origin: .root, line: 1)
        var current = root
        // A byte order mark is not part of the document.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }
        while true {
            skipWhitespace()
            guard let b = peek() else { break }
            switch b {
            case .lf, .cr:
                try consumeNewline()
            case .hash:
                try skipComment()
            case .lbracket:
                current = try parseHeader(root: root)
                try expectEndOfLine(after: "table header")
            default:
                try parseKeyValue(into: current)
                try expectEndOfLine(after: "value")
            }
        }
        return root.build()
    }

    /// `key = value`, with the key possibly dotted; used at top level and inside inline tables.
    mutating func parseKeyValue(into table: TableBuilder) throws(TOMLParseError) {
        let keyStart = pos
        let parts = try parseKey()
        skipWhitespace()
        guard peek() == .equals else {
            throw error(
                "expected '=' after key '\(Self.display(parts.map(\.name)))', found \(describeHere())")
        }
        pos += 1
        skipWhitespace()
        let value = try parseValue()
        try insert(parts, value, into: table, statementLine: line(of: keyStart))
    }

    /// After a statement only whitespace and a comment may follow on its line.
    mutating func expectEndOfLine(after what: String) throws(TOMLParseError) {
        skipWhitespace()
        if peek() == .hash { try skipComment() }
        guard let b = peek() else { return }
        guard b == .lf || b == .cr else {
            throw error("unexpected \(describeHere()) after \(what); expected a newline or a comment")
        }
        try consumeNewline()
    }

    // MARK: Keys

    struct KeyPart {
        var name: String
        /// Byte offset of this part, where errors about it point.
        var pos: Int
    }

    /// A bare, quoted or dotted key, with the whitespace TOML allows around the dots.
    mutating func parseKey() throws(TOMLParseError) -> [KeyPart] {
        var parts: [KeyPart] = []
        while true {
            skipWhitespace()
            parts.append(try parseSimpleKey())
            skipWhitespace()
            guard peek() == .dot else { return parts }
            pos += 1
        }
    }

    mutating func parseSimpleKey() throws(TOMLParseError) -> KeyPart {
        let start = pos
        switch peek() {
        case .quote:
            if peek(1) == .quote && peek(2) == .quote {
                throw error("a key cannot be a multi-line string")
            }
            return KeyPart(name: try parseBasicString(), pos: start)
        case .apostrophe:
            if peek(1) == .apostrophe && peek(2) == .apostrophe {
                throw error("a key cannot be a multi-line string")
            }
            return KeyPart(name: try parseLiteralString(), pos: start)
        case let b? where b.isBareKeyByte:
            while let b = peek(), b.isBareKeyByte { pos += 1 }
            return KeyPart(name: String(decoding: bytes[start..<pos], as: UTF8.self), pos: start)
        default:
            throw error("expected a key, found \(describeHere())")
        }
    }

    // MARK: Tables

    /// `[a.b]` or `[[a.b]]`; returns the table that following key/value pairs go into.
    mutating func parseHeader(root: TableBuilder) throws(TOMLParseError) -> TableBuilder {
        let headerLine = line(of: pos)
        let isArray = peek(1) == .lbracket
        pos += isArray ? 2 : 1
        let parts = try parseKey()
        skipWhitespace()
        if isArray {
            guard peek() == .rbracket && peek(1) == .rbracket else {
                throw error("expected ']]' to close the array-of-tables header, found \(describeHere())")
            }
            pos += 2
        } else {
            guard peek() == .rbracket else {
                throw error("expected ']' to close the table header, found \(describeHere())")
            }
            pos += 1
        }

        let names = parts.map(\.name)
        var table = root
        for (i, part) in parts.dropLast().enumerated() {
            let prefix = Self.display(names[...i])
            switch table[part.name] {
            case nil:
                let sub = TableBuilder(origin: .impliedByHeader, line: headerLine)
                table.add(part.name, .table(sub))
                table = sub
            case .table(let sub):
                table = sub
            case .arrayOfTables(let array):
                // A header below an array of tables extends its most recent element.
                table = array.elements[array.elements.count - 1]
            case .value(let node):
                throw error(
                    at: part.pos,
                    "cannot define table '[\(Self.display(names))]': '\(prefix)' is already \(Self.kind(of: node)) (line \(node.line))")
            }
        }

        let last = parts[parts.count - 1]
        let full = Self.display(names)
        let existing = table[last.name]
        if isArray {
            switch existing {
            case nil:
                let array = ArrayOfTablesBuilder(line: headerLine)
                table.add(last.name, .arrayOfTables(array))
                return Self.appendElement(to: array, line: headerLine)
            case .arrayOfTables(let array):
                return Self.appendElement(to: array, line: headerLine)
            case .table(let sub):
                throw error(
                    at: last.pos,
                    "cannot define array of tables '[[\(full)]]': '\(full)' is already a table (line \(sub.line))")
            case .value(let node):
                if case .array = node.value {
                    throw error(
                        at: last.pos,
                        "cannot append to '\(full)' with '[[\(full)]]': it is a static array (line \(node.line))")
                }
                throw error(
                    at: last.pos,
                    "cannot define array of tables '[[\(full)]]': '\(full)' is already \(Self.kind(of: node)) (line \(node.line))")
            }
        }
        switch existing {
        case nil:
            let sub = TableBuilder(origin: .header, line: headerLine)
            table.add(last.name, .table(sub))
            return sub
        case .table(let sub):
            switch sub.origin {
            case .impliedByHeader:
                // Defining a table that an earlier header only implied is allowed, once.
                sub.origin = .header
                sub.line = headerLine
                return sub
            case .dottedKey:
                throw error(
                    at: last.pos,
                    "table '[\(full)]' was already defined with dotted keys (line \(sub.line))")
            case .header, .root, .inline:
                throw error(at: last.pos, "table '[\(full)]' is already defined (line \(sub.line))")
            }
        case .arrayOfTables(let array):
            throw error(
                at: last.pos,
                "cannot define table '[\(full)]': '\(full)' is already an array of tables (line \(array.line))")
        case .value(let node):
            throw error(
                at: last.pos,
                "cannot define table '[\(full)]': '\(full)' is already \(Self.kind(of: node)) (line \(node.line))")
        }
    }

    static func appendElement(to array: ArrayOfTablesBuilder, line: Int) -> TableBuilder {
        let element = TableBuilder(origin: .header, line: line)
        array.elements.append(element)
        return element
    }

    /// Stores a value under a possibly dotted key, creating the intermediate tables.
    func insert(
        _ parts: [KeyPart], _ value: TOMLNode, into root: TableBuilder, statementLine: Int
    ) throws(TOMLParseError) {
        let names = parts.map(\.name)
        var table = root
        for (i, part) in parts.dropLast().enumerated() {
            let prefix = Self.display(names[...i])
            switch table[part.name] {
            case nil:
                let sub = TableBuilder(origin: .dottedKey, line: statementLine)
                table.add(part.name, .table(sub))
                table = sub
            case .table(let sub) where sub.origin == .dottedKey:
                table = sub
            case .table(let sub):
                throw error(
                    at: part.pos,
                    "cannot add '\(Self.display(names))' with a dotted key: table '\(prefix)' was defined by a table header (line \(sub.line))")
            case .arrayOfTables(let array):
                throw error(
                    at: part.pos,
                    "cannot add '\(Self.display(names))' with a dotted key: '\(prefix)' is an array of tables (line \(array.line))")
            case .value(let node):
                throw error(
                    at: part.pos,
                    "cannot add '\(Self.display(names))': '\(prefix)' is already \(Self.kind(of: node)) (line \(node.line))")
            }
        }
        let last = parts[parts.count - 1]
        if let existing = table[last.name] {
            throw error(
                at: last.pos,
                "duplicate key '\(Self.display(names))' (first defined at line \(existing.line))")
        }
        table.add(last.name, .value(value))
    }

    // MARK: Values

    mutating func parseValue() throws(TOMLParseError) -> TOMLNode {
        let start = pos
        let valueLine = line(of: start)
        guard let b = peek() else { throw error("expected a value, found end of input") }
        let value: TOMLValue
        switch b {
        case .quote:
            if peek(1) == .quote && peek(2) == .quote {
                value = .string(try parseMultilineBasicString())
            } else {
                value = .string(try parseBasicString())
            }
        case .apostrophe:
            if peek(1) == .apostrophe && peek(2) == .apostrophe {
                value = .string(try parseMultilineLiteralString())
            } else {
                value = .string(try parseLiteralString())
            }
        case .lbracket:
            try enterNesting()
            defer { depth -= 1 }
            value = .array(try parseArray())
        case .lbrace:
            try enterNesting()
            defer { depth -= 1 }
            value = .table(try parseInlineTable())
        case .lf, .cr:
            throw error("expected a value, found end of line")
        default:
            value = try parseScalar()
        }
        return TOMLNode(value, line: valueLine)
    }

    private mutating func enterNesting() throws(TOMLParseError) {
        guard depth < Self.maxDepth else {
            throw error("arrays and inline tables are nested more than \(Self.maxDepth) levels deep")
        }
        depth += 1
    }

    mutating func parseArray() throws(TOMLParseError) -> [TOMLNode] {
        let start = pos
        pos += 1
        var elements: [TOMLNode] = []
        while true {
            try skipWhitespaceCommentsAndNewlines()
            if peek() == .rbracket {
                pos += 1
                return elements
            }
            if peek() == nil {
                throw error(at: start, "unterminated array (missing ']')")
            }
            elements.append(try parseValue())
            try skipWhitespaceCommentsAndNewlines()
            switch peek() {
            case .comma:
                pos += 1
            case .rbracket:
                pos += 1
                return elements
            case nil:
                throw error(at: start, "unterminated array (missing ']')")
            default:
                throw error("expected ',' or ']' in array, found \(describeHere())")
            }
        }
    }

    mutating func parseInlineTable() throws(TOMLParseError) -> TOMLTable {
        let table = TableBuilder(origin: .inline, line: line(of: pos))
        pos += 1
        skipWhitespace()
        if peek() == .rbrace {
            pos += 1
            return table.build()
        }
        while true {
            try checkInlineTableContinues()
            try parseKeyValue(into: table)
            skipWhitespace()
            switch peek() {
            case .comma:
                pos += 1
                skipWhitespace()
                if peek() == .rbrace {
                    throw error("a trailing comma is not allowed in an inline table")
                }
            case .rbrace:
                pos += 1
                return table.build()
            default:
                try checkInlineTableContinues()
                throw error("expected ',' or '}' in inline table, found \(describeHere())")
            }
        }
    }

    /// TOML 1.0 keeps inline tables on one line; say so rather than a generic "expected a key".
    func checkInlineTableContinues() throws(TOMLParseError) {
        switch peek() {
        case .lf, .cr, .hash:
            throw error("an inline table must be on one line (newlines and comments are not allowed in '{ }')")
        case nil:
            throw error("unterminated inline table (missing '}')")
        default:
            break
        }
    }

    // MARK: Whitespace, comments, newlines

    mutating func skipWhitespace() {
        while let b = peek(), b == .space || b == .tab { pos += 1 }
    }

    /// Accepts LF and CRLF; a lone CR is not a TOML newline.
    mutating func consumeNewline() throws(TOMLParseError) {
        if peek() == .cr {
            guard peek(1) == .lf else { throw error("a carriage return must be followed by a newline") }
            pos += 2
        } else {
            pos += 1
        }
    }

    /// Skips `# ...` up to (not including) the end of the line.
    mutating func skipComment() throws(TOMLParseError) {
        pos += 1
        while let b = peek(), b != .lf {
            if b == .cr && peek(1) == .lf { return }
            if b.isForbiddenControl {
                throw error("control character \(Self.unicodeName(b)) is not allowed in a comment")
            }
            pos += 1
        }
    }

    mutating func skipWhitespaceCommentsAndNewlines() throws(TOMLParseError) {
        while true {
            skipWhitespace()
            switch peek() {
            case .lf, .cr: try consumeNewline()
            case .hash: try skipComment()
            default: return
            }
        }
    }

    // MARK: Positions and errors

    func peek(_ offset: Int = 0) -> UInt8? {
        let i = pos + offset
        return i < bytes.count ? bytes[i] : nil
    }

    /// 1-based line of a byte offset.
    func line(of offset: Int) -> Int {
        // The last line start that is <= offset.
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low + 1
    }

    /// 1-based column of a byte offset, counted in Unicode scalars as editors show them.
    func column(of offset: Int) -> Int {
        let start = lineStarts[line(of: offset) - 1]
        var column = 1
        for b in bytes[start..<min(offset, bytes.count)] where b & 0xC0 != 0x80 {
            column += 1
        }
        return column
    }

    func error(_ message: String) -> TOMLParseError {
        error(at: pos, message)
    }

    func error(at offset: Int, _ message: String) -> TOMLParseError {
        TOMLParseError(line: line(of: offset), column: column(of: offset), message: message)
    }

    /// What is at the current position, for "found ..." in messages.
    func describeHere() -> String {
        guard let b = peek() else { return "end of input" }
        switch b {
        case .lf, .cr: return "end of line"
        case 0x21...0x7E: return "'\(Character(Unicode.Scalar(b)))'"
        case 0x80...:
            var end = pos + 1
            while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
            return "'\(String(decoding: bytes[pos..<end], as: UTF8.self))'"
        default: return Self.unicodeName(b)
        }
    }

    static func unicodeName(_ b: UInt8) -> String {
        let hex = String(b, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: 4 - hex.count) + hex
    }

    /// A key path as it would be written, quoting parts that are not bare keys.
    static func display<C: Collection>(_ names: C) -> String where C.Element == String {
        names.map { name in
            if !name.isEmpty && name.utf8.allSatisfy(\.isBareKeyByte) { return name }
            var quoted = "\""
            for scalar in name.unicodeScalars {
                switch scalar {
                case "\"": quoted += "\\\""
                case "\\": quoted += "\\\\"
                default: quoted.unicodeScalars.append(scalar)
                }
            }
            return quoted + "\""
        }.joined(separator: ".")
    }

    static func kind(of node: TOMLNode) -> String {
        if case .table = node.value { return "an inline table" }
        return node.value.kindDescription
    }
}

extension UInt8 {
    static let tab = UInt8(ascii: "\t")
    static let lf = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let hash = UInt8(ascii: "#")
    static let quote = UInt8(ascii: "\"")
    static let apostrophe = UInt8(ascii: "'")
    static let backslash = UInt8(ascii: "\\")
    static let equals = UInt8(ascii: "=")
    static let dot = UInt8(ascii: ".")
    static let comma = UInt8(ascii: ",")
    static let lbracket = UInt8(ascii: "[")
    static let rbracket = UInt8(ascii: "]")
    static let lbrace = UInt8(ascii: "{")
    static let rbrace = UInt8(ascii: "}")

    /// A-Z a-z 0-9 _ -
    var isBareKeyByte: Bool {
        switch self {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }

    /// Control characters TOML forbids in strings and comments (everything but tab).
    var isForbiddenControl: Bool { (self < 0x20 && self != .tab) || self == 0x7F }
}
