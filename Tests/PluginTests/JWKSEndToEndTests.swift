import AuthzCore
import AuthzFetch
import AuthzJSON
import Foundation
import JOSE
@testable import JWKSPlugin
import Testing

/// The jwks step built from configuration, fetching with CurlFetcher over real HTTPS from the
/// Python provider, with keys and tokens minted by Python's `cryptography` (an implementation
/// independent of ours).
@Suite(.serialized)
struct JWKSEndToEndTests {
    static let fetcher = CurlFetcher(threads: 2)

    /// A step for the provider's URL plus extra TOML lines.
    func step(_ provider: JWKSTestProvider, _ extra: String = "", resources: SharedResources = SharedResources()) throws -> JWKSPlugin {
        let toml = "url = \"\(provider.url)\"\nca_file = \"\(provider.caFile)\"\n" + extra
        let plugin = try JWKSFactory().makePlugin(config: jwksStepTable(toml), context: jwksContext(fetcher: Self.fetcher, resources: resources))
        return try #require(plugin as? JWKSPlugin)
    }

    /// Runs the step the way the chain does: on `.pending`, waits for the resource and runs it again.
    func decide(_ plugin: JWKSPlugin, _ token: String, sourceLocation: SourceLocation = #_sourceLocation) async -> StepResult? {
        let request = CheckRequest(app: "test", headers: Headers([("authorization", "Bearer " + token)]))
        for _ in 0..<5 {
            switch plugin.evaluate(request, now: Int64(Date().timeIntervalSince1970)) {
            case .result(let r): return r
            case .pending(let p): await withCheckedContinuation { c in p.whenReady { c.resume() } }
            }
        }
        Issue.record("the step stayed pending after its fetch completed", sourceLocation: sourceLocation)
        return nil
    }

