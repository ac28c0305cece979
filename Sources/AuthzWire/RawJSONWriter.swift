/// JSON text written through a raw pointer into space reserved beforehand: one capacity check
/// per line instead of one per field. `ByteBuffer`'s own writes each check capacity and
/// uniqueness, which on the answer path (ten or so fields per decision) cost more than the
/// encoding itself. The caller reserves ``bound(_:)`` bytes per string and the fixed parts.
struct RawJSONWriter {
    private let base: UnsafeMutableRawPointer
    private(set) var count = 0

    init(_ base: UnsafeMutableRawPointer) {
        self.base = base
    }

    /// The most bytes `string(_:)` can write for `s`: every byte escaped as `\u00XX`, and quotes.
    static func bound(_ s: String) -> Int {
        s.utf8.count * 6 + 2
    }

    mutating func byte(_ b: UInt8) {
        base.storeBytes(of: b, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    mutating func raw(_ s: StaticString) {
        (base + count).copyMemory(from: s.utf8Start, byteCount: s.utf8CodeUnitCount)
        count += s.utf8CodeUnitCount
    }

    /// Bytes already encoded.
    mutating func bytes(_ raw: UnsafeRawBufferPointer) {
        guard let start = raw.baseAddress else { return }
        (base + count).copyMemory(from: start, byteCount: raw.count)
        count += raw.count
    }

    /// Text known to need no escaping (a number's digits as parsed).
    mutating func verbatim(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            guard let start = utf8.baseAddress else { return }
            (base + count).copyMemory(from: start, byteCount: utf8.count)
            count += utf8.count
        }
    }

    /// A JSON string literal with the escapes RFC 8259 requires.
    mutating func string(_ s: String) {
        byte(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            guard let start = utf8.baseAddress else { return }
            var runStart = 0
            var i = 0
            while i < utf8.count {
                // Eight bytes at a time while none needs escaping: tokens and paths are long
                // runs of plain text.
                if i + 8 <= utf8.count,
                   !Self.needsEscape(UnsafeRawPointer(start + i).loadUnaligned(as: UInt64.self)) {
                    i += 8
                    continue
                }
                let c = utf8[i]
                i += 1
                if c >= 0x20 && c != 0x22 && c != 0x5C { continue }
                let at = i - 1
                if runStart < at {
                    (base + count).copyMemory(from: start + runStart, byteCount: at - runStart)
                    count += at - runStart
                }
                runStart = at + 1
                byte(UInt8(ascii: "\\"))
                switch c {
                case 0x22: byte(0x22)
                case 0x5C: byte(0x5C)
                case 0x0A: byte(UInt8(ascii: "n"))
                case 0x0D: byte(UInt8(ascii: "r"))
                case 0x09: byte(UInt8(ascii: "t"))
                default:
                    raw("u00")
                    byte(Self.hexDigit(c >> 4))
                    byte(Self.hexDigit(c & 0xF))
                }
            }
            if runStart < utf8.count {
                (base + count).copyMemory(from: start + runStart, byteCount: utf8.count - runStart)
                count += utf8.count - runStart
            }
        }
        byte(UInt8(ascii: "\""))
    }

    /// Whether any of the eight bytes is below 0x20, a quote or a backslash (bit tricks that
    /// are exact for "any byte": a byte at or above 0x80 is never flagged, as UTF-8 needs).
    @inline(__always)
    static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- ones &* 0x20) & ~word & highs
        let q = word ^ (ones &* 0x22)
        let quote = (q &- ones) & ~q & highs
        let b = word ^ (ones &* 0x5C)
        let backslash = (b &- ones) & ~b & highs
        return (control | quote | backslash) != 0
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 {
        v < 10 ? 0x30 + v : UInt8(ascii: "a") + v - 10
    }

    /// A decimal integer; at most 20 bytes.
    mutating func int(_ value: Int) {
        var v = value.magnitude
        var digits = 1
        var probe = v
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        if value < 0 { byte(UInt8(ascii: "-")) }
        var at = count + digits
        count = at
        repeat {
            at -= 1
            base.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 &+ v % 10), toByteOffset: at, as: UInt8.self)
            v /= 10
        } while v > 0
    }
}
