internal import COpenSSL

/// Arithmetic modulo p = 2^255 - 19, the field of edwards25519, on 32-byte little-endian
/// integers (the byte order of RFC 8032 encodings), through OpenSSL's BIGNUM.
///
/// Not for signatures (OpenSSL verifies those): it derives the small-order points once, checks
/// that a public key's y has a point on the curve, and lets tests apply the group law. An
/// instance owns a BN_CTX, so it belongs to one thread at a time.
final class Ed25519Field {
    private let ctx: OpaquePointer
    private let p: OpaquePointer

    /// p = 2^255 - 19, little-endian.
    static let modulus: [UInt8] = [0xED] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]

    init?() {
        guard let ctx = BN_CTX_new() else {
            drainOpenSSLErrors()
            return nil
        }
        guard let p = Self.modulus.withUnsafeBufferPointer({ BN_lebin2bn($0.baseAddress, 32, nil) }) else {
            drainOpenSSLErrors()
            BN_CTX_free(ctx)
            return nil
        }
        self.ctx = ctx
        self.p = p
    }

    deinit {
        BN_free(p)
        BN_CTX_free(ctx)
    }

    /// `n` as a field element.
    static func number(_ n: UInt64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        for i in 0..<8 { out[i] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(i))) }
        return out
    }

    func add(_ a: [UInt8], _ b: [UInt8]) -> [UInt8]? { binary(a, b, BN_mod_add) }
    func sub(_ a: [UInt8], _ b: [UInt8]) -> [UInt8]? { binary(a, b, BN_mod_sub) }
    func mul(_ a: [UInt8], _ b: [UInt8]) -> [UInt8]? { binary(a, b, BN_mod_mul) }
    func negate(_ a: [UInt8]) -> [UInt8]? { sub(Self.number(0), a) }

    /// a / b, or nil when b is 0.
    func div(_ a: [UInt8], _ b: [UInt8]) -> [UInt8]? {
        guard let inverse = unary(b, { r, x, p, ctx in BN_mod_inverse(r, x, p, ctx) != nil ? 1 : 0 }) else { return nil }
        return mul(a, inverse)
    }

    /// A square root of `a`, or nil when `a` is not a square modulo p.
    func sqrt(_ a: [UInt8]) -> [UInt8]? {
        guard let r = unary(a, { r, x, p, ctx in BN_mod_sqrt(r, x, p, ctx) != nil ? 1 : 0 }) else { return nil }
        // BN_mod_sqrt's result is only meaningful for a square: check it.
        guard mul(r, r) == reduce(a) else { return nil }
        return r
    }

    /// `a` reduced modulo p (a 32-byte value may be up to 2^256 - 1).
    func reduce(_ a: [UInt8]) -> [UInt8]? { add(a, Self.number(0)) }

    private typealias BinaryOp = (OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?) -> Int32
    private typealias UnaryOp = (OpaquePointer, OpaquePointer, OpaquePointer, OpaquePointer) -> Int32

    private func binary(_ a: [UInt8], _ b: [UInt8], _ op: BinaryOp) -> [UInt8]? {
        guard let x = bn(a) else { return nil }
        defer { BN_free(x) }
        guard let y = bn(b) else { return nil }
        defer { BN_free(y) }
        guard let r = BN_new() else { drainOpenSSLErrors(); return nil }
        defer { BN_free(r) }
        guard op(r, x, y, p, ctx) == 1 else { drainOpenSSLErrors(); return nil }
        return bytes(r)
    }

    private func unary(_ a: [UInt8], _ op: UnaryOp) -> [UInt8]? {
        guard let x = bn(a) else { return nil }
        defer { BN_free(x) }
        guard let r = BN_new() else { drainOpenSSLErrors(); return nil }
        defer { BN_free(r) }
        guard op(r, x, p, ctx) == 1 else { drainOpenSSLErrors(); return nil }
        return bytes(r)
    }

    private func bn(_ a: [UInt8]) -> OpaquePointer? {
        precondition(a.count == 32, "field elements are 32 bytes")
        let n = a.withUnsafeBufferPointer { BN_lebin2bn($0.baseAddress, 32, nil) }
        if n == nil { drainOpenSSLErrors() }
        return n
    }

    private func bytes(_ n: OpaquePointer) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 32)
        let written = out.withUnsafeMutableBufferPointer { BN_bn2lebinpad(n, $0.baseAddress, 32) }
        guard written == 32 else { drainOpenSSLErrors(); return nil }
        return out
    }
}
