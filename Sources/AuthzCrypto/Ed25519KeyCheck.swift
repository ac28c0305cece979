/// Refuses Ed25519 public keys that a signature could be forged against, or that have more than
/// one encoding.
///
/// An encoding (RFC 8032 §5.1.2) is y, 255 bits little-endian, with the sign of x (its low bit)
/// in bit 255. Edwards25519 is -x² + y² = 1 + d·x²·y² over p = 2^255 - 19 with
/// d = -121665/121666; its group has 8·ℓ elements (ℓ prime), so eight points have an order
/// dividing 8. A public key A that is one of them makes [k]A the same few points whatever k (the
/// hash of the message) is: with A the identity, R = identity and S = 0 (the signature `01` then
/// 63 zero bytes) satisfy [S]B = R + [k]A for every message. Such a key is refused, as is every
/// encoding that is not the canonical one of its point.
///
/// The eight points, derived from the curve (not copied from a list):
/// - order 1: the identity (0, 1);
/// - order 2: (0, -1), since doubling is 2(x, y) = (2xy / (y² - x²), (y² + x²) / (2 - y² + x²));
/// - order 4: the points that double to (0, -1) have 2xy = 0; x = 0 gives the two above, so
///   y = 0 and then -x² = 1: (±√-1, 0);
/// - order 8: the points that double to (±√-1, 0) have y² + x² = 0, so x² = -y²; with u = y² the
///   curve equation becomes u + u = 1 - d·u², i.e. d·u² + 2u - 1 = 0, u = (-1 ± √(1+d)) / d.
///   Exactly one of the two roots is a square (their product -1/d is not, as -1 is a square
///   modulo p and d is not); its roots ±y8, each with x = ±√-u, give four points.
///
/// So a point has small order exactly when its y is 1, p - 1, 0, y8 or p - y8 (either sign of
/// x); those y values are computed from d once (``smallOrderY``).
///
/// Non-canonical encodings, refused whatever point they name:
/// - y ≥ p: y has 255 bits, so y = p + k for k in 0...18 is a second encoding of k. Among the
///   small-order y values only 0 and 1 are below 19, so (±√-1, 0) can also be written with
///   y = p and the identity with y = p + 1;
/// - x = 0 with the sign bit set: RFC 8032 §5.1.3 step 4 rejects it, but implementations that
///   just negate x accept a second encoding of (0, 1) and (0, -1). x = 0 exactly when y² = 1.
///
/// A y for which no x exists (not a point at all) is refused too, as EC points off their curve
/// are.
enum Ed25519KeyCheck {
    /// y values (32-byte little-endian, reduced) of the points of order dividing 8, with each
    /// order: 1, p - 1 (2), 0 (4), y8 and p - y8 (8). Nil only if OpenSSL could not compute
    /// them, and then every Ed25519 key is refused (fail closed).
    static let smallOrderY: [(y: [UInt8], order: Int)]? = {
        guard let f = Ed25519Field() else { return nil }
        let one = Ed25519Field.number(1)
        let zero = Ed25519Field.number(0)
        guard let d = f.div(f.negate(Ed25519Field.number(121665)) ?? [], Ed25519Field.number(121666)),
              let minusOne = f.negate(one),
              let s = f.sqrt(f.add(one, d) ?? []),
              let minusS = f.negate(s)
        else { return nil }
        // u = (-1 ± √(1+d)) / d: the root that is a square.
        var y8: [UInt8]?
        for root in [s, minusS] {
            if let u = f.div(f.add(minusOne, root) ?? [], d), let y = f.sqrt(u) {
                y8 = y
                break
            }
        }
        guard let y8, let minusY8 = f.negate(y8) else { return nil }
        return [(one, 1), (minusOne, 2), (zero, 4), (y8, 8), (minusY8, 8)]
    }()

    /// Why `encoded` (32 bytes) must not be used as an Ed25519 public key, or nil if it may.
    static func refusal(_ encoded: [UInt8]) -> String? {
        precondition(encoded.count == 32)
        guard let smallOrder = smallOrderY, let f = Ed25519Field() else {
            return "Ed25519 public key cannot be checked (OpenSSL arithmetic failed)"
        }
        var y = encoded
        let xIsOdd = y[31] & 0x80 != 0
        y[31] &= 0x7F
        guard isBelowModulus(y) else {
            let reduced = f.reduce(y)
            let alias = smallOrder.first { $0.y == reduced }.map { ", and names a point of small order \($0.order)" } ?? ""
            return "Ed25519 public key is not canonical: y is not below 2^255-19\(alias)"
        }
        let one = Ed25519Field.number(1)
        guard let y2 = f.mul(y, y), let num = f.sub(y2, one),
              let d = f.div(f.negate(Ed25519Field.number(121665)) ?? [], Ed25519Field.number(121666)),
              let den = f.add(f.mul(d, y2) ?? [], one)
        else { return "Ed25519 public key cannot be checked (OpenSSL arithmetic failed)" }
        if xIsOdd, num == Ed25519Field.number(0) {
            return "Ed25519 public key is not canonical: x is 0 but its sign bit is set"
        }
        if let small = smallOrder.first(where: { $0.y == y }) {
            return "Ed25519 public key is a point of small order \(small.order): one fixed signature would verify every message"
        }
        // x² = (y² - 1) / (d·y² + 1); d·y² + 1 is never 0 since d is not a square.
        guard let x2 = f.div(num, den), f.sqrt(x2) != nil else {
            return "Ed25519 public key is not a point on the curve"
        }
        return nil
    }

    /// Whether a 255-bit little-endian y is below p = 2^255 - 19.
    private static func isBelowModulus(_ y: [UInt8]) -> Bool {
        let p = Ed25519Field.modulus
        for i in stride(from: 31, through: 0, by: -1) where y[i] != p[i] {
            return y[i] < p[i]
        }
        return false
    }
}
