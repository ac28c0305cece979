import AuthzCore

/// A compiled set of address ranges. Built once per configuration; a lookup is a scan of masks
/// over plain integers (allowlists are short, and this beats a trie below a few hundred ranges).
struct CIDRSet: Sendable {
    private struct V4: Sendable { let net: UInt32; let mask: UInt32 }
    private struct V6: Sendable { let hi: UInt64; let lo: UInt64; let maskHi: UInt64; let maskLo: UInt64 }

    private var v4: [V4] = []
    private var v6: [V6] = []

    var isEmpty: Bool { v4.isEmpty && v6.isEmpty }

    /// Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 literal or `x::/n`. Returns a message when invalid.
    mutating func add(_ text: String) -> String? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let addr = IPAddress(parts[0]) else { return "\"\(text)\" is not an IP address or CIDR range" }
        let maxBits = addr.isIPv4 ? 32 : 128
        var bits = maxBits
        if parts.count == 2 {
            guard let b = Int(parts[1]), b >= 0, b <= 128, String(b) == parts[1] else {
                return "\"\(text)\" has an invalid prefix length"
            }
            // An IPv4-mapped IPv6 range (::ffff:10.0.0.0/104) is stored as IPv4.
            if addr.isIPv4 && parts[0].contains(":") {
                guard b >= 96 else { return "\"\(text)\": an IPv4-mapped range needs a prefix of at least 96" }
                bits = b - 96
            } else {
                guard b <= maxBits else { return "\"\(text)\" has a prefix longer than \(maxBits)" }
                bits = b
            }
        }
        if addr.isIPv4 {
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
            let net = UInt32(truncatingIfNeeded: addr.low)
            guard net & mask == net else { return "\"\(text)\" has host bits set (did you mean \(IPAddress(ipv4: net & mask))/\(bits)?)" }
            v4.append(V4(net: net, mask: mask))
        } else {
            let maskHi: UInt64 = bits >= 64 ? ~0 : (bits == 0 ? 0 : ~UInt64(0) << UInt64(64 - bits))
            let maskLo: UInt64 = bits <= 64 ? 0 : (bits == 128 ? ~0 : ~UInt64(0) << UInt64(128 - bits))
            guard addr.high & maskHi == addr.high, addr.low & maskLo == addr.low else {
                return "\"\(text)\" has host bits set"
            }
            v6.append(V6(hi: addr.high, lo: addr.low, maskHi: maskHi, maskLo: maskLo))
            // IPv4-mapped addresses are stored as IPv4, so a range that contains all of
            // ::ffff:0:0/96 (such as ::/0) must also hold every IPv4 address to match them.
            if 0 & maskHi == addr.high, 0x0000_FFFF_0000_0000 & maskLo == addr.low {
                v4.append(V4(net: 0, mask: 0))
            }
        }
        return nil
    }

    func contains(_ a: IPAddress) -> Bool {
        if a.isIPv4 {
            let v = UInt32(truncatingIfNeeded: a.low)
            for r in v4 where v & r.mask == r.net { return true }
        } else {
            for r in v6 where a.high & r.maskHi == r.hi && a.low & r.maskLo == r.lo { return true }
        }
        return false
    }
}
