import AuthzText

/// A step's `match` (SPEC §8): which requests the step runs for. Either list may be absent
/// (anything matches it) but not both; a request must match every list that is present.
public struct StepMatch: Sendable {
    /// Methods in uppercase; nil: any method.
    public let methods: [String]?
    /// Compiled patterns; nil: any path. A path matches when one pattern does.
    public let paths: [PathPattern]?

    public init(methods: [String]?, paths: [PathPattern]?) {
        self.methods = methods.map { $0.map { $0.uppercased() } }
        self.paths = paths
    }

    /// Whether the step runs for this request. `path` is the request's normalised path, which the
    /// chain computes once per request when any step has `paths`; a request without the method
    /// or path a list needs never gets here (the chain refuses it as `bad_request`).
    public func matches(method: String?, path: RequestPath?) -> Bool {
        if let methods {
            guard let method, methods.contains(where: { Self.equalIgnoringASCIICase($0, method) }) else { return false }
        }
        if let paths {
            guard let path, paths.contains(where: { $0.matches(path) }) else { return false }
        }
        return true
    }

    /// `upper` is already uppercase; compares bytes without allocating.
    static func equalIgnoringASCIICase(_ upper: String, _ other: String) -> Bool {
        guard upper.utf8.count == other.utf8.count else { return false }
        return zip(upper.utf8, other.utf8).allSatisfy { a, b in
            a == ((b >= 0x61 && b <= 0x7A) ? b - 0x20 : b)
        }
    }

    /// An RFC 9110 method token of at most 32 bytes.
    public static func isMethodToken(_ s: String) -> Bool {
        s.utf8.count <= 32 && HTTPField.isToken(s)
    }
}
