import AuthzJSON
import JOSE
import Testing

@Suite struct ClaimPolicyTests {
    let now: Int64 = 1_700_000_000

    func claims(_ pairs: (String, JSONValue)...) -> JSONObject {
        JSONObject(pairs.map { (key: $0.0, value: $0.1) })
    }

    @Test func tokenIsExpiredAtExactlyExp() throws {
        let policy = ClaimPolicy()
        try policy.validate(claims(("exp", .number(JSONNumber(Int(now) + 1)))), now: now)
        expectCode(.tokenExpired) { () throws(JOSEError) in
            try policy.validate(claims(("exp", .number(JSONNumber(Int(now))))), now: now)
        }
    }

    @Test func leewayExtendsExpAndNbf() throws {
        let policy = ClaimPolicy(leeway: 30)
        try policy.validate(claims(("exp", .number(JSONNumber(Int(now) - 29)))), now: now)
        expectCode(.tokenExpired) { () throws(JOSEError) in
            try policy.validate(claims(("exp", .number(JSONNumber(Int(now) - 30)))), now: now)
        }
        try policy.validate(claims(("nbf", .number(JSONNumber(Int(now) + 30)))), now: now)
        expectCode(.tokenNotYetValid) { () throws(JOSEError) in
            try policy.validate(claims(("nbf", .number(JSONNumber(Int(now) + 31)))), now: now)
        }
    }

    @Test func futureNbfOrIatIsNotYetValid() throws {
        let policy = ClaimPolicy()
        try policy.validate(claims(("nbf", .number(JSONNumber(Int(now)))), ("iat", .number(JSONNumber(Int(now))))), now: now)
        expectCode(.tokenNotYetValid) { () throws(JOSEError) in
            try policy.validate(claims(("nbf", .number(JSONNumber(Int(now) + 1)))), now: now)
        }
        expectCode(.tokenNotYetValid) { () throws(JOSEError) in
            try policy.validate(claims(("iat", .number(JSONNumber(Int(now) + 1)))), now: now)
        }
    }

    @Test func fractionalNumericDatesAreCompared() {
        expectCode(.tokenExpired) { () throws(JOSEError) in
            try ClaimPolicy().validate(claims(("exp", .number(JSONNumber(Double(now) - 0.5)))), now: now)
        }
    }

    @Test(arguments: ["exp", "nbf", "iat"])
    func timeClaimThatIsNotANumberIsMalformed(name: String) {
        for value: JSONValue in [.string("1700000000"), .bool(true), .null, [1]] {
            expectCode(.malformedToken) { () throws(JOSEError) in
                try ClaimPolicy().validate(claims((name, value)), now: now)
            }
        }
    }

    @Test func missingExpIsRefusedOnlyWhenRequired() throws {
        try ClaimPolicy().validate(claims(("sub", "a")), now: now)
        do {
            try ClaimPolicy(requireExp: true).validate(claims(("sub", "a")), now: now)
            Issue.record("missing exp accepted")
        } catch {
            #expect(error.code == .missingClaim)
            #expect(error.message == "exp required")
        }
    }

    @Test func issuerMustBeOneOfTheAccepted() throws {
        let policy = ClaimPolicy(issuers: ["https://a.example", "https://b.example"])
        try policy.validate(claims(("iss", "https://b.example")), now: now)
        expectCode(.badIssuer) { () throws(JOSEError) in try policy.validate(claims(("iss", "https://c.example")), now: now) }
        expectCode(.badIssuer) { () throws(JOSEError) in try policy.validate(claims(("sub", "x")), now: now) }
        expectCode(.badIssuer) { () throws(JOSEError) in try policy.validate(claims(("iss", ["https://a.example"])), now: now) }
        // No issuers configured: anything goes.
        try ClaimPolicy().validate(claims(("iss", "https://c.example")), now: now)
    }

    @Test func audienceMustShareOneValue() throws {
        let policy = ClaimPolicy(audiences: ["api", "admin"])
        try policy.validate(claims(("aud", "api")), now: now)
        try policy.validate(claims(("aud", ["other", "admin"])), now: now)
        expectCode(.badAudience) { () throws(JOSEError) in try policy.validate(claims(("aud", "other")), now: now) }
        expectCode(.badAudience) { () throws(JOSEError) in try policy.validate(claims(("aud", ["x", "y"])), now: now) }
        expectCode(.badAudience) { () throws(JOSEError) in try policy.validate(claims(("aud", [])), now: now) }
        expectCode(.badAudience) { () throws(JOSEError) in try policy.validate(claims(("aud", ["api", 1])), now: now) }
        expectCode(.badAudience) { () throws(JOSEError) in try policy.validate(claims(("sub", "x")), now: now) }
        // No audiences configured: aud is not checked.
        try ClaimPolicy().validate(claims(("aud", "anything")), now: now)
    }

    @Test func requiredClaimsMustBePresent() throws {
        let policy = ClaimPolicy(requiredClaims: ["sub", "scope"])
        try policy.validate(claims(("sub", "a"), ("scope", .null)), now: now)
        do {
            try policy.validate(claims(("sub", "a")), now: now)
            Issue.record("missing scope accepted")
        } catch {
            #expect(error.code == .missingClaim)
            #expect(error.message.contains("scope"))
        }
    }

    @Test func messagesNeverEchoClaimValues() {
        do {
            try ClaimPolicy(issuers: ["good"]).validate(claims(("iss", "evil-issuer-value")), now: now)
        } catch {
            #expect(!error.message.contains("evil-issuer-value"))
        }
    }
}
