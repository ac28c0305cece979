#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as a 128-bit value. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are
/// stored as IPv4, so an allowlist written with IPv4 ranges matches them.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// High and low 64 bits; an IPv4 address sits in the low 32 bits of `low`.
    public let high: UInt64
    public let low: UInt64
    public let isIPv4: Bool

    public init(ipv4: UInt32) {
        high = 0
        low = UInt64(ipv4)
        isIPv4 = true
    }

    public init(ipv6High: UInt64, low: UInt64) {
        if ipv6High == 0 && (low >> 32) == 0xFFFF {
            self.high = 0
            self.low = low & 0xFFFF_FFFF
            self.isIPv4 = true
        } else {
            self.high = ipv6High
            self.low = low
            self.isIPv4 = false
        }
    }

    /// Parses a literal: dotted IPv4 or RFC 4291 IPv6 (no zone index, no brackets, no port).
    public init?(_ text: some StringProtocol) {
        let s = String(text)
        guard !s.isEmpty, s.utf8.count <= 45 else { return nil }
        // inet_pton reads a C string: a NUL inside would end it early ("127.0.0.1\0evil").
        // Only hex digits, dots and colons can make an address.
        guard s.utf8.allSatisfy({ c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) || c == 0x2E || c == 0x3A
        }) else { return nil }
        if s.utf8.contains(UInt8(ascii: ":")) {
            var a = in6_addr()
            guard inet_pton(AF_INET6, s, &a) == 1 else { return nil }
            var hi: UInt64 = 0
            var lo: UInt64 = 0
            withUnsafeBytes(of: &a) { raw in
                for i in 0..<8 { hi = hi << 8 | UInt64(raw[i]) }
                for i in 8..<16 { lo = lo << 8 | UInt64(raw[i]) }
            }
            self.init(ipv6High: hi, low: lo)
        } else {
            var a = in_addr()
            guard inet_pton(AF_INET, s, &a) == 1 else { return nil }
            self.init(ipv4: UInt32(bigEndian: a.s_addr))
        }
    }

    public var description: String {
        if isIPv4 {
            let v = UInt32(truncatingIfNeeded: low)
            return "\(v >> 24).\((v >> 16) & 0xFF).\((v >> 8) & 0xFF).\(v & 0xFF)"
        }
        var a = in6_addr()
        withUnsafeMutableBytes(of: &a) { raw in
            for i in 0..<8 { raw[i] = UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * i)) }
            for i in 0..<8 { raw[8 + i] = UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * i)) }
        }
        var buf = [CChar](repeating: 0, count: 64)
        _ = inet_ntop(AF_INET6, &a, &buf, socklen_t(buf.count))
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
