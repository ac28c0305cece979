import AuthzText

/// The path normaliser behind `match.paths` (SPEC §8), which sees every request target a client
/// cares to send: a spelling that normalises differently from the container lets a rule be
/// bypassed. Beyond "no crash": the result is a fixed point and holds nothing a container could
/// read as another separator; a refusal carries one of the documented codes; and the result or
/// refusal equals `PathModel`, an independent reading of the same rules (string rewriting and
/// RFC 3986 §5.2.4's dot-segment removal, instead of the segment stack the parser uses).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestPath(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // Raw bytes that are not UTF-8 never reach the parser (its input is a String); a
    // replacement character stands for them, as it does for a header value NIO hands over.
    let target = String(decoding: bytes, as: UTF8.self)
    let expected = PathModel.normalise(target)
    let path: RequestPath
    do {
        path = try RequestPath(normalizing: target)
    } catch {
        guard RequestPathInvariants.knownCodes.contains(error.code.description) else {
            fatalError("refused with an undocumented code \(error.code)")
        }
        guard !error.message.isEmpty else { fatalError("refused without a message") }
        guard case .refused(let code) = expected, code == error.code.description else {
            fatalError("parser refused \(target.debugDescription) with \(error.code), model says \(expected)")
        }
        return 0
    }
    guard case .normalised(let text, let segments) = expected else {
        fatalError("parser normalised \(target.debugDescription) to \(path.text.debugDescription), model says \(expected)")
    }
    guard path.text == text else {
        fatalError("\(target.debugDescription) normalised to \(path.text.debugDescription), model says \(text.debugDescription)")
    }
    guard path.segments == segments else {
        fatalError("\(target.debugDescription) gave segments \(path.segments), model says \(segments)")
    }
    RequestPathInvariants.check(path, from: target)
    return 0
}

/// What holds for every normalised path, whatever the model says. Checks work on UTF-8 bytes:
/// String comparisons go by grapheme cluster, and a combining mark after a `/` would hide it.
enum RequestPathInvariants {
    static let knownCodes: Set<String> = [
        "not_absolute", "fragment", "encoded_separator", "backslash", "control_character",
        "malformed_escape", "invalid_utf8", "above_root",
    ]

    static func check(_ path: RequestPath, from target: String) {
        let text = path.text
        let bytes = Array(text.utf8)
        func fail(_ why: String) -> Never {
            fatalError("\(target.debugDescription) normalised to \(text.debugDescription): \(why)")
        }
        guard bytes.first == 0x2F else { fail("does not start with /") }
        guard !Bytes.contains(bytes, "//") else { fail("holds //") }
        guard !bytes.contains(where: { ";?#\\".utf8.contains($0) }) else { fail("holds ; ? # or \\") }
        let pieces = bytes.split(separator: 0x2F, omittingEmptySubsequences: false).dropFirst()
        for segment in pieces {
            if segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8) { fail("holds a dot segment") }
        }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            fail("holds a control character")
        }
        let upper = bytes.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
        for bad in ["%2F", "%5C", "%00", "%2E"] where Bytes.contains(upper, bad) { fail("holds \(bad)") }
        // Escapes left in the text are well formed, uppercase and never of unreserved bytes.
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x25 {
                guard i + 2 < bytes.count, let hi = Bytes.upperHex(bytes[i + 1]), let lo = Bytes.upperHex(bytes[i + 2]) else {
                    fail("holds a malformed or lowercase escape")
                }
                if PathModel.isUnreserved(hi << 4 | lo) { fail("keeps an escape of an unreserved character") }
                i += 3
            } else {
                i += 1
            }
        }
        guard path.segments.count == bytes.split(separator: 0x2F).count else { fail("segments do not match the text") }
        // A fixed point: a normalised path normalises to itself.
        guard let again = try? RequestPath(normalizing: text) else { fail("is refused when normalised again") }
        guard again == path else { fail("normalises again to \(again.text.debugDescription)") }
    }
}

/// Byte-string helpers for the model and the invariants.
enum Bytes {
    static func contains(_ hay: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard hay.count >= n.count else { return false }
        return (0...(hay.count - n.count)).contains { hay[$0..<($0 + n.count)].elementsEqual(n) }
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46, 0x61...0x66: (c | 0x20) - 0x61 + 10
        default: nil
        }
    }

    static func upperHex(_ c: UInt8) -> UInt8? { c >= 0x61 ? nil : hex(c) }
}

/// SPEC §8 and `RequestPath`'s documented rules, written as byte-string rewriting.
enum PathModel {
    enum Outcome: CustomStringConvertible {
        case normalised(String, [String])
        case refused(String)

        var description: String {
            switch self {
            case .normalised(let t, let s): "normalised \(t.debugDescription) \(s)"
            case .refused(let c): "refused \(c)"
            }
        }
    }

