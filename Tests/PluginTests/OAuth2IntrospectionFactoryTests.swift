import AuthzCore
import Foundation
@testable import OAuth2IntrospectionPlugin
import Testing

/// Loading `oauth2_introspection` steps: every key checked, every mistake reported.
@Suite struct OAuth2IntrospectionFactoryTests {
    let factory = OAuth2IntrospectionFactory()
    static let url = "url = \"https://hydra.example.com/admin/oauth2/introspect\"\n"

    @Test func defaultsAreSixtySecondsOfCacheAndFiveOfTimeout() throws {
        let t = try StepFixture.table(Self.url)
        let context = PluginContext(baseDirectory: "", appName: "a", logger: .init(label: "t"), resources: SharedResources(), fetcher: nil)
        let s = try #require(OAuth2IntrospectionFactory.readSettings(t, context: context))
        #expect(s.cacheTTL == 60)
        #expect(s.fetchTimeout == 5)
        #expect(s.client == nil)
        #expect(s.caFile == "")
        _ = try StepFixture.plugin(factory, Self.url + "client_id = \"authzd\"\nclient_secret = \"x\"\nissuer = \"https://hydra.example.com/\"\nforward_claims = { sub = \"x-sub\" }\ntoken_from = [\"authorization\", \"cookie:at\"]")
    }

    @Test(arguments: [
        ("", "url"),
        ("url = \"ftp://x/\"", "url must be"),
        ("url = \"https://user:pw@x/\"", "url must be"),
        (url + "bogus = 1", "unknown key"),
        (url + "algorithms = [\"RS256\"]", "does not apply"),
        (url + "client_secret = \"x\"", "needs client_id"),
        (url + "client_id = \"a\"", "exactly one of client_secret or client_secret_file"),
        (url + "client_id = \"a\"\nclient_secret = \"x\"\nclient_secret_file = \"f\"", "exactly one"),
        (url + "client_id = \"\"\nclient_secret = \"x\"", "client_id must be"),
        (url + "client_id = \"a\"\nclient_secret = \"\"", "secret is empty"),
        (url + "client_id = \"a\"\nclient_secret_file = \"/nonexistent/secret\"", "/nonexistent/secret"),
        (url + "cache_ttl = -1", "cache_ttl"),
        (url + "fetch_timeout = 0", "fetch_timeout"),
        (url + "ca_file = \"/nonexistent/ca.pem\"", "ca_file"),
    ])
    func mistakesAreConfigurationErrors(toml: String, expected: String) throws {
        let e = try #require(try StepFixture.error(factory, toml))
        #expect(e.message.contains(expected), "\(e.message)")
    }

    @Test func secretFileLosesOneTrailingNewline() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("introspect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "s3cret\n".write(to: dir.appendingPathComponent("secret"), atomically: true, encoding: .utf8)
        let t = try StepFixture.table(Self.url + "client_id = \"authzd\"\nclient_secret_file = \"secret\"")
        let context = PluginContext(baseDirectory: dir.path, appName: "a", logger: .init(label: "t"), resources: SharedResources(), fetcher: nil)
        let s = try #require(OAuth2IntrospectionFactory.readSettings(t, context: context))
        #expect(s.client?.authorization == "Basic " + Data("authzd:s3cret".utf8).base64EncodedString())
    }

    @Test func registeredUnderItsSpecName() {
        #expect(factory.name == "oauth2_introspection")
    }
}
