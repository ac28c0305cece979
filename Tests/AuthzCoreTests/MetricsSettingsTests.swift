import AuthzCore
import Testing

/// `[metrics]` in the main file (SPEC §7).
@Suite struct MetricsSettingsTests {
    static let app = "[apps.web]\nchain = [{ plugin = \"ip_allowlist\", allow = [\"127.0.0.1\"] }]\n"

    @Test func metricsAreOffUnlessAListenAddressIsGiven() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", Self.app)
        #expect(dir.loaded()?.metrics.listen == nil)
        try dir.write("authzd.toml", "[metrics]\nlisten = \"\"\n" + Self.app)
        #expect(dir.loaded()?.metrics.listen == nil)
    }

    @Test func aListenAddressIsParsedIntoTheConfiguration() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "[metrics]\nlisten = \"127.0.0.1:9417\"\n" + Self.app)
        #expect(dir.loaded()?.metrics.listen == .tcp(host: "127.0.0.1", port: 9417))
        try dir.write("authzd.toml", "[metrics]\nlisten = \"unix:/run/authzd/metrics.sock\"\n" + Self.app)
        #expect(dir.loaded()?.metrics.listen == .unix(path: "/run/authzd/metrics.sock"))
    }

    @Test func badValuesAndUnknownKeysAreErrorsOnTheirLines() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "[metrics]\n\nlisten = \"0.0.0.0\"\nlistne = \"x\"\n" + Self.app)
        let errors = dir.errors()
        #expect(errors.contains { $0.line == 3 && $0.message.hasPrefix("metrics.listen: ") })
        #expect(errors.contains { $0.line == 4 && $0.message.contains("listne") })
        try dir.write("authzd.toml", "[metrics]\nlisten = 9417\n" + Self.app)
        #expect(dir.errors().contains { $0.line == 2 })
    }
}
