import AuthzCore
import Testing

private func pattern(_ text: String) -> PathPattern {
    // The patterns below are valid; a failure here is a broken test.
    try! PathPattern(text)
}

private func run(_ chain: AppChain, method: String?, path: String?, sourceLocation: SourceLocation = #_sourceLocation) -> Decision? {
    switch chain.evaluate(CheckRequest(app: "app", method: method, path: path), now: 1000) {
    case .decided(let d): return d
    case .pending:
        Issue.record("chain is pending", sourceLocation: sourceLocation)
        return nil
    }
}

/// Ant Media's REST API, read for anyone the first step lets through, written only with a token:
/// the second step (standing for a token check) denies, and runs only for writes.
private func antMediaChain(first: FixedPlugin, write: FixedPlugin) -> AppChain {
    AppChain(name: "app", steps: [
        AppChain.Step(pluginName: "first", control: .required, plugin: first),
        AppChain.Step(pluginName: "write", control: .required, plugin: write,
                      match: StepMatch(methods: ["POST", "delete"], paths: [pattern("/LiveApp/rest/v2/broadcasts/**")])),
    ])
}

@Suite struct StepMatchTests {
    @Test func methodsAreComparedIgnoringCase() {
        let m = StepMatch(methods: ["post", "DELETE"], paths: nil)
        #expect(m.matches(method: "POST", path: nil))
        #expect(m.matches(method: "post", path: nil))
        #expect(m.matches(method: "Delete", path: nil))
        #expect(!m.matches(method: "GET", path: nil))
        #expect(!m.matches(method: "POSTX", path: nil))
        #expect(!m.matches(method: nil, path: nil))
    }

    @Test func aStepThatDoesNotMatchIsSkippedAsIfAbsent() throws {
        let first = FixedPlugin(.allowed()), write = FixedPlugin(.denied(.insufficientScope))
        let c = antMediaChain(first: first, write: write)
        let read = try #require(run(c, method: "GET", path: "/LiveApp/rest/v2/broadcasts/list"))
        #expect(read.allow)
        #expect(read.plugin == "first")
        let other = try #require(run(c, method: "POST", path: "/LiveApp/rest/v2/vods/import"))
        #expect(other.allow)
        #expect(write.runCount == 0)

        let create = try #require(run(c, method: "POST", path: "/LiveApp/rest/v2/broadcasts/create"))
        #expect(!create.allow)
        #expect(create.reason == .insufficientScope)
        #expect(create.plugin == "write")
        let delete = try #require(run(c, method: "delete", path: "/LiveApp/rest/v2/broadcasts/stream1"))
        #expect(delete.reason == .insufficientScope)
        #expect(write.runCount == 2)
    }

    @Test func aPathMatchesAfterNormalisationOnly() throws {
        let write = FixedPlugin(.denied(.insufficientScope))
        let c = antMediaChain(first: FixedPlugin(.allowed()), write: write)
        for path in ["/LiveApp/rest;jsessionid=1/v2/broadcasts/create", "/LiveApp/x/..;/rest/v2/broadcasts/create",
                     "/LiveApp//rest/v2/broadcasts/create", "/LiveApp/rest/v2/%62roadcasts/create",
                     "/StreamApp/rest/%2e%2e/%2e%2e/LiveApp/rest/v2/broadcasts/create?a=b"] {
            let d = try #require(run(c, method: "POST", path: path))
            #expect(d.reason == .insufficientScope, "\(path) was not judged as a write")
        }
        #expect(write.runCount == 5)
    }

    @Test func aPathThatCannotBeNormalisedIsABadRequestBeforeAnyStep() throws {
        let first = FixedPlugin(.allowed()), write = FixedPlugin(.denied(.insufficientScope))
        let c = antMediaChain(first: first, write: write)
        for path in ["/LiveApp/../../x", "/LiveApp/rest%2fv2/broadcasts/create", "/LiveApp/%00", "LiveApp/rest", "/a/%zz"] {
            let d = try #require(run(c, method: "GET", path: path))
            #expect(!d.allow)
            #expect(d.status == 400)
            #expect(d.reason == .badRequest)
            #expect(d.plugin == nil)
            #expect(d.message?.hasPrefix("path cannot be normalised: ") == true, "\(d.message ?? "")")
        }
        #expect(first.runCount == 0)
    }

    @Test func aRequestWithoutThePathOrMethodTheChainMatchesOnIsABadRequest() throws {
        let c = antMediaChain(first: FixedPlugin(.allowed()), write: FixedPlugin(.denied(.insufficientScope)))
        let noPath = try #require(run(c, method: "POST", path: nil))
        #expect(noPath.reason == .badRequest)
        #expect(noPath.message?.contains("path") == true)
        let noMethod = try #require(run(c, method: nil, path: "/LiveApp/rest/v2/broadcasts/create"))
        #expect(noMethod.reason == .badRequest)
        #expect(noMethod.message?.contains("method") == true)
    }

    @Test func aChainWithoutMatchDoesNotLookAtThePath() throws {
        let c = AppChain(name: "app", steps: [AppChain.Step(pluginName: "p", control: .required, plugin: FixedPlugin(.allowed()))])
        #expect(!c.needsPath && !c.needsMethod)
        // No match anywhere: the path is not the chain's business, even one it would refuse.
        let d = try #require(run(c, method: nil, path: "/../%2f"))
        #expect(d.allow)
    }

    @Test func whenEveryStepIsSkippedTheChainDeniesWithNoDecision() throws {
        let only = FixedPlugin(.allowed())
        let c = AppChain(name: "app", steps: [
            AppChain.Step(pluginName: "jwt_hmac", control: .required, plugin: only,
                          match: StepMatch(methods: nil, paths: [pattern("/LiveApp/rest/**")])),
        ])
        let d = try #require(run(c, method: "GET", path: "/LiveApp/index.html"))
        #expect(!d.allow)
        #expect(d.reason == .noDecision)
        #expect(d.status == 401)
        #expect(d.message?.contains("matches") == true)
        #expect(only.runCount == 0)
        #expect(try #require(run(c, method: "GET", path: "/LiveApp/rest/v2")).allow)
    }

    @Test func aSkippedSufficientStepNeitherAllowsNorKeepsAReason() throws {
        let c = AppChain(name: "app", steps: [
            AppChain.Step(pluginName: "ip_allowlist", control: .sufficient, plugin: FixedPlugin(.allowed()),
                          match: StepMatch(methods: ["GET"], paths: nil)),
            AppChain.Step(pluginName: "jwt_hmac", control: .required, plugin: FixedPlugin(.denied(.noToken))),
        ])
        #expect(try #require(run(c, method: "GET", path: "/x")).allow)
        let post = try #require(run(c, method: "POST", path: "/x"))
        #expect(post.reason == .noToken)
        #expect(post.plugin == "jwt_hmac")
    }

    @Test func aPendingStepResumesWithThePathNormalisedOnce() throws {
        let gate = Gate()
        let gated = GatedPlugin(gate: gate, .allowed())
        let c = AppChain(name: "app", steps: [
            AppChain.Step(pluginName: "jwks", control: .required, plugin: gated,
                          match: StepMatch(methods: nil, paths: [pattern("/a/**")])),
        ])
        let request = CheckRequest(app: "app", method: "GET", path: "/a/;x/b")
        guard case .pending(var run, _) = c.evaluate(request, now: 1) else {
            Issue.record("expected pending")
            return
        }
        gate.open()
        guard case .decided(let d) = run.advance(c, request, now: 2) else {
            Issue.record("expected a decision")
            return
        }
        #expect(d.allow)
        #expect(gated.runCount == 2)
    }
}
