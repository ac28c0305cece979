/// Request headers with case-insensitive names. Names are stored lowercased once, when the request
/// is decoded, so lookups on the hot path are plain byte comparisons.
public struct Headers: Sendable, Equatable {
    public private(set) var entries: [(name: String, value: String)]

    public init() { entries = [] }

    /// Builds from pairs; names are lowercased here.
    public init(_ pairs: [(String, String)]) {
        entries = []
        entries.reserveCapacity(pairs.count)
        for (n, v) in pairs { append(name: n, value: v) }
    }

    /// Adds a header; the name is lowercased.
    public mutating func append(name: String, value: String) {
        entries.append((Headers.lowercase(name), value))
    }

    /// The value of a header, by any spelling of its name.
    public subscript(name: String) -> String? {
        let key = Headers.lowercase(name)
        for e in entries where e.name == key { return e.value }
        return nil
    }

    public var count: Int { entries.count }

    public static func == (lhs: Headers, rhs: Headers) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// ASCII lowercase; returns the same string when it has no capitals (the common case).
    @inlinable
    public static func lowercase(_ s: String) -> String {
        var hasUpper = false
        for b in s.utf8 where b >= 0x41 && b <= 0x5A {
            hasUpper = true
            break
        }
        return hasUpper ? s.lowercased() : s
    }
}
