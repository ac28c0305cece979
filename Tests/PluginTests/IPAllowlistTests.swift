import AuthzCore
import IPAllowlistPlugin
import Testing

@Suite struct IPAllowlistTests {
    private func step(_ allow: [String], proxies: [String]? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> any ChainPlugin {
        var toml = "allow = [\(allow.map { "\"\($0)\"" }.joined(separator: ", "))]\n"
        if let proxies { toml += "trusted_proxies = [\(proxies.map { "\"\($0)\"" }.joined(separator: ", "))]\n" }
        return try StepFixture.plugin(IPAllowlistFactory(), toml, sourceLocation: sourceLocation)
    }

    private func allows(_ plugin: any ChainPlugin, _ addr: String?, xff: [String] = [],
                        sourceLocation: SourceLocation = #_sourceLocation) -> Bool? {
        let request = CheckRequest(app: "app", remoteAddr: addr, headers: Headers(xff.map { ("X-Forwarded-For", $0) }))
        guard let r = StepFixture.result(plugin, request, sourceLocation: sourceLocation) else { return nil }
        if !r.allow {
            #expect(r.reason == .ipNotAllowed, sourceLocation: sourceLocation)
            #expect(r.status == 403, sourceLocation: sourceLocation)
        } else {
            #expect(r.status == 200 && r.reason == .ok, sourceLocation: sourceLocation)
        }
        return r.allow
    }

    @Test func ipv4CIDRMatchesItsRangeOnly() throws {
        let p = try step(["10.0.0.0/8", "192.168.1.0/24", "172.16.0.0/12"])
        for a in ["10.0.0.0", "10.255.255.255", "192.168.1.77", "172.31.255.1", "172.16.0.1"] { #expect(allows(p, a) == true, "\(a)") }
        for a in ["11.0.0.0", "9.255.255.255", "192.168.2.1", "172.32.0.1", "172.15.255.255"] { #expect(allows(p, a) == false, "\(a)") }
    }

    @Test func ipv6CIDRMatchesItsRangeOnly() throws {
        let p = try step(["2001:db8::/32", "fd00:1:2:3::/64", "2001:db8:ffff::/127"])
        for a in ["2001:db8::1", "2001:db8:ffff:ffff::", "fd00:1:2:3:ffff:ffff:ffff:ffff"] { #expect(allows(p, a) == true, "\(a)") }
        for a in ["2001:db9::1", "fd00:1:2:4::1", "::1"] { #expect(allows(p, a) == false, "\(a)") }
        let narrow = try step(["2001:db8::10/127"])
        #expect(allows(narrow, "2001:db8::11") == true)
        #expect(allows(narrow, "2001:db8::12") == false)
        let odd = try step(["2001:db8:8000::/33"])
        #expect(allows(odd, "2001:db8:8000::1") == true)
        #expect(allows(odd, "2001:db8:7fff::1") == false)
    }

    @Test func bareAddressesMatchExactly() throws {
        let p = try step(["127.0.0.1", "::1", "2001:db8::5"])
        #expect(allows(p, "127.0.0.1") == true)
        #expect(allows(p, "127.0.0.2") == false)
        #expect(allows(p, "::1") == true)
        #expect(allows(p, "::2") == false)
        #expect(allows(p, "2001:db8::5") == true)
        #expect(allows(p, "2001:db8::4") == false)
        #expect(allows(p, "0.0.0.1") == false)
    }

    @Test func slashZeroMatchesEverythingOfItsFamily() throws {
        let v4 = try step(["0.0.0.0/0"])
        #expect(allows(v4, "1.2.3.4") == true)
        #expect(allows(v4, "255.255.255.255") == true)
        #expect(allows(v4, "2001:db8::1") == false)
        let v6 = try step(["::/0"])
        #expect(allows(v6, "2001:db8::1") == true)
        #expect(allows(v6, "::") == true)
    }

    @Test func anIPv6RangeCoveringTheMappedBlockAlsoCoversIPv4Clients() throws {
        // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; "::/0" and
        // "::ffff:0:0/96" are written to include them.
        #expect(allows(try step(["::/0"]), "192.0.2.1") == true)
        #expect(allows(try step(["::ffff:0:0/96"]), "192.0.2.1") == true)
        #expect(allows(try step(["::ffff:0:0/96"]), "2001:db8::1") == false)
        #expect(allows(try step(["2001:db8::/32"]), "192.0.2.1") == false)
    }

    @Test func mappedRemoteAddrMatchesIPv4Ranges() throws {
        let p = try step(["127.0.0.1", "10.0.0.0/8"])
        #expect(allows(p, "::ffff:127.0.0.1") == true)
        #expect(allows(p, "::ffff:10.20.30.40") == true)
        #expect(allows(p, "::ffff:11.0.0.1") == false)
        // And a mapped range in the configuration matches plain IPv4 clients.
        let mapped = try step(["::ffff:10.0.0.0/104"])
        #expect(allows(mapped, "10.1.2.3") == true)
        #expect(allows(mapped, "11.1.2.3") == false)
    }

    @Test(arguments: ["10.0.0.1/8", "192.168.1.1/24", "1.2.3.4/0", "2001:db8::1/32", "::1/0", "10.0.0.0/33",
                      "::/129", "10.0.0.0/-1", "10.0.0.0/08", "10.0.0.0/", "10.0.0.0/+8", "10.0.0.0/8/8", "example.com",
                      "10.0.0", "", "fe80::1%eth0/64", "::ffff:10.0.0.0/90"])
    func badEntriesAreRefusedAtLoad(_ entry: String) throws {
        let e = try StepFixture.error(IPAllowlistFactory(), "\n\nallow = [\"127.0.0.1\", \"\(entry)\"]\n")
        #expect(e?.line == 3)
        #expect(e?.message.contains("\"\(entry)\"") == true, "\(String(describing: e))")
    }

    @Test func hostBitsSetAreRefusedWithASuggestion() throws {
        let e = try StepFixture.error(IPAllowlistFactory(), "allow = [\"10.1.2.3/8\"]\n")
        #expect(e?.message.contains("host bits") == true)
        #expect(e?.message.contains("10.0.0.0/8") == true)
        let e6 = try StepFixture.error(IPAllowlistFactory(), "allow = [\"2001:db8::1/64\"]\n")
        #expect(e6?.message.contains("host bits") == true)
    }

    @Test func emptyOrMissingAllowIsRefused() throws {
        #expect(try StepFixture.error(IPAllowlistFactory(), "allow = []\n")?.message.contains("empty") == true)
        #expect(try StepFixture.error(IPAllowlistFactory(), "trusted_proxies = []\n")?.message.contains("allow") == true)
        #expect(try StepFixture.error(IPAllowlistFactory(), "allow = [\"::1\"]\ntrusted_proxies = [\"proxy\"]\n")?.line == 2)
        #expect(try StepFixture.error(IPAllowlistFactory(), "allow = [\"::1\"]\nallowed = [\"::2\"]\n")?.message.contains("allowed") == true)
    }

    @Test func everyBadEntryAndAnUnknownKeyAreReportedTogetherAtTheirLines() throws {
        let errs = try StepFixture.errors(IPAllowlistFactory(), """
            alow = ["::1"]
            allow = [
              "10.0.0.0/8",
              "10.0.0.1/8",
              "not-an-address",
            ]
            trusted_proxies = ["10.0.0.0/33", "::1"]
            """)
        #expect(errs.map(\.line) == [1, 4, 5, 7], "\(errs)")
        #expect(errs.first?.message.contains("alow") == true)
        #expect(errs.dropFirst().first?.message.contains("host bits") == true)
        #expect(errs.last?.message.hasPrefix("trusted_proxies: ") == true, "\(errs)")
    }

    @Test func aMissingAllowIsReportedOnceNextToAMisspeltOne() throws {
        let errs = try StepFixture.errors(IPAllowlistFactory(), "\nallowed = [\"::1\"]\n")
        #expect(errs.count == 2, "\(errs)")
        #expect(errs.contains { $0.line == 2 && $0.message.contains("unknown key chain[0].allowed") })
        #expect(errs.contains { $0.message.contains("needs allow") })
    }

    @Test func missingRemoteAddrIsDenied() throws {
        let p = try step(["0.0.0.0/0", "::/0"])
        #expect(allows(p, nil) == false)
    }

    @Test func forwardedForFromATrustedProxyIsWalkedFromTheRight() throws {
        let p = try step(["203.0.113.0/24"], proxies: ["10.0.0.0/8"])
        // nginx at 10.0.0.1, which got the request from another proxy 10.0.0.7, which got it from the client.
        #expect(allows(p, "10.0.0.1", xff: ["203.0.113.9, 10.0.0.7"]) == true)
        #expect(allows(p, "10.0.0.1", xff: ["198.51.100.4, 10.0.0.7"]) == false)
        #expect(allows(p, "10.0.0.1", xff: ["203.0.113.9"]) == true)
        #expect(allows(p, "10.0.0.1", xff: [" 203.0.113.9 ,\t10.0.0.7 "]) == true)
    }

    @Test func spoofedLeftMostEntriesAreIgnored() throws {
        let p = try step(["127.0.0.1", "203.0.113.0/24"], proxies: ["10.0.0.1"])
        // The client 198.51.100.7 claimed to be 127.0.0.1; the trusted proxy appended the real address.
        #expect(allows(p, "10.0.0.1", xff: ["127.0.0.1, 198.51.100.7"]) == false)
        #expect(allows(p, "10.0.0.1", xff: ["203.0.113.1, 198.51.100.7"]) == false)
    }

    @Test func everyForwardedForHeaderIsPartOfTheList() throws {
        // Repeated headers are one list in order (RFC 9110 §5.3): the proxy's entry is in the last one.
        let p = try step(["127.0.0.1"], proxies: ["10.0.0.1"])
        #expect(allows(p, "10.0.0.1", xff: ["127.0.0.1", "198.51.100.7"]) == false)
        let q = try step(["198.51.100.0/24"], proxies: ["10.0.0.1"])
        #expect(allows(q, "10.0.0.1", xff: ["127.0.0.1", "198.51.100.7"]) == true)
    }

    @Test func anUntrustedPeersForwardedForIsIgnored() throws {
        let p = try step(["127.0.0.1"], proxies: ["10.0.0.1"])
        #expect(allows(p, "198.51.100.7", xff: ["127.0.0.1"]) == false)
        // Without trusted proxies nothing is believed.
        let none = try step(["127.0.0.1"])
        #expect(allows(none, "198.51.100.7", xff: ["127.0.0.1"]) == false)
        #expect(allows(none, "127.0.0.1", xff: ["198.51.100.7"]) == true)
    }

    @Test func aTrustedPeerWithoutForwardedForIsJudgedItself() throws {
        let p = try step(["10.0.0.1"], proxies: ["10.0.0.1"])
        #expect(allows(p, "10.0.0.1") == true)
        let q = try step(["127.0.0.1"], proxies: ["10.0.0.1"])
        #expect(allows(q, "10.0.0.1") == false)
    }

    @Test func whenEveryHopIsTrustedTheLeftMostIsTheClient() throws {
        let p = try step(["10.0.0.5"], proxies: ["10.0.0.0/8"])
        #expect(allows(p, "10.0.0.1", xff: ["10.0.0.5, 10.0.0.7"]) == true)
        #expect(allows(p, "10.0.0.1", xff: ["10.0.0.6, 10.0.0.7"]) == false)
    }

    @Test(arguments: ["garbage", "203.0.113.9, junk", "203.0.113.9:443", "[2001:db8::1]", "unknown", "203.0.113.9, 10.0.0.7 x"])
    func garbageForwardedForIsDenied(_ xff: String) throws {
        // Fail closed even when the allowlist would take the peer itself.
        let p = try step(["203.0.113.0/24", "10.0.0.0/8"], proxies: ["10.0.0.0/8"])
        #expect(allows(p, "10.0.0.1", xff: [xff]) == false)
    }

    @Test func forwardedForWithIPv6AndMappedEntries() throws {
        let p = try step(["2001:db8::/32", "192.0.2.0/24"], proxies: ["::1", "fd00::/8"])
        #expect(allows(p, "::1", xff: ["2001:db8::42, fd00::9"]) == true)
        #expect(allows(p, "::1", xff: ["::ffff:192.0.2.8"]) == true)
        #expect(allows(p, "::1", xff: ["2001:db9::1"]) == false)
    }
}
