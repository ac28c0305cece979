import AuthzText

/// One `match.paths` entry, compiled at load time: literal segments, `*` (exactly one segment)
/// and `**` (any number of segments, none included). It is compared with a `RequestPath`'s
/// decoded segments, and its literals are normalised and decoded the same way, so `%7e` and `~`,
/// or `%28` and `(`, are one character to a rule as they are to the container.
public struct PathPattern: Sendable, Equatable, CustomStringConvertible {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case one
        case any
    }

    /// Why a pattern is refused (the configuration layer adds file and line).
    public struct Invalid: Error, Sendable, Equatable {
        public let message: String
    }

    /// The pattern as configured.
    public let text: String
    let segments: [Segment]

    public var description: String { text }

    /// Compiles a pattern: it starts with `/`, has no empty segment (`/` alone is the root),
    /// uses `*` and `**` only as whole segments, and holds nothing a normalised path cannot
    /// (`.` or `..` segments, `;`, `?`, `#`, `\`, control characters, `%2F`, malformed escapes).
    public init(_ text: String) throws(Invalid) {
        self.text = text
        guard text.hasPrefix("/") else { throw Invalid(message: "must start with '/'") }
        if text == "/" {
            segments = []
            return
        }
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: ";"): throw Invalid(message: "must not hold ';' (path parameters are removed before matching)")
            case UInt8(ascii: "?"): throw Invalid(message: "must not hold '?' (the query is not matched)")
            default: continue
            }
        }
        var out: [Segment] = []
        for part in text.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            let s = String(decoding: part, as: UTF8.self)
            switch s {
            case "":
                throw Invalid(message: "must not have an empty segment ('//' or a trailing '/')")
            case "**":
                out.append(.any)
            case "*":
                out.append(.one)
            case _ where s.contains("*"):
                throw Invalid(message: "'*' and '**' must be a whole segment, not part of \"\(s)\"")
            default:
                let normalised: RequestPath
                do {
                    normalised = try RequestPath(normalizing: "/" + s)
                } catch where error.code == .aboveRoot {
                    throw Invalid(message: "must not have '.' or '..' segments")
                } catch {
                    throw Invalid(message: "segment \"\(s)\" cannot be normalised: \(error.message)")
                }
                guard normalised.segments.count == 1, !normalised.text.hasSuffix("/") else {
                    throw Invalid(message: "must not have '.' or '..' segments")
                }
                out.append(.literal(normalised.segments[0]))
            }
        }
        segments = out
    }

    /// Whether a normalised path's segments fit the pattern. `**` is tried the way a glob tries
    /// `*`: remember the last one and, on a mismatch, let it take one more segment; this is
    /// O(pattern × path) at worst, whatever the number of `**`.
    public func matches(_ path: RequestPath) -> Bool {
        let p = segments
        let s = path.segments
        var i = 0, j = 0
        var star: Int? = nil
        var starTaken = 0
        while j < s.count {
            if i < p.count {
                switch p[i] {
                case .any:
                    star = i
                    starTaken = j
                    i += 1
                    continue
                case .one:
                    i += 1
                    j += 1
                    continue
                case .literal(let l) where l == s[j]:
                    i += 1
                    j += 1
                    continue
                case .literal:
                    break
                }
            }
            guard let st = star else { return false }
            i = st + 1
            starTaken += 1
            j = starTaken
        }
        while i < p.count, p[i] == .any { i += 1 }
        return i == p.count
    }
}
