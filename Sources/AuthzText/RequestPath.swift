/// A request path normalised the way a servlet container (Tomcat) routes it, so that a rule
/// written for `/LiveApp/rest/v2/broadcasts/**` judges the path the application will serve and
/// not one of its many spellings (SPEC §8). This is the one implementation of that rule: authzd
/// uses it for per-step `match.paths`, and the nginx shim can use the same function.
///
/// From the request target, in this order:
/// 1. the query (from the first `?`) is removed;
/// 2. the rest is refused if it does not start with `/`, or holds `#`, a raw `\`, a control
///    character (raw or encoded, NUL and C1 controls included), a malformed escape, `%2F` or
///    `%5C` (a separator in disguise), or percent-encoded bytes that are not UTF-8;
/// 3. each segment loses its `;` path parameters (`/a;x/b` is `/a/b`, `..;` is `..`), as Tomcat
///    strips them from the raw path before decoding (so `%3B` is a literal `;`, not a separator);
/// 4. escapes of unreserved characters (`A-Z a-z 0-9 - . _ ~`) are decoded, other escapes kept
///    with uppercase hex (`%2e` is `.`, `%c3%a9` is `%C3%A9`);
/// 5. empty segments are merged (`//` is `/`), `.` segments removed and `..` segments resolved
///    (RFC 3986 §5.2.4); a `..` above the root is refused.
///
/// `segments` are what the container hands the application: every escape decoded (`%28` and
/// `(` are the same segment to Tomcat, so they must be the same to a rule). Decoding cannot
/// make a separator or a control character (both refused), and `%3B` decodes to a `;` that is
/// part of the name. A trailing slash is kept in `text` (`/a/` and `/a` are different resources
/// to a container) but adds no segment: `segments` holds the non-empty segments only. As in Tomcat (and unlike
/// RFC 3986), a final `.` or `..` segment leaves no trailing slash: `/a/b/..` is `/a`.
public struct RequestPath: Sendable, Equatable, CustomStringConvertible {
    /// The normalised path: starts with `/`, no query, no parameters, no dot or empty segments.
    public let text: String
    /// The segments of `text` with every escape decoded, without the slashes; a trailing slash
    /// adds none. Rules compare these.
    public let segments: [String]

    public var description: String { text }

    /// Normalises a request target (a path, query allowed) or says why it cannot be.
    public init(normalizing target: String) throws(RequestPathError) {
        var bytes = Array(target.utf8)
        if let q = bytes.firstIndex(of: UInt8(ascii: "?")) { bytes.removeSubrange(q...) }
        try Self.validate(bytes)
        var resolved: [[UInt8]] = []
        var trailingSlash = false
        // The first byte is the leading "/": every later slash starts a segment.
        let raw = bytes[1...].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (i, rawSegment) in raw.enumerated() {
            let isLast = i == raw.count - 1
            let kept = rawSegment.prefix { $0 != UInt8(ascii: ";") }
            let segment = Self.decodeUnreserved(kept)
            switch segment {
            case []:
                if isLast { trailingSlash = true }
            case [UInt8(ascii: ".")]:
                break
            case [UInt8(ascii: "."), UInt8(ascii: ".")]:
                guard !resolved.isEmpty else {
                    throw RequestPathError(.aboveRoot, "a '..' segment climbs above the root")
                }
                resolved.removeLast()
            default:
                resolved.append(segment)
            }
        }
        segments = resolved.map(Self.decodeAll)
        var text = "/" + resolved.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
        if trailingSlash, !segments.isEmpty { text += "/" }
        self.text = text
    }

    /// The checks that make the result well defined: run on the whole path (path parameters
    /// included, though they are dropped later) so that nothing hides behind a `;`.
    private static func validate(_ path: [UInt8]) throws(RequestPathError) {
        guard path.first == UInt8(ascii: "/") else {
            throw RequestPathError(.notAbsolute, "the path does not start with '/'")
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(path.count)
        var i = 0
        while i < path.count {
            let c = path[i]
            switch c {
            case 0..<0x20, 0x7F:
                throw RequestPathError(.controlCharacter, "the path holds a control character")
            case UInt8(ascii: "\\"):
                throw RequestPathError(.backslash, "the path holds a '\\'")
            case UInt8(ascii: "#"):
                throw RequestPathError(.fragment, "the path holds '#' (a request target has no fragment)")
            case UInt8(ascii: "%"):
                guard i + 2 < path.count, let hi = hexValue(path[i + 1]), let lo = hexValue(path[i + 2]) else {
                    throw RequestPathError(.malformedEscape, "the path holds '%' not followed by two hex digits")
                }
                let v = hi << 4 | lo
                switch v {
                case UInt8(ascii: "/"), UInt8(ascii: "\\"):
                    throw RequestPathError(.encodedSeparator, "the path holds an encoded '/' or '\\' (%2F, %5C)")
                case 0..<0x20, 0x7F:
                    throw RequestPathError(.controlCharacter, "the path holds an encoded control character")
                default:
                    decoded.append(v)
                }
                i += 3
                continue
            default:
                decoded.append(c)
            }
            i += 1
        }
        // What a container decodes must be text, and no C1 control hides in a multi-byte form.
        guard let text = String(validating: decoded, as: UTF8.self) else {
            throw RequestPathError(.invalidUTF8, "the path's percent-encoded bytes are not UTF-8")
        }
        if text.unicodeScalars.contains(where: { (0x80...0x9F).contains($0.value) }) {
            throw RequestPathError(.controlCharacter, "the path holds a control character")
        }
    }

    /// One segment with unreserved escapes decoded and the others in uppercase hex (escapes are
    /// known to be well formed: `validate` ran first).
    private static func decodeUnreserved(_ segment: ArraySlice<UInt8>) -> [UInt8] {
        guard segment.contains(UInt8(ascii: "%")) else { return Array(segment) }
        var out: [UInt8] = []
        out.reserveCapacity(segment.count)
        var i = segment.startIndex
        while i < segment.endIndex {
            let c = segment[i]
            guard c == UInt8(ascii: "%"), let hi = hexValue(segment[i + 1]), let lo = hexValue(segment[i + 2]) else {
                out.append(c)
                i += 1
                continue
            }
            let v = hi << 4 | lo
            if isUnreserved(v) {
                out.append(v)
            } else {
                out.append(c)
                out.append(hexDigit(hi))
                out.append(hexDigit(lo))
            }
            i += 3
        }
        return out
    }

    /// A normalised segment with every escape decoded (escapes are well formed and the result
    /// is UTF-8: `validate` ran first).
    private static func decodeAll(_ segment: [UInt8]) -> String {
        guard segment.contains(UInt8(ascii: "%")) else { return String(decoding: segment, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(segment.count)
        var i = 0
        while i < segment.count {
            if segment[i] == UInt8(ascii: "%"), i + 2 < segment.count,
               let hi = hexValue(segment[i + 1]), let lo = hexValue(segment[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(segment[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986 §2.3: `ALPHA DIGIT - . _ ~`.
    static func isUnreserved(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
            || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "~")
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 {
        v < 10 ? 0x30 + v : 0x41 + v - 10
    }
}
