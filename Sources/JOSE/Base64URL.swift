/// Strict base64url without padding (RFC 7515 §2, RFC 4648 §5).
///
/// Strict on purpose: a token has exactly one accepted spelling, so padding, characters outside
/// the URL-safe alphabet, an impossible length and non-zero unused trailing bits are all refused.
/// Lenient decoders let an attacker mint many spellings of one signed token, which defeats
/// replay caches and token blocklists.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 0xFF for bytes outside the alphabet.
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// The bytes `text` encodes, or nil if it is not canonical unpadded base64url.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var text = String(text)
        return text.withUTF8 { decode(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// The bytes the ASCII `encoded` encodes, or nil if it is not canonical unpadded base64url.
    public static func decode(bytes encoded: UnsafeRawBufferPointer) -> [UInt8]? {
        let n = encoded.count
        let tail = n % 4
        if tail == 1 { return nil }
        let outCount = n / 4 * 3 + (tail == 0 ? 0 : tail - 1)
        return table.withUnsafeBufferPointer { table -> [UInt8]? in
            var out = [UInt8]()
            out.reserveCapacity(outCount)
            var i = 0
            while i + 4 <= n {
                let a = table[Int(encoded[i])], b = table[Int(encoded[i + 1])]
                let c = table[Int(encoded[i + 2])], d = table[Int(encoded[i + 3])]
                if (a | b | c | d) & 0xC0 != 0 { return nil }
                out.append(a << 2 | b >> 4)
                out.append(b << 4 | c >> 2)
                out.append(c << 6 | d)
                i += 4
            }
            switch tail {
            case 2:
                let a = table[Int(encoded[i])], b = table[Int(encoded[i + 1])]
                // 12 bits carry 8: the low 4 bits of the last character must be zero.
                if (a | b) & 0xC0 != 0 || b & 0x0F != 0 { return nil }
                out.append(a << 2 | b >> 4)
            case 3:
                let a = table[Int(encoded[i])], b = table[Int(encoded[i + 1])], c = table[Int(encoded[i + 2])]
                // 18 bits carry 16: the low 2 bits of the last character must be zero.
                if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 { return nil }
                out.append(a << 2 | b >> 4)
                out.append(b << 4 | c >> 2)
            default:
                break
            }
            return out
        }
    }

    /// Unpadded base64url of `bytes`.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out = [UInt8]()
        out.reserveCapacity((input.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= input.count {
            let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)])
            out.append(alphabet[Int(v & 63)])
            i += 3
        }
        switch input.count - i {
        case 1:
            let v = UInt32(input[i]) << 16
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
        case 2:
            let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)])
        default:
            break
        }
        return String(decoding: out, as: UTF8.self)
    }
}
