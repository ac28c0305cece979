import AuthzCrypto
import AuthzJSON
import AuthzText

/// A JWK set (RFC 7517 §5) reduced to the keys usable for signature verification.
///
/// Keys this verifier cannot or must not use are skipped, never fatal, so that one exotic key in
/// an identity provider's set does not take every other key down with it. Each skip is recorded
/// with its reason for the logs. Private members (`d`, `p`, `q`, ...) are never read.
public struct JWKSet: Sendable {
    /// The usable keys, in document order.
    public let keys: [VerificationKey]
    /// One line per skipped key: its position, its kid when it has one (escaped, at most
    /// ``maxLoggedKidLength`` characters), and why.
    public let skipped: [String]

    /// The smallest RSA modulus accepted (RFC 7518 §3.3 requires 2048 bits).
    public static let minRSABits = 2048

    public init(keys: [VerificationKey], skipped: [String] = []) {
        self.keys = keys
        self.skipped = skipped
    }

    /// Parses a JWK set document. Throws `invalidKeySet` only when the document itself is not a
    /// JSON object with a `keys` array; individual bad keys are skipped.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JOSEError) -> JWKSet {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes, options: .init(rejectDuplicateKeys: true, maxDepth: 16))
        } catch {
            throw JOSEError(.invalidKeySet, "key set is not valid JSON: \(error.message)")
        }
        guard let object = document.objectValue else { throw JOSEError(.invalidKeySet, "key set is not a JSON object") }
        guard let entries = object["keys"]?.arrayValue else {
            throw JOSEError(.invalidKeySet, "key set has no keys array")
        }
        var keys: [VerificationKey] = []
        var skipped: [String] = []
        for (index, entry) in entries.enumerated() {
            switch JWK.verificationKey(from: entry) {
            case .success(let key):
                keys.append(key)
            case .failure(let reason):
                var label = "key #\(index)"
                if let kid = entry["kid"]?.stringValue { label += " (kid \(Self.loggable(kid: kid)))" }
                skipped.append("\(label): \(reason.text)")
            }
        }
        return JWKSet(keys: keys, skipped: skipped)
    }

    /// The longest part of a kid a skip line quotes.
    static let maxLoggedKidLength = 64

    /// A kid as a skip line shows it: the key set is fetched from elsewhere, so the kid is
    /// shortened, escaped (``LogText/field(_:)``) and quoted before it can reach a log record.
    static func loggable(kid: String) -> String {
        let short = kid.count > maxLoggedKidLength ? String(kid.prefix(maxLoggedKidLength)) + "…" : kid
        let field = LogText.field(short)
        // Always quoted, as skip lines have written kids; `field` quotes only when it must, and a
        // quoted result is the only kind that starts with a quote.
        return field.hasPrefix("\"") ? field : "\"" + field + "\""
    }

    /// The keys that may verify a token with `algorithm` and `kid`. With a kid, only keys with that
    /// exact kid; without one, every key that serves the algorithm.
    public func keys(for algorithm: JWSAlgorithm, kid: String?) -> [VerificationKey] {
        keys.filter { key in
            guard key.canServe(algorithm) else { return false }
            guard let kid else { return true }
            return key.kid == kid
        }
    }

    /// Whether any key carries `kid`, whatever its algorithms (to tell an unknown kid from a
    /// kid whose key does not serve the token's algorithm).
    public func contains(kid: String) -> Bool {
        keys.contains { $0.kid == kid }
    }
}
