@testable import AuthzServer
import AuthzJSON
import Testing

@Suite struct StatusReportTests {
    @Test func theLineSummarizesAppsRateAndDenyShare() {
        let report = StatusReport(apps: 3, decisionsPerSecond: 12.7, denyShare: 0.25, jwks: [], lastReloadError: nil)
        #expect(report.text == "3 apps, 12 decisions/s, 25% denied")
    }

    @Test func jwksSourcesAndAStandingReloadFailureAreAppended() {
        let report = StatusReport(apps: 1, decisionsPerSecond: 0, denyShare: 0, jwks: ["ok", "stale", "no keys"],
                                  lastReloadError: "/etc/authzd/apps.d/web.toml:3: allow must not be empty")
        #expect(report.text == "1 apps, 0 decisions/s, 0% denied, jwks: ok stale no keys; "
            + "last reload failed: /etc/authzd/apps.d/web.toml:3: allow must not be empty")
    }

    @Test func aFailedReloadSaysThePreviousConfigurationServes() {
        #expect(StatusReport.reloadFailed("a.toml:1: bad") == "reload failed (a.toml:1: bad); serving the previous configuration")
    }

    @Test func aJWKSSourceReadsStaleOkOrNoKeysFromItsStats() throws {
        #expect(StatusReport.jwksState(try JSONParser.parse(#"{"keys": 2, "serving_stale": true}"#.utf8)) == "stale")
        #expect(StatusReport.jwksState(try JSONParser.parse(#"{"keys": 2, "serving_stale": false}"#.utf8)) == "ok")
        #expect(StatusReport.jwksState(try JSONParser.parse(#"{"keys": 0}"#.utf8)) == "no keys")
        #expect(StatusReport.jwksState(try JSONParser.parse("{}".utf8)) == "no keys")
    }
}