    static let algorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]

    func claims(_ sub: String = "alice") -> JSONValue {
        ["sub": .string(sub), "exp": .number(JSONNumber(Int(Date().timeIntervalSince1970) + 600))]
    }

    /// Polls until `condition` holds (or gives up after a generous bound, recording why).
    func eventually(_ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () -> Bool) async {
        for _ in 0..<200 {
            if condition() { return }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        Issue.record("never happened: \(what)", sourceLocation: sourceLocation)
    }

    @Test func everyAlgorithmVerifiesRealTokensFetchedOverHTTPS() async throws {
        guard let provider = JWKSTestProvider.start() else { return }
        let keys = Self.algorithms.map { JWKSMinter.KeySpec(kid: "k-" + $0, alg: $0) }
        let tokens = Self.algorithms.map { JWKSMinter.TokenSpec(key: "k-" + $0, alg: $0, claims: claims($0)) }
        guard let minted = JWKSMinter.run(dir: provider.dir, keys: keys, tokens: tokens) else { return }
        provider.setKeySet(Self.algorithms.map { minted.keys["k-" + $0]!.jwk })
        let plugin = try step(provider, "algorithms = [\(Self.algorithms.map { "\"\($0)\"" }.joined(separator: ", "))]\nforward_claims = { sub = \"x-sub\" }")
        for (alg, token) in zip(Self.algorithms, minted.tokens) {
            let r = await decide(plugin, token)
            #expect(r?.allow == true, "\(alg): \(r?.reason.code ?? "none") \(r?.message ?? "")")
            #expect(r?.headers.first { $0.0 == "x-sub" }?.1 == alg)
        }
        #expect(provider.fetchCount == 1)
        #expect(plugin.cache.stats["keys"] == 10)
    }

    @Test func anHS256TokenMACedWithTheProvidersPublicKeyIsDenied() async throws {
        guard let provider = JWKSTestProvider.start() else { return }
        guard let minted = JWKSMinter.run(dir: provider.dir, keys: [.init(kid: "rsa", alg: "RS256")],
                                          tokens: [.init(key: "rsa", alg: "HS256", kid: "rsa", claims: claims(), hmacWithPublicOf: "rsa")])
        else { return }
        provider.setKeySet([minted.keys["rsa"]!.jwk])
        let plugin = try step(provider)
        let r = await decide(plugin, minted.tokens[0])
        #expect(r?.allow == false)
        #expect(r?.reason == .algNotAllowed)
    }

    @Test func aRotatedInKeyIsPickedUpOnFirstSight() async throws {
        guard let provider = JWKSTestProvider.start() else { return }
        guard let minted = JWKSMinter.run(dir: provider.dir, keys: [.init(kid: "old", alg: "ES256"), .init(kid: "new", alg: "ES256")],
                                          tokens: [.init(key: "old", alg: "ES256", claims: claims()), .init(key: "new", alg: "ES256", claims: claims())])
        else { return }
        provider.setKeySet([minted.keys["old"]!.jwk])
        let plugin = try step(provider, "algorithms = [\"ES256\"]\nmin_refetch_interval = 1")
        #expect(await decide(plugin, minted.tokens[0])?.allow == true)
        #expect(provider.fetchCount == 1)
        provider.setKeySet([minted.keys["old"]!.jwk, minted.keys["new"]!.jwk])
        // The rate limit counts from the end of the last fetch: wait it out rather than race it.
        // (From its end, not its start: a slow machine or a sanitizer build can take longer than
        // the margin to fetch.)
        let fetchedAt = plugin.cache.keys.machine.lastAttemptEnd.map(plugin.cache.keys.unixTime) ?? 0
        await eventually("min_refetch_interval passed") { Date().timeIntervalSince1970 > fetchedAt + 1.5 }
        let r = await decide(plugin, minted.tokens[1])
        #expect(r?.allow == true, "\(r?.reason.code ?? "") \(r?.message ?? "")")
        #expect(provider.fetchCount == 2)
    }

    @Test func aFloodOfUnknownKidsFetchesAtMostOncePerMinRefetchInterval() async throws {
        guard let provider = JWKSTestProvider.start() else { return }
        let tokens = (0..<40).map { JWKSMinter.TokenSpec(key: "k", alg: "RS256", kid: .string("unknown-\($0)"), claims: claims()) }
        guard let minted = JWKSMinter.run(dir: provider.dir, keys: [.init(kid: "k", alg: "RS256")], tokens: tokens) else { return }
        provider.setKeySet([minted.keys["k"]!.jwk])
        // An hour-long interval: within this test only one refetch may happen.
        let plugin = try step(provider, "min_refetch_interval = 3600")
        for token in minted.tokens {
            #expect(await decide(plugin, token)?.reason == .unknownKid)
        }
        #expect(provider.fetchCount == 1)
        #expect(plugin.cache.stats["fetches"] == 1)
    }

    @Test func staleKeysKeepServingWhileTheProviderAnswers500() async throws {
        guard let provider = JWKSTestProvider.start() else { return }
        guard let minted = JWKSMinter.run(dir: provider.dir, keys: [.init(kid: "k", alg: "EdDSA")],
                                          tokens: [.init(key: "k", alg: "EdDSA", claims: claims("first")),
                                                   .init(key: "k", alg: "EdDSA", claims: claims("second"))])
        else { return }
        provider.setKeySet([minted.keys["k"]!.jwk])
        // Fresh for one second, refreshed in the background at 80% of that.
        let plugin = try step(provider, "algorithms = [\"EdDSA\"]\ncache_ttl = 1\nmin_refetch_interval = 1")
        #expect(await decide(plugin, minted.tokens[0])?.allow == true)
        provider.setMode("500")
        await eventually("a background refresh failed with HTTP 500") {
            plugin.cache.stats["last_result"] == "HTTP status 500" && plugin.cache.stats["serving_stale"] == true
        }
        let r = await decide(plugin, minted.tokens[1])
        #expect(r?.allow == true, "\(r?.reason.code ?? "") \(r?.message ?? "")")
        #expect(plugin.cache.stats["keys"] == 1)
        plugin.cache.shutdown()
    }

    @Test func garbageFromTheProviderNeverReplacesTheLastGoodSet() async throws {
        guard let provider = JWKSTestProvider.start() else { return }
        guard let minted = JWKSMinter.run(dir: provider.dir, keys: [.init(kid: "k", alg: "PS256")],
                                          tokens: [.init(key: "k", alg: "PS256", claims: claims("a")),
                                                   .init(key: "k", alg: "PS256", kid: "other", claims: claims("b")),
                                                   .init(key: "k", alg: "PS256", claims: claims("c"))])
        else { return }
        provider.setKeySet([minted.keys["k"]!.jwk])
        let plugin = try step(provider, "algorithms = [\"PS256\"]\nmin_refetch_interval = 1")
        #expect(await decide(plugin, minted.tokens[0])?.allow == true)
        provider.setMode("garbage")
        let fetchedAt = plugin.cache.keys.machine.lastAttemptEnd.map(plugin.cache.keys.unixTime) ?? 0
        await eventually("min_refetch_interval passed") { Date().timeIntervalSince1970 > fetchedAt + 1.5 }
        // An unknown kid forces a fetch, which brings garbage. (Counted as "at least one more":
        // the failed fetch may be retried after min_refetch_interval before the count is read.)
        let before = provider.fetchCount
        #expect(await decide(plugin, minted.tokens[1])?.reason == .unknownKid)
        #expect(provider.fetchCount > before)
        #expect(await decide(plugin, minted.tokens[2])?.allow == true)
    }

    @Test(arguments: ["hang", "closed", "500", "garbage"])
    func withNoSetEverFetchedTheAnswerIsJwksUnavailable(failure: String) async throws {
        guard let provider = JWKSTestProvider.start() else { return }
        guard let minted = JWKSMinter.run(dir: provider.dir, keys: [.init(kid: "k", alg: "RS256")],
                                          tokens: [.init(key: "k", alg: "RS256", claims: claims())])
        else { return }
        provider.setKeySet([minted.keys["k"]!.jwk])
        if failure == "closed" {
            provider.stop()
        } else {
            provider.setMode(failure)
            provider.setHangSeconds(30)
        }
        let plugin = try step(provider, "fetch_timeout = 1")
        let r = await decide(plugin, minted.tokens[0])
        #expect(r?.allow == false)
        #expect(r?.reason == .jwksUnavailable)
        #expect(r?.status == 503)
        #expect(plugin.cache.stats["fetches"] == 1)
        plugin.cache.shutdown()
    }

    /// A step that discovers its keys from the provider as issuer `path`.
    func discoveringStep(_ provider: JWKSTestProvider, issuer: String, _ extra: String = "") throws -> JWKSPlugin {
        let toml = "oidc_issuer = \"\(issuer)\"\nca_file = \"\(provider.caFile)\"\n" + extra
        let plugin = try JWKSFactory().makePlugin(config: jwksStepTable(toml), context: jwksContext(fetcher: Self.fetcher))
        return try #require(plugin as? JWKSPlugin)
    }

    @Test func oidcDiscoveryOverHTTPSNamesTheKeySetAndTheIssuer() async throws {
        guard let provider = JWKSTestProvider.start() else { return }
        let issuer = provider.url("/realms/main")
        var good = claims()
        good = .object(JSONObject((good.objectValue?.members ?? []) + [("iss", .string(issuer))]))
        var foreign = claims("mallory")
        foreign = .object(JSONObject((foreign.objectValue?.members ?? []) + [("iss", .string(provider.url("/realms/other")))]))
        guard let minted = JWKSMinter.run(dir: provider.dir, keys: [.init(kid: "k", alg: "ES256")],
                                          tokens: [.init(key: "k", alg: "ES256", claims: good), .init(key: "k", alg: "ES256", claims: foreign)])
        else { return }
        provider.setKeySet([minted.keys["k"]!.jwk])
        provider.setDiscovery(["issuer": .string(issuer), "jwks_uri": .string(provider.url)])
        let plugin = try discoveringStep(provider, issuer: issuer, "algorithms = [\"ES256\"]")
        let r = await decide(plugin, minted.tokens[0])
        #expect(r?.allow == true, "\(r?.reason.code ?? "") \(r?.message ?? "")")
        #expect(await decide(plugin, minted.tokens[1])?.reason == .badIssuer)
        #expect(provider.discoveryCount == 1)
        #expect(provider.fetchCount == 1)
        #expect(plugin.cache.stats["url"] == .string(provider.url))
        plugin.cache.shutdown()
    }

    @Test func aDiscoveryDocumentNamingAnotherIssuerIsJwksUnavailable() async throws {
        guard let provider = JWKSTestProvider.start() else { return }
        let issuer = provider.url("/realms/main")
        var good = claims()
        good = .object(JSONObject((good.objectValue?.members ?? []) + [("iss", .string(issuer))]))
        guard let minted = JWKSMinter.run(dir: provider.dir, keys: [.init(kid: "k", alg: "RS256")],
                                          tokens: [.init(key: "k", alg: "RS256", claims: good)])
        else { return }
        provider.setKeySet([minted.keys["k"]!.jwk])
        provider.setDiscovery(["issuer": .string(provider.url("/realms/master")), "jwks_uri": .string(provider.url)])
        let plugin = try discoveringStep(provider, issuer: issuer)
        let r = await decide(plugin, minted.tokens[0])
        #expect(r?.allow == false)
        #expect(r?.reason == .jwksUnavailable)
        #expect(r?.status == 503)
        #expect(r?.message?.contains("not oidc_issuer") == true, "\(r?.message ?? "")")
        #expect(provider.discoveryCount == 1)
        #expect(provider.fetchCount == 0)
        plugin.cache.shutdown()
    }
}
