import AuthzCore
import AuthzJSON
import Foundation
import JOSE
@testable import JWKSPlugin
import Testing

/// The `jwks` step's configuration: defaults, validation with FILE:LINE, and cache sharing.
struct JWKSFactoryTests {
    func error(_ toml: String, context: PluginContext = jwksContext()) -> ConfigError? {
        do {
            _ = try JWKSFactory().makePlugin(config: jwksStepTable(toml), context: context)
            return nil
        } catch {
            return error
        }
    }

    @Test func defaultsFollowTheSpec() throws {
        let table = jwksStepTable("url = \"https://idp.test/jwks.json\"")
        let s = try JWKSFactory.settings(table, context: jwksContext())
        #expect(s == JWKSSourceSettings(url: "https://idp.test/jwks.json", caFile: "", cacheTTL: 300,
                                        minRefetchInterval: 10, maxStale: 86400, fetchTimeout: 5))
        let plugin = try #require(try JWKSFactory().makePlugin(config: jwksStepTable("url = \"https://idp.test/jwks.json\""),
                                                                context: jwksContext()) as? JWKSPlugin)
        #expect(plugin.options.algorithms == [.rs256])
        #expect(plugin.options.policy.requireExp == true)
    }

    @Test func everyKeyIsRead() throws {
        let dir = JWKSTestProvider.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(FileManager.default.createFile(atPath: dir + "/extra.pem", contents: Data("x".utf8)))
        let table = jwksStepTable("""
            url = "http://idp.test:8080/certs"
            algorithms = ["ES256", "EdDSA"]
            cache_ttl = 60
            min_refetch_interval = 5
            max_stale = 600
            fetch_timeout = 2
            ca_file = "extra.pem"
            issuer = "https://idp.test/"
            audience = "api"
            leeway = 30
            require_exp = false
            required_claims = ["sub"]
            forward_claims = { sub = "x-sub" }
            token_from = ["cookie:jwt"]
            """)
        let context = jwksContext(baseDirectory: dir)
        let plugin = try #require(try JWKSFactory().makePlugin(config: table, context: context) as? JWKSPlugin)
        #expect(plugin.cache.settings == JWKSSourceSettings(url: "http://idp.test:8080/certs", caFile: dir + "/extra.pem",
                                                             cacheTTL: 60, minRefetchInterval: 5, maxStale: 600, fetchTimeout: 2))
        #expect(plugin.options.algorithms == [.es256, .edDSA])
        #expect(plugin.options.policy.requireExp == false)
    }

    @Test func aMissingURLIsAnErrorAtTheTablesLine() {
        let e = error("\n\ncache_ttl = 5")
        #expect(e?.message.contains("url is required") == true)
        #expect(e?.file == "apps.d/test.toml")
    }

    @Test(arguments: ["ftp://idp.test/jwks.json", "idp.test/jwks.json", "https://", "https:///path", "https://user:pw@idp.test/", "https://idp.test/a b"])
    func aURLThatIsNotHTTPSOrHTTPIsRefused(url: String) {
        let e = error("algorithms = [\"RS256\"]\nurl = \"\(url)\"")
        #expect(e?.line == 2)
        #expect(e?.message.contains("url must be") == true)
    }

    @Test func unknownKeysAndBadValuesNameTheirLine() {
        #expect(error("url = \"https://idp.test/\"\n\ncache_tll = 5")?.line == 3)
        #expect(error("url = \"https://idp.test/\"\nfetch_timeout = 0")?.line == 2)
        #expect(error("url = \"https://idp.test/\"\nmin_refetch_interval = 0")?.line == 2)
        #expect(error("url = \"https://idp.test/\"\ncache_ttl = \"300\"")?.line == 2)
        #expect(error("url = \"https://idp.test/\"\nmax_stale = -1")?.line == 2)
        let hs = error("url = \"https://idp.test/\"\nalgorithms = [\"RS256\", \"HS256\"]")
        #expect(hs?.line == 2)
        #expect(hs?.message.contains("HS256") == true)
        let ca = error("url = \"https://idp.test/\"\nca_file = \"/nonexistent/ca.pem\"")
        #expect(ca?.line == 2)
        #expect(ca?.message.hasPrefix("ca_file") == true)
    }

    @Test func everyProblemOfAStepIsRecordedNotJustTheFirst() throws {
        let table = jwksStepTable("""
            url = "ftp://idp.test/jwks.json"
            cache_ttl = 0
            fetch_timeout = "5"
            algorithms = ["RS256", "HS256"]
            audience = []
            cache_tll = 5
            """)
        let resources = SharedResources()
        #expect(throws: ConfigError.self) {
            try JWKSFactory().makePlugin(config: table, context: jwksContext(resources: resources))
        }
        #expect(table.errors.map(\.line) == [1, 2, 3, 4, 5, 6], "\(table.errors)")
        #expect(table.errors.first?.message.contains("url must be") == true)
        #expect(table.errors.last?.message.contains("cache_tll") == true)
    }

    @Test func stepsNamingTheSameSourceShareOneCacheAndOneFirstFetch() throws {
        let fetcher = ScriptedFetcher()
        fetcher.hold()
        let resources = SharedResources()
        let a = try #require(try JWKSFactory().makePlugin(config: jwksStepTable("url = \"https://idp.test/jwks.json\""),
                                                           context: jwksContext(fetcher: fetcher, resources: resources)) as? JWKSPlugin)
        let b = try #require(try JWKSFactory().makePlugin(config: jwksStepTable("url = \"https://idp.test/jwks.json\"\nissuer = \"x\""),
                                                           context: jwksContext(fetcher: fetcher, resources: resources)) as? JWKSPlugin)
        #expect(a.cache === b.cache)
        #expect(fetcher.fetchCount == 1)
        let other = try #require(try JWKSFactory().makePlugin(config: jwksStepTable("url = \"https://other.test/jwks.json\""),
                                                               context: jwksContext(fetcher: fetcher, resources: resources)) as? JWKSPlugin)
        #expect(other.cache !== a.cache)
        #expect(fetcher.fetchCount == 2)
        let reporting = resources.all.compactMap { ($0.resource as? any SourceReporting)?.report }
        #expect(reporting.map(\.name).sorted() == ["https://idp.test/jwks.json", "https://other.test/jwks.json"])
        fetcher.release()
    }

    @Test func aReloadKeepsTheCacheAndItsKeys() throws {
        let fetcher = ScriptedFetcher()
        let key = JWKSTestKey(kid: "k", alg: .rs256, JWKSTestKey.rsa)
        fetcher.serve(keys: [key.jwk()])
        let resources = SharedResources()
        resources.beginLoad()
        let first = try #require(try JWKSFactory().makePlugin(config: jwksStepTable("url = \"https://idp.test/jwks.json\""),
                                                               context: jwksContext(fetcher: fetcher, resources: resources)) as? JWKSPlugin)
        resources.commitLoad()
        resources.beginLoad()
        let second = try #require(try JWKSFactory().makePlugin(config: jwksStepTable("url = \"https://idp.test/jwks.json\""),
                                                                context: jwksContext(fetcher: fetcher, resources: resources)) as? JWKSPlugin)
        resources.commitLoad()
        #expect(first.cache === second.cache)
        #expect(fetcher.fetchCount == 1)
        guard case .result(let r) = second.evaluate(JWKSHarness().request(key.token()), now: JWKSTestKey.now) else {
            Issue.record("the reloaded step waited for keys it already had")
            return
        }
        #expect(r.allow)
        // A reload that no longer names the source drops it.
        resources.beginLoad()
        resources.commitLoad()
        #expect(resources.all.isEmpty)
    }
}
