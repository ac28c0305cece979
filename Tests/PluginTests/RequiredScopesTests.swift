import AuthzCore
import AuthzCrypto
import AuthzJSON
import JOSE
@testable import JWKSPlugin
import JWTHMACPlugin
import JWTSupport
import Testing

private let secret = "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq"
private let now = StepFixture.now

/// An HS256 token for alice, valid for an hour, with `members` added to its claims.
private func token(_ members: [(String, JSONValue)]) -> String {
    let base: [(String, JSONValue)] = [("sub", .string("alice")), ("exp", .number(JSONNumber(Int(now + 3600))))]
    return JWSSigner.sign(claims: JSONObject(base + members), kid: nil,
                          hmac: HMACKey(algorithm: .sha256, key: Array(secret.utf8)))
}

private func bearer(_ token: String) -> CheckRequest {
    CheckRequest(app: "LiveApp", headers: Headers([("Authorization", "Bearer " + token)]))
}

private func strings(_ items: [String]) -> JSONValue { .array(items.map { .string($0) }) }

/// `required_scopes` (SPEC §8), in the options every JWT plugin shares and checked by
/// `JWTVerdict.decide(claims:now:)` after the claim policy.
@Suite struct RequiredScopesTests {
    private func step(_ scopes: String = #"["broadcast:write"]"#, extra: String = "",
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> any ChainPlugin {
        try StepFixture.plugin(JWTHMACFactory(), "secret = \"\(secret)\"\nrequired_scopes = \(scopes)\n\(extra)",
                               app: "LiveApp", sourceLocation: sourceLocation)
    }

    private func run(_ p: any ChainPlugin, _ t: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> StepResult {
        try #require(StepFixture.result(p, bearer(t), sourceLocation: sourceLocation), sourceLocation: sourceLocation)
    }

    /// Expects 403 insufficient_scope with RFC 6750's challenge naming the required scopes.
    private func expectInsufficient(_ r: StepResult, scopes: String = "broadcast:write",
                                    sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!r.allow, sourceLocation: sourceLocation)
        #expect(r.reason == .insufficientScope, "got \(r.reason)", sourceLocation: sourceLocation)
        #expect(r.status == 403, sourceLocation: sourceLocation)
        let challenge = r.headers.first { $0.0 == "www-authenticate" }?.1
        #expect(challenge == "Bearer realm=\"LiveApp\", error=\"insufficient_scope\", scope=\"\(scopes)\"",
                sourceLocation: sourceLocation)
    }

    @Test func aSpaceSeparatedScopeStringGrants() throws {
        let p = try step()
        #expect(try run(p, token([("scope", "broadcast:write")])).allow)
        #expect(try run(p, token([("scope", "broadcast:read broadcast:write vod:read")])).allow)
        #expect(try run(p, token([("scope", "  broadcast:read   broadcast:write ")])).allow)
    }

    @Test func anScpArrayGrants() throws {
        let p = try step()
        #expect(try run(p, token([("scp", strings(["broadcast:write"]))])).allow)
        #expect(try run(p, token([("scp", strings(["broadcast:read", "broadcast:write"]))])).allow)
    }