    static func isUnreserved(_ v: UInt8) -> Bool {
        v < 0x80 && ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8.contains(v))
    }

    static func normalise(_ target: String) -> Outcome {
        // 1. The query goes.
        let path = Array(target.utf8.prefix { $0 != 0x3F })
        guard path.first == 0x2F else { return .refused("not_absolute") }
        // 2. Refusals, first offender in reading order; then what the decoded path must be.
        var decoded: [UInt8] = []
        var i = 0
        while i < path.count {
            let c = path[i]
            if c < 0x20 || c == 0x7F { return .refused("control_character") }
            if c == 0x5C { return .refused("backslash") }
            if c == 0x23 { return .refused("fragment") }
            if c == 0x25 {
                guard i + 2 < path.count, let hi = Bytes.hex(path[i + 1]), let lo = Bytes.hex(path[i + 2]) else {
                    return .refused("malformed_escape")
                }
                let v = hi * 16 + lo
                if v == 0x2F || v == 0x5C { return .refused("encoded_separator") }
                if v < 0x20 || v == 0x7F { return .refused("control_character") }
                decoded.append(v)
                i += 3
                continue
            }
            decoded.append(c)
            i += 1
        }
        guard let decodedText = String(validating: decoded, as: UTF8.self) else { return .refused("invalid_utf8") }
        if decodedText.unicodeScalars.contains(where: { $0.value >= 0x80 && $0.value <= 0x9F }) {
            return .refused("control_character")
        }
        // 3. Path parameters: from a raw ';' to the end of its segment.
        var stripped: [UInt8] = []
        var inParameter = false
        for c in path {
            if c == 0x2F { inParameter = false }
            if c == 0x3B { inParameter = true }
            if !inParameter { stripped.append(c) }
        }
        // 4. Escapes: unreserved decoded, the rest in uppercase hex.
        var unescaped: [UInt8] = []
        i = 0
        while i < stripped.count {
            if stripped[i] == 0x25 {
                let v = Bytes.hex(stripped[i + 1])! * 16 + Bytes.hex(stripped[i + 2])!
                if isUnreserved(v) {
                    unescaped.append(v)
                } else {
                    unescaped.append(0x25)
                    unescaped += [stripped[i + 1], stripped[i + 2]].map { $0 >= 0x61 ? $0 - 0x20 : $0 }
                }
                i += 3
            } else {
                unescaped.append(stripped[i])
                i += 1
            }
        }
        // 5. Repeated slashes merged, then dot segments (RFC 3986 §5.2.4), refusing a climb above
        // the root, which the RFC would silently clamp.
        var merged: [UInt8] = []
        for c in unescaped where !(c == 0x2F && merged.last == 0x2F) { merged.append(c) }
        guard let text = removeDotSegments(merged) else { return .refused("above_root") }
        let segments = text.split(separator: 0x2F).map { percentDecode(Array($0)) }
        return .normalised(String(decoding: text, as: UTF8.self), segments)
    }

    /// RFC 3986 §5.2.4 on an absolute path without empty segments; nil when a `..` finds no
    /// segment to remove. As in Tomcat, a path ending in `.` or `..` keeps no trailing slash.
    static func removeDotSegments(_ path: [UInt8]) -> [UInt8]? {
        func starts(_ s: ArraySlice<UInt8>, _ p: String) -> Bool { s.starts(with: p.utf8) }
        func equals(_ s: ArraySlice<UInt8>, _ p: String) -> Bool { s.elementsEqual(p.utf8) }
        var input = path[...]
        var output: [UInt8] = []
        while !input.isEmpty {
            if starts(input, "/./") {
                input = input.dropFirst(2)
            } else if equals(input, "/.") {
                input = Array("/".utf8)[...]
            } else if starts(input, "/../") || equals(input, "/..") {
                guard let slash = output.lastIndex(of: 0x2F) else { return nil }
                output.removeSubrange(slash...)
                input = equals(input, "/..") ? Array("/".utf8)[...] : input.dropFirst(3)
            } else {
                let end = input.dropFirst().firstIndex(of: 0x2F) ?? input.endIndex
                output += input[..<end]
                input = input[end...]
            }
        }
        if output.isEmpty { output = [0x2F] }
        let full = path[...]
        if (full.reversed().starts(with: "./".utf8) || full.reversed().starts(with: "../".utf8))
            && output != [0x2F] && output.last == 0x2F {
            output.removeLast()
        }
        return output
    }

    static func percentDecode(_ u: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            if u[i] == 0x25, i + 2 < u.count, let hi = Bytes.hex(u[i + 1]), let lo = Bytes.hex(u[i + 2]) {
                out.append(hi * 16 + lo)
                i += 3
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
