import AuthzCrypto

/// What the answer cache is keyed by instead of the token: HMAC-SHA256 of the token under a key
/// drawn at random for each cache, so neither the map nor a memory dump holds a token, and the
/// digests cannot be checked against guessed tokens without that key.
struct TokenDigest: Hashable, Sendable {
    let a: UInt64, b: UInt64, c: UInt64, d: UInt64

    /// Digests under one random key.
    struct Keyed: Sendable {
        private let key: HMACKey

        init() {
            var rng = SystemRandomNumberGenerator()
            key = HMACKey(algorithm: .sha256, key: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }

        func digest(_ token: String) -> TokenDigest {
            var t = token
            let mac = t.withUTF8 { key.mac(UnsafeRawBufferPointer($0)) }
            func word(_ i: Int) -> UInt64 { mac[i..<i + 8].reduce(0) { $0 << 8 | UInt64($1) } }
            return TokenDigest(a: word(0), b: word(8), c: word(16), d: word(24))
        }
    }
}
