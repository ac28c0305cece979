internal import COpenSSL

/// An HMAC key, prepared once and shared read-only by any number of threads.
///
/// The key schedule is done in `init` on a template `EVP_MAC_CTX`; each computation duplicates
/// that template, so the hot path pays for a context copy, never for key setup or an algorithm
/// fetch. The template is never mutated after `init`, which is what makes concurrent use safe.
public final class HMACKey: @unchecked Sendable {
    /// The hash function this key uses.
    public let algorithm: HashFunction
    /// The length in bytes of a full MAC.
    public var macByteCount: Int { algorithm.byteCount }

    /// EVP_MAC_CTX*, keyed; read-only after init.
    private let template: OpaquePointer

    /// Prepares `key` for HMAC with `algorithm`. Any key length is accepted here; minimum lengths
    /// are a configuration policy.
    public init(algorithm: HashFunction, key: [UInt8]) {
        self.algorithm = algorithm
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else {
            fatalError("OpenSSL has no HMAC implementation")
        }
        defer { EVP_MAC_free(mac) }
        guard let ctx = EVP_MAC_CTX_new(mac) else { fatalError("out of memory") }
        let ok = algorithm.openSSLName.withCString { name in
            let digestName = UnsafeMutablePointer(mutating: name)
            var params = [
                OSSL_PARAM_construct_utf8_string(authzd_PARAM_MAC_DIGEST(), digestName, 0),
                OSSL_PARAM_construct_end(),
            ]
            return key.withUnsafeBufferPointer { k in
                // A zero-length key must still be passed as a non-null pointer: null means
                // "keep the previous key", and there is none.
                EVP_MAC_init(ctx, k.baseAddress ?? UnsafePointer(emptyByte), k.count, &params)
            }
        }
        guard ok == 1 else {
            drainOpenSSLErrors()
            EVP_MAC_CTX_free(ctx)
            fatalError("HMAC initialisation failed")
        }
        template = ctx
    }

    deinit {
        EVP_MAC_CTX_free(template)
    }

    /// Computes the MAC of `data` into `out`, which must hold `macByteCount` bytes.
    /// Returns false only if OpenSSL fails (out of memory).
    private func compute(_ data: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Bool {
        guard let ctx = EVP_MAC_CTX_dup(template) else {
            drainOpenSSLErrors()
            return false
        }
        defer { EVP_MAC_CTX_free(ctx) }
        let input = data.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(emptyByte)
        var written = 0
        guard EVP_MAC_update(ctx, input, data.count) == 1,
              EVP_MAC_final(ctx, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &written, out.count) == 1,
              written == out.count
        else {
            drainOpenSSLErrors()
            return false
        }
        return true
    }

    /// The MAC of `data`.
    public func mac(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: macByteCount) { buf, count in
            if compute(data, into: UnsafeMutableRawBufferPointer(buf)) {
                count = macByteCount
            } else {
                fatalError("HMAC computation failed")
            }
        }
    }

    /// The MAC of `data`.
    public func mac(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { mac($0) }
    }

    /// Whether `mac` is the full MAC of `data`, compared in constant time. A truncated or
    /// over-long MAC is never valid.
    public func isValid(mac: UnsafeRawBufferPointer, for data: UnsafeRawBufferPointer) -> Bool {
        let n = macByteCount
        guard mac.count == n else { return false }
        // At most 64 bytes: a stack buffer keeps the hot path free of heap allocation.
        return withUnsafeTemporaryAllocation(byteCount: n, alignment: 1) { expected in
            guard compute(data, into: expected) else { return false }
            return CRYPTO_memcmp(expected.baseAddress!, mac.baseAddress!, n) == 0
        }
    }

    /// Whether `mac` is the full MAC of `data`, compared in constant time.
    public func isValid(mac: [UInt8], for data: [UInt8]) -> Bool {
        mac.withUnsafeBytes { m in data.withUnsafeBytes { d in isValid(mac: m, for: d) } }
    }
}
