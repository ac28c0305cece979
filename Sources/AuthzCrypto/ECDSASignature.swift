internal import COpenSSL

/// Conversions between JWS's raw r||s ECDSA signatures and the DER `ECDSA-Sig-Value` OpenSSL uses.
enum ECDSASignature {
    /// DER `SEQUENCE { INTEGER r, INTEGER s }` from r||s (two equal halves, big-endian).
    static func der(fromRaw raw: UnsafeRawBufferPointer) -> [UInt8] {
        let half = raw.count / 2
        let r = integer(UnsafeRawBufferPointer(rebasing: raw[0..<half]))
        let s = integer(UnsafeRawBufferPointer(rebasing: raw[half..<raw.count]))
        var out: [UInt8] = [0x30]
        out.reserveCapacity(r.count + s.count + 4)
        appendLength(r.count + s.count, to: &out)
        out += r
        out += s
        return out
    }

    /// A DER INTEGER holding the unsigned big-endian `bytes`.
    private static func integer(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var body = Array(bytes.drop(while: { $0 == 0 }))
        // Minimal encoding: zero is one 0x00 byte; a set high bit needs a 0x00 so it stays positive.
        if body.isEmpty || body[0] & 0x80 != 0 { body.insert(0, at: 0) }
        var out: [UInt8] = [0x02]
        appendLength(body.count, to: &out)
        return out + body
    }

    private static func appendLength(_ n: Int, to out: inout [UInt8]) {
        // Signatures stay far below 64 KiB; P-521 needs the one-byte long form.
        if n < 0x80 {
            out.append(UInt8(n))
        } else if n <= 0xFF {
            out += [0x81, UInt8(n)]
        } else {
            out += [0x82, UInt8(n >> 8), UInt8(n & 0xFF)]
        }
    }

    /// r||s, each left-padded to `coordinateSize`, from a DER signature; nil if malformed.
    static func raw(fromDER der: [UInt8], coordinateSize: Int) -> [UInt8]? {
        der.withUnsafeBufferPointer { buf -> [UInt8]? in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            guard let sig = d2i_ECDSA_SIG(nil, &p, buf.count) else {
                drainOpenSSLErrors()
                return nil
            }
            defer { ECDSA_SIG_free(sig) }
            var r: OpaquePointer? = nil
            var s: OpaquePointer? = nil
            ECDSA_SIG_get0(sig, &r, &s)
            var out = [UInt8](repeating: 0, count: 2 * coordinateSize)
            let ok = out.withUnsafeMutableBufferPointer { o in
                BN_bn2binpad(r, o.baseAddress, Int32(coordinateSize)) == coordinateSize
                    && BN_bn2binpad(s, o.baseAddress! + coordinateSize, Int32(coordinateSize)) == coordinateSize
            }
            guard ok else {
                drainOpenSSLErrors()
                return nil
            }
            return out
        }
    }
}
