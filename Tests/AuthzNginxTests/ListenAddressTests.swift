import Testing

@testable import AuthzNginx

@Suite struct ListenAddressTests {
    @Test func unixAndTCPFormsParse() throws {
        #expect(try ListenAddress(parsing: "unix:/run/authzd/nginx.sock") == .unix(path: "/run/authzd/nginx.sock"))
        #expect(try ListenAddress(parsing: "127.0.0.1:9180") == .tcp(host: "127.0.0.1", port: 9180))
        #expect(try ListenAddress(parsing: "localhost:0") == .tcp(host: "localhost", port: 0))
        #expect(try ListenAddress(parsing: "[::1]:9180") == .tcp(host: "::1", port: 9180))
        #expect(ListenAddress.tcp(host: "::1", port: 9180).description == "[::1]:9180")
    }

    @Test(arguments: ["unix:", "9180", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000", "::1:9180", ":9180"])
    func malformedListenValuesAreRefused(_ text: String) {
        #expect(throws: ListenAddress.ParseError.self) { try ListenAddress(parsing: text) }
    }
}
