@testable import AuthzServer
import AuthzCore
import AuthzJSON
import Testing

@Suite struct StatusReportTests {
    @Test func theLineSummarizesAppsRateAndDenyShare() {
        let report = StatusReport(apps: 3, decisionsPerSecond: 12.7, denyShare: 0.25, sources: [], lastReloadError: nil)
        #expect(report.text == "3 apps, 12 decisions/s, 25% denied")
    }

    static func source(_ kind: String, _ state: SourceReport.State) -> SourceReport {
        SourceReport(kind: kind, name: "https://idp.example/\(kind)", state: state, summary: "", lastError: nil, details: .null)
    }

    @Test func sourcesGroupedByKindAndAStandingReloadFailureAreAppended() {
        let sources = [Self.source("jwks", .ok), Self.source("oidc", .ok), Self.source("jwks", .stale),
                       Self.source("jwks", .unavailable)]
        let report = StatusReport(apps: 1, decisionsPerSecond: 0, denyShare: 0, sources: sources,
                                  lastReloadError: "/etc/authzd/apps.d/web.toml:3: allow must not be empty")
        #expect(report.text == "1 apps, 0 decisions/s, 0% denied, jwks: ok stale unavailable, oidc: ok; "
            + "last reload failed: /etc/authzd/apps.d/web.toml:3: allow must not be empty")
    }

    @Test func aFailedReloadSaysThePreviousConfigurationServes() {
        #expect(StatusReport.reloadFailed("a.toml:1: bad") == "reload failed (a.toml:1: bad); serving the previous configuration")
    }
}
