import AuthzCore
import Testing

/// A factory that reads its one key and returns without calling `config.finish()`.
private struct ForgetfulFactory: PluginFactory {
    var name: String { "forgetful" }

    func makePlugin(config: ConfigTable, context: PluginContext) throws(ConfigError) -> any ChainPlugin {
        _ = try config.string("greeting")
        return AllowingPlugin()
    }
}

private struct AllowingPlugin: ChainPlugin {
    func evaluate(_ request: CheckRequest, now: Int64) -> StepOutcome { .result(.allowed()) }
}

/// The loader, not each plugin, enforces that every key of a step is known.
@Suite struct ForgetfulPluginFactoryTests {
    @Test func aMisspeltKeyIsRefusedEvenWhenTheFactoryNeverCallsFinish() throws {
        let dir = try ConfigDir()
        dir.registry = PluginRegistry([ForgetfulFactory()])
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"forgetful\"\ngreeting = \"hi\"\n\ngreting = \"typo\"\n")
        dir.expectError("apps.d/a.toml", line: 5, containing: "unknown key chain[0].greting")
    }

    @Test func theFactorysOwnKeysAndMatchStillLoad() throws {
        let dir = try ConfigDir()
        dir.registry = PluginRegistry([ForgetfulFactory()])
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", """
            [[chain]]
            plugin = "forgetful"
            control = "sufficient"
            greeting = "hi"
            match = { methods = ["GET"] }
            """)
        let config = try #require(dir.loaded())
        #expect(config.apps["a"]?.steps.map(\.pluginName) == ["forgetful"])
        #expect(config.apps["a"]?.steps.first?.match?.methods == ["GET"])
    }
}
