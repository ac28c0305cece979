import AuthzCore
import Testing

@Suite struct IPAddressTests {
    @Test func parsesIPv4() throws {
        let a = try #require(IPAddress("192.168.1.20"))
        #expect(a.isIPv4)
        #expect(a.low == 0xC0A8_0114 && a.high == 0)
        #expect(a.description == "192.168.1.20")
        #expect(IPAddress("0.0.0.0")?.description == "0.0.0.0")
        #expect(IPAddress("255.255.255.255")?.low == 0xFFFF_FFFF)
    }

    @Test func parsesIPv6() throws {
        let a = try #require(IPAddress("2001:db8::1"))
        #expect(!a.isIPv4)
        #expect(a.high == 0x2001_0db8_0000_0000 && a.low == 1)
        #expect(a.description == "2001:db8::1")
        #expect(IPAddress("::1")?.isIPv4 == false)
        #expect(IPAddress("::")?.isIPv4 == false)
        #expect(IPAddress("FE80::ABCD")?.description == "fe80::abcd")
    }

    @Test func ipv4MappedIPv6IsStoredAsIPv4() throws {
        let mapped = try #require(IPAddress("::ffff:10.1.2.3"))
        #expect(mapped.isIPv4)
        #expect(mapped == IPAddress("10.1.2.3"))
        #expect(mapped.description == "10.1.2.3")
        #expect(IPAddress("::ffff:a01:203") == IPAddress("10.1.2.3"))
        // IPv4-compatible (deprecated) and NAT64 forms are not IPv4.
        #expect(IPAddress("::10.1.2.3")?.isIPv4 == false)
        #expect(IPAddress("64:ff9b::10.1.2.3")?.isIPv4 == false)
    }

    @Test(arguments: ["", " ", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "01.2.3.4", "1.2.3.-1", "localhost",
                      "::1::2", "12345::", "1:2:3:4:5:6:7:8:9", "[::1]", "::1/128", "10.0.0.1/8", "1.2.3.4:80",
                      "fe80::1%eth0", "fe80::1%1", "::ffff:1.2.3.4%lo", "gggg::", "0x7f.0.0.1", "2130706433"])
    func garbageAndZoneIdsAreRefused(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func overlongInputIsRefused() {
        #expect(IPAddress(String(repeating: "0", count: 40) + "::1") == nil)
    }

    @Test func equalityIgnoresSpelling() {
        #expect(IPAddress("2001:DB8:0:0:0:0:0:1") == IPAddress("2001:db8::1"))
        #expect(IPAddress("10.0.0.1") != IPAddress("10.0.0.2"))
        #expect(IPAddress("::1") != IPAddress("0.0.0.1"))
    }
}
