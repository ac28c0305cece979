import Testing

@testable import AuthzCrypto

/// edwards25519 points in affine coordinates, with the group law, for checking the key check
/// against points found independently of its closed forms.
private struct Curve {
    let f: Ed25519Field
    let d: [UInt8]
    let zero = Ed25519Field.number(0)
    let one = Ed25519Field.number(1)

    init() throws {
        f = try #require(Ed25519Field())
        // d = -121665 / 121666 (RFC 8032 §5.1).
        d = try #require(f.div(f.negate(Ed25519Field.number(121665))!, Ed25519Field.number(121666)))
    }

    typealias Point = (x: [UInt8], y: [UInt8])

    var identity: Point { (zero, one) }

    /// (x1, y1) + (x2, y2) on -x² + y² = 1 + d·x²·y² (complete: d is not a square).
    func add(_ a: Point, _ b: Point) -> Point {
        let x1y2 = f.mul(a.x, b.y)!, y1x2 = f.mul(a.y, b.x)!
        let y1y2 = f.mul(a.y, b.y)!, x1x2 = f.mul(a.x, b.x)!
        let t = f.mul(d, f.mul(x1x2, y1y2)!)!
        return (f.div(f.add(x1y2, y1x2)!, f.add(one, t)!)!, f.div(f.add(y1y2, x1x2)!, f.sub(one, t)!)!)
    }

    /// [k]P, k a big-endian byte string.
    func multiply(_ p: Point, by k: [UInt8]) -> Point {
        var r = identity
        for byte in k {
            for bit in (0..<8).reversed() {
                r = add(r, r)
                if byte >> bit & 1 == 1 { r = add(r, p) }
            }
        }
        return r
    }

    /// The point with this y and an even x, if there is one.
    func point(y: [UInt8]) -> Point? {
        let y2 = f.mul(y, y)!
        guard let x = f.sqrt(f.div(f.sub(y2, one)!, f.add(f.mul(d, y2)!, one)!)!) else { return nil }
        return (x[0] & 1 == 0 ? x : f.negate(x)!, y)
    }

    func encode(_ p: Point) -> [UInt8] {
        var e = p.y
        if p.x[0] & 1 == 1 { e[31] |= 0x80 }
        return e
    }

    func equal(_ a: Point, _ b: Point) -> Bool { a.x == b.x && a.y == b.y }
}

/// ℓ, the prime order of the base point's subgroup: 2^252 + 27742317777372353535851937790883648493
/// (RFC 8032 §5.1), big-endian.
private let groupOrder: [UInt8] = [0x10] + [UInt8](repeating: 0, count: 15)
    + [0x14, 0xDE, 0xF9, 0xDE, 0xA2, 0xF7, 0x9C, 0xD6, 0x58, 0x12, 0x63, 0x1A, 0x5C, 0xF5, 0xD3, 0xED]

@Suite struct Ed25519KeyCheckTests {
    /// The eight points of order dividing 8, found with the group law alone: for a point P of
    /// order 8ℓ, [ℓ]P generates the torsion subgroup, and its multiples are all eight.
    private func torsionPoints(_ c: Curve) throws -> [Curve.Point] {
        for candidate in 2..<64 {
            guard let p = c.point(y: Ed25519Field.number(UInt64(candidate))) else { continue }
            let t = c.multiply(p, by: groupOrder)
            let t4 = c.add(c.add(t, t), c.add(t, t))
            guard !c.equal(t4, c.identity) else { continue }
            var points = [c.identity]
            var q = t
            while !c.equal(q, c.identity) {
                points.append(q)
                q = c.add(q, t)
            }
            return points
        }
        throw CryptoError(.internalFailure, "no point of order 8ℓ among small y")
    }

    @Test func theEightSmallOrderPointsAndTheirOtherEncodingsAreRefused() throws {
        let c = try Curve()
        let points = try torsionPoints(c)
        #expect(points.count == 8)
        #expect(Set(points.map { c.encode($0) }).count == 8)
        for p in points {
            #expect(c.equal(c.multiply(p, by: [8]), c.identity))
        }
        // The closed forms the check uses name exactly these points' y values.
        let derived = try #require(Ed25519KeyCheck.smallOrderY)
        #expect(Set(derived.map(\.y)) == Set(points.map(\.y)))

        var encodings: [(bytes: [UInt8], canonical: Bool)] = points.map { (c.encode($0), true) }
        for p in points {
            var e = c.encode(p)
            // x = 0: the sign bit set is a second encoding.
            if p.x == c.zero {
                e[31] |= 0x80
                encodings.append((e, false))
            }
            // y + p still fits in 255 bits only for y < 19: y = 0 and y = 1 here.
            let y = p.y
            if y[1...].allSatisfy({ $0 == 0 }), y[0] < 19 {
                var big = Ed25519Field.modulus
                big[0] += y[0]
                if p.x[0] & 1 == 1 { big[31] |= 0x80 }
                encodings.append((big, false))
                if p.x == c.zero {
                    big[31] |= 0x80
                    encodings.append((big, false))
                }
            }
        }
        // 8 canonical; the identity has three more, (0, -1) one, (±√-1, 0) one each.
        #expect(encodings.count == 14)
        for (bytes, canonical) in encodings {
            do {
                _ = try PublicKey.ed25519(publicKey: bytes)
                Issue.record("accepted \(bytes)")
            } catch {
                #expect(error.code == .invalidKey)
                #expect(error.message.contains(canonical ? "small order" : "not canonical"), "\(error.message)")
            }
        }
    }

    @Test func theForgedSignatureVerifiesUnderTheIdentityKeyWhichIsRefused() throws {
        // x = "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA": y = 1, the identity.
        let identity = [UInt8(1)] + [UInt8](repeating: 0, count: 31)
        let forged = [UInt8(1)] + [UInt8](repeating: 0, count: 63)
        // What the check prevents: without it, one signature verifies any message.
        let unchecked = try PublicKey.uncheckedEd25519(publicKey: identity)
        for message in ["", "any payload", "{\"sub\":\"admin\"}"] {
            #expect(unchecked.verify(.edDSA, message: Array(message.utf8), signature: forged))
        }
        #expect(throws: CryptoError.self) { try PublicKey.ed25519(publicKey: identity) }
    }

    @Test func generatedKeysAreAccepted() throws {
        for _ in 0..<16 {
            let key = try PrivateKey(generating: .ed25519)
            guard case .ed25519(let bytes) = key.publicKey.components else {
                Issue.record("not an Ed25519 key")
                continue
            }
            let checked = try PublicKey.ed25519(publicKey: bytes)
            let message = Array("hello".utf8)
            #expect(checked.verify(.edDSA, message: message, signature: try key.sign(.edDSA, message: message)))
        }
    }

    @Test func aYWithoutAPointAndAYNotBelowPAreRefused() throws {
        let c = try Curve()
        // The first small y with no x on the curve.
        let offCurve = try #require((2..<64).map { Ed25519Field.number(UInt64($0)) }.first { c.point(y: $0) == nil })
        #expect { try PublicKey.ed25519(publicKey: offCurve) } throws: { ($0 as? CryptoError)?.message.contains("not a point") == true }
        var top = [UInt8](repeating: 0xFF, count: 32)
        top[31] = 0x7F
        #expect { try PublicKey.ed25519(publicKey: top) } throws: { ($0 as? CryptoError)?.message.contains("not canonical") == true }
    }
}