    @Test func everyRequiredScopeMustBeHeldAndExtraOnesAreFine() throws {
        let p = try step(#"["broadcast:read", "broadcast:write"]"#)
        let allowed = try run(p, token([("scope", "openid broadcast:write profile broadcast:read")]))
        #expect(allowed.allow)
        #expect(allowed.subject == "alice")
        let onlyRead = try run(p, token([("scope", "broadcast:read")]))
        expectInsufficient(onlyRead, scopes: "broadcast:read broadcast:write")
        #expect(onlyRead.message == "the token lacks scope broadcast:write")
        // Both claims count together.
        #expect(try run(p, token([("scope", "broadcast:read"), ("scp", strings(["broadcast:write"]))])).allow)
    }

    @Test func aScopeIsMatchedWhole() throws {
        let p = try step()
        for granted in ["broadcast:writer", "broadcast", "BROADCAST:WRITE", "broadcast:write,vod", "xbroadcast:write"] {
            expectInsufficient(try run(p, token([("scope", .string(granted))])))
        }
        expectInsufficient(try run(p, token([("scp", strings(["broadcast:read broadcast:write"]))])))
    }

    @Test func aTokenWithoutScopesIsInsufficient() throws {
        let r = try run(try step(), token([]))
        expectInsufficient(r)
        #expect(r.message?.contains("no scope") == true)
        expectInsufficient(try run(try step(), token([("scope", "")])))
        expectInsufficient(try run(try step(), token([("scp", .array([]))])))
    }

    @Test(arguments: [
        ("scope", JSONValue.array([.string("broadcast:write")])),
        ("scope", .number(JSONNumber(1))),
        ("scope", .bool(true)),
        ("scope", .null),
        ("scp", .string("broadcast:write")),
        ("scp", .array([.string("broadcast:write"), .number(JSONNumber(2))])),
        ("scp", .object(JSONObject([("broadcast:write", .bool(true))]))),
    ])
    func aScopeClaimOfTheWrongTypeIsInsufficient(_ claim: String, _ value: JSONValue) throws {
        let p = try step()
        expectInsufficient(try run(p, token([(claim, value)])))
        // Even next to a well-formed grant: a malformed grant is no grant.
        let other = claim == "scope" ? ("scp", strings(["broadcast:write"])) : ("scope", JSONValue.string("broadcast:write"))
        expectInsufficient(try run(p, token([(claim, value), other])))
    }

    @Test func theClaimPolicyIsCheckedFirst() throws {
        let p = try step(extra: "issuer = \"https://idp.test\"")
        let r = try run(p, token([("scope", "vod:read")]))
        #expect(r.reason == .badIssuer)
        #expect(r.status == 401)
    }

    @Test func aCachedTokenIsJudgedAgainEveryTime() throws {
        let p = try step()
        let t = token([("scope", "broadcast:read")])
        expectInsufficient(try run(p, t))
        expectInsufficient(try run(p, t))
    }

    @Test func withoutRequiredScopesNoScopeIsNeeded() throws {
        let p = try StepFixture.plugin(JWTHMACFactory(), "secret = \"\(secret)\"\n", app: "LiveApp")
        #expect(try run(p, token([])).allow)
        #expect(try run(p, token([("scope", .number(JSONNumber(3)))])).allow)
    }

    @Test func theRealmInTheChallengeIsQuoted() throws {
        let p = try StepFixture.plugin(JWTHMACFactory(), "secret = \"\(secret)\"\nrequired_scopes = [\"a\"]\n", app: "we\"ird")
        let r = try #require(StepFixture.result(p, bearer(token([]))))
        #expect(r.headers.first { $0.0 == "www-authenticate" }?.1 == #"Bearer realm="we\"ird", error="insufficient_scope", scope="a""#)
    }

    @Test func jwksTokensAreCheckedTheSameWay() {
        let key = JWKSTestKey(kid: "rs256", alg: .rs256, JWKSTestKey.rsa)
        let h = JWKSHarness("url = \"https://idp.test/jwks.json\"\nrequired_scopes = [\"broadcast:write\"]")
        h.fetcher.serve(keys: [key.jwk()])
        var granted = JWKSTestKey.validClaims()
        granted["scp"] = strings(["broadcast:read", "broadcast:write"])
        #expect(h.evaluate(key.token(granted))?.allow == true)
        var readOnly = JWKSTestKey.validClaims()
        readOnly["scope"] = .string("broadcast:read")
        let r = h.evaluate(key.token(readOnly))
        #expect(r?.reason == .insufficientScope)
        #expect(r?.status == 403)
        #expect(r?.headers.first { $0.0 == "www-authenticate" }?.1 == #"Bearer realm="test", error="insufficient_scope", scope="broadcast:write""#)
    }

    @Test(arguments: [
        ("required_scopes = []", "required_scopes must not be empty"),
        ("required_scopes = [\"\"]", "is not a scope"),
        ("required_scopes = [\"broadcast write\"]", "is not a scope"),
        ("required_scopes = [\"a\\\"b\"]", "is not a scope"),
        ("required_scopes = [\"a\\\\b\"]", "is not a scope"),
        ("required_scopes = [\"a\\tb\"]", "is not a scope"),
        ("required_scopes = [\"café\"]", "is not a scope"),
        ("required_scopes = \"broadcast:write\"", "must be an array of strings"),
        ("required_scopes = [1]", "must be an array of strings"),
    ])
    func badRequiredScopesAreAnErrorOnTheirLine(_ line: String, _ message: String) throws {
        let errs = try StepFixture.errors(JWTHMACFactory(), "secret = \"\(secret)\"\n\n\(line)\n")
        #expect(errs.count == 1, "\(errs)")
        #expect(errs.first?.line == 3)
        #expect(errs.first?.message.contains(message) == true, "\(errs)")
    }

    @Test func eachBadEntryOfAListOverSeveralLinesIsReportedOnItsLine() throws {
        let errs = try StepFixture.errors(JWTHMACFactory(), """
            secret = "\(secret)"
            required_scopes = [
              "broadcast:read",
              "broadcast write",
              "",
            ]
            """)
        #expect(errs.map(\.line) == [4, 5], "\(errs)")
    }

    @Test func theJWKSStepReadsTheKeyToo() throws {
        let options = try JWTOptions.parse(jwksStepTable("url = \"https://idp.test/jwks.json\"\nrequired_scopes = [\"a\", \"b\", \"a\"]"),
                                           context: jwksContext(), permitted: [.rs256], defaultAlgorithms: [.rs256],
                                           defaultRequireExp: true)
        #expect(options.requiredScopes == ["a", "b"])
        #expect(JWTOptions.keys.contains("required_scopes"))
    }
}
