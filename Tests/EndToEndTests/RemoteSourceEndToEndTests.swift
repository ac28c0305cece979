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
}
