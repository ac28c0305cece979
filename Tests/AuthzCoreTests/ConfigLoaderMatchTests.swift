import AuthzCore
import Foundation
import Testing

/// The per-step `match` key (SPEC §8), read by the loader for every plugin.
@Suite struct ConfigLoaderMatchTests {
    private func places(_ errors: [ConfigError], in dir: ConfigDir) -> [String] {
        errors.map { "\($0.file.dropFirst(dir.path.count + 1)):\($0.line)" }
    }

    private func run(_ chain: AppChain?, method: String, path: String, sourceLocation: SourceLocation = #_sourceLocation) -> Decision? {
        guard let chain else {
            Issue.record("no such app", sourceLocation: sourceLocation)
            return nil
        }
        let request = CheckRequest(app: chain.name, remoteAddr: "127.0.0.1", method: method, path: path)
        guard case .decided(let d) = chain.evaluate(request, now: 1_800_000_000) else { return nil }
        return d
    }

    @Test func anyPluginsStepTakesMatchInEitherForm() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/LiveApp.toml", """
            [[chain]]
            plugin = "ip_allowlist"
            allow = ["127.0.0.1"]
            match = { methods = ["GET"] }

            [[chain]]
            plugin = "jwt_hmac"
            secret = "\(secret32)"

            [chain.match]
            methods = ["post", "DELETE"]
            paths = [
              "/LiveApp/rest/v2/broadcasts/**",
              "/LiveApp/rest/v2/vods/*",
            ]
            """)
        let config = try #require(dir.loaded())
        let chain = try #require(config.apps["LiveApp"])
        #expect(chain.steps.map { $0.match != nil } == [true, true])
        #expect(chain.steps[1].match?.methods == ["POST", "DELETE"])
        #expect(chain.steps[1].match?.paths?.map(\.text) == ["/LiveApp/rest/v2/broadcasts/**", "/LiveApp/rest/v2/vods/*"])
        #expect(chain.needsPath && chain.needsMethod)
        // GET: the allowlist runs, jwt_hmac is skipped.
        #expect(try #require(run(chain, method: "GET", path: "/LiveApp/rest/v2/broadcasts/list")).allow)
        // POST under broadcasts: the allowlist is skipped and jwt_hmac asks for a token.
        let create = try #require(run(chain, method: "POST", path: "/LiveApp/rest;jsessionid=1/v2/broadcasts/create"))
        #expect(create.reason == .noToken)
        // PUT: nothing runs, deny by default.
        #expect(try #require(run(chain, method: "PUT", path: "/LiveApp/rest/v2/broadcasts/x")).reason == .noDecision)
    }

    @Test func matchErrorsNameTheFileAndLineOfEachEntry() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", """
            [[chain]]
            plugin = "ip_allowlist"
            allow = ["127.0.0.1"]
            [chain.match]
            methods = [
              "GET",
              "GE T",
            ]
            paths = [
              "/ok/**",
              "no-slash",
              "/a//b",
              "/a/**x",
              "/a/../b",
            ]
            """)
        let errs = dir.errors()
        #expect(places(errs, in: dir) == ["apps.d/a.toml:7", "apps.d/a.toml:11", "apps.d/a.toml:12",
                                          "apps.d/a.toml:13", "apps.d/a.toml:14"], "\(errs)")
        #expect(errs.count == 5)
        guard errs.count == 5 else { return }
        #expect(errs[0].message == "match.methods entry \"GE T\" is not an HTTP method")
        #expect(errs[1].message.contains("\"no-slash\" must start with '/'"))
        #expect(errs[2].message.contains("empty segment"))
        #expect(errs[3].message.contains("whole segment"))
        #expect(errs[4].message.contains("'.' or '..'"))
        #expect(errs[4].description.hasPrefix("\(dir.path)/apps.d/a.toml:14: "))
    }

    @Test(arguments: [
        ("match = {}", "match needs methods, paths or both"),
        ("match = { methods = [] }", "match.methods must not be empty"),
        ("match = { paths = [] }", "match.paths must not be empty"),
        ("match = { path = [\"/a\"] }", "unknown key chain[0].match.path"),
        ("match = { methods = \"GET\" }", "must be an array of strings"),
        ("match = { paths = [1] }", "must be an array of strings"),
        ("match = \"/a/**\"", "must be a table"),
    ])
    func aBadMatchIsAnErrorOnItsLine(_ line: String, _ message: String) throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"127.0.0.1\"]\n\(line)\n")
        let errs = dir.errors()
        #expect(places(errs, in: dir).contains("apps.d/a.toml:4"), "\(errs)")
        #expect(errs.contains { $0.message.contains(message) }, "\(errs)")
    }

    @Test func theJWKSStepTakesMatchAndRequiredScopes() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", """
            [[chain]]
            plugin = "jwks"
            url = "https://idp.test/jwks.json"
            required_scopes = ["broadcast:write"]
            match = { methods = ["POST"] }
            """)
        let chain = try #require(dir.loaded()?.apps["a"])
        #expect(chain.steps.first?.match?.methods == ["POST"])
        #expect(chain.needsMethod && !chain.needsPath)
    }

    @Test func aStepWithAnUnknownPluginStillHasItsMatchChecked() throws {
        let dir = try ConfigDir()
        try dir.write("authzd.toml", "")
        try dir.write("apps.d/a.toml", "[[chain]]\nplugin = \"ldap\"\nmatch = { paths = [\"x\"] }\n")
        #expect(places(dir.errors(), in: dir) == ["apps.d/a.toml:2", "apps.d/a.toml:3"])
    }
}
