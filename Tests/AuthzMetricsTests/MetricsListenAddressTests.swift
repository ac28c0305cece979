import AuthzCore
import Testing

@Suite struct MetricsListenAddressTests {
    @Test func emptyMeansOff() throws {
        #expect(try MetricsListenAddress.parse("") == nil)
    }

    @Test func acceptsHostPortBracketedIPv6AndAbsoluteUnixPaths() throws {
        #expect(try MetricsListenAddress.parse("127.0.0.1:9417") == .tcp(host: "127.0.0.1", port: 9417))
        #expect(try MetricsListenAddress.parse("[::1]:9417") == .tcp(host: "::1", port: 9417))
        #expect(try MetricsListenAddress.parse("localhost:1") == .tcp(host: "localhost", port: 1))
        #expect(try MetricsListenAddress.parse("unix:/run/authzd/metrics.sock") == .unix(path: "/run/authzd/metrics.sock"))
        #expect(try MetricsListenAddress.parse("[::1]:9417")?.description == "[::1]:9417")
    }

    @Test(arguments: ["9417", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x", ":9417",
                      "::1:9417", "unix:", "unix:relative.sock", "unix:/" + String(repeating: "a", count: 120)])
    func refusesWhatCannotBeBound(text: String) {
        #expect(throws: MetricsListenAddress.ParseError.self) { try MetricsListenAddress.parse(text) }
    }
}
