import AuthzJSON
import Foundation
import Testing

/// How a real authzd reports its remote sources: by kind in `stats` (the generic `sources` list
/// beside the `jwks` list it always had) and in the STATUS line.
@Suite("remote sources end to end")
struct RemoteSourceEndToEndTests {
    @Test func statsAndStatusReportASourceThatCannotFetchAsUnavailable() throws {
        // Accepts TCP and never answers: the first fetch ends by fetch_timeout.
        let provider = try HangingListener()
        let dir = try TempDirectory("sources")
        let notify = try NotifySocket(path: dir.file("notify"))
        let d = try DaemonUnderTest(apps: ["idp": provider.jwksApp(fetchTimeout: 1)],
                                    environment: SystemdEndToEndTests.notifyEnvironment(notify))
        let ready = try #require(notify.waitFor("READY=1", timeout: 20))
        #expect(eventually(timeout: 20) { (try? d.stats()["jwks"]?.arrayValue?.first?["fetching"]) == .bool(false) })
        let stats = try d.stats()
        let source = try #require(stats["sources"]?.arrayValue?.first)
        #expect(stats["sources"]?.arrayValue?.count == 1)
        #expect(source["kind"] == "jwks")
        #expect(source["name"] == .string("https://127.0.0.1:\(provider.port)/jwks.json"))
        #expect(source["state"] == "unavailable")
        #expect(source["summary"] == "0 keys")
        #expect(source["last_error"]?.stringValue?.isEmpty == false)
        #expect(stats["jwks"]?.arrayValue?.first?["url"] == .string("https://127.0.0.1:\(provider.port)/jwks.json"))
        // The periodic STATUS (every 5 s) groups sources by kind.
        #expect(eventually(timeout: 20) {
            notify.messages[ready...].contains { $0.hasPrefix("STATUS=") && $0.contains("jwks: unavailable") }
        })
        _ = d.stop()
    }

    @Test func checkConfigAcceptsOIDCIssuerAndNamesFileAndLineWhenURLIsGivenToo() throws {
        let dir = try TempDirectory("cc")
        let main = try dir.write("authzd.toml", "[server]\nsocket = \"/tmp/authzd-oidc-cc.sock\"\n")
        try dir.write("apps.d/good.toml", """
            [[chain]]
            plugin = "jwks"
            oidc_issuer = "https://keycloak.example.com/realms/main"
            """)
        let good = try runCommand(try TestEnvironment.binary("authzd"), ["check-config", "--config", main])
        #expect(good.status == 0, "\(good.stderr)")
        try dir.write("apps.d/both.toml", """
            [[chain]]
            plugin = "jwks"
            url = "https://keycloak.example.com/realms/main/protocol/openid-connect/certs"
            oidc_issuer = "https://keycloak.example.com/realms/main"
            """)
        let both = try runCommand(try TestEnvironment.binary("authzd"), ["check-config", "--config", main])
        #expect(both.status == 1)
        #expect(both.stderr.contains(dir.file("apps.d/both.toml") + ":4: "), "\(both.stderr)")
        #expect(both.stderr.contains("not both"), "\(both.stderr)")
    }
}
