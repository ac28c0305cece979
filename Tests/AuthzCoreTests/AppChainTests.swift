import AuthzCore
import Synchronization
import Testing

/// A plugin that always answers the same and counts how often it ran.
final class FixedPlugin: ChainPlugin {
    let result: StepResult
    private let runs = Mutex(0)

    init(_ result: StepResult) { self.result = result }

    var runCount: Int { runs.withLock { $0 } }

    func evaluate(_ request: CheckRequest, now: Int64) -> StepOutcome {
        runs.withLock { $0 += 1 }
        return .result(result)
    }
}

/// A resource that is ready once `open()` is called; callbacks registered before then run then.
final class Gate: PendingResource {
    private struct State {
        var isOpen = false
        var waiters: [@Sendable () -> Void] = []
    }
    private let state = Mutex(State())

    var isOpen: Bool { state.withLock { $0.isOpen } }

    func open() {
        let waiters = state.withLock { s in
            s.isOpen = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w() }
    }

    func whenReady(_ callback: @escaping @Sendable () -> Void) {
        let now = state.withLock { s in
            if s.isOpen { return true }
            s.waiters.append(callback)
            return false
        }
        if now { callback() }
    }
}

/// A plugin that waits on a gate, then answers.
final class GatedPlugin: ChainPlugin {
    let gate: Gate
    let result: StepResult
    private let runs = Mutex(0)

    init(gate: Gate, _ result: StepResult) {
        self.gate = gate
        self.result = result
    }

    var runCount: Int { runs.withLock { $0 } }

    func evaluate(_ request: CheckRequest, now: Int64) -> StepOutcome {
        runs.withLock { $0 += 1 }
        return gate.isOpen ? .result(result) : .pending(gate)
    }
}

private let allowPlain = StepResult.allowed()
private func allow(_ headers: [(String, String)] = [], ttl: Int? = nil, subject: String? = nil) -> StepResult {
    .allowed(headers: headers, ttl: ttl, subject: subject)
}
private func deny(_ reason: Reason, _ headers: [(String, String)] = []) -> StepResult {
    .denied(reason, message: "\(reason) message", headers: headers)
}

private func chain(_ steps: [(String, Control, any ChainPlugin)]) -> AppChain {
    AppChain(name: "app", steps: steps.map { AppChain.Step(pluginName: $0.0, control: $0.1, plugin: $0.2) })
}

/// The decision of a chain that must not pend.
private func decide(_ c: AppChain, now: Int64 = 1000, sourceLocation: SourceLocation = #_sourceLocation) -> Decision? {
    switch c.evaluate(CheckRequest(app: "app"), now: now) {
    case .decided(let d): return d
    case .pending:
        Issue.record("chain is pending", sourceLocation: sourceLocation)
        return nil
    }
}

private func headerDict(_ h: [(String, String)]) -> [String: String] {
    Dictionary(h, uniquingKeysWith: { a, _ in a })
}

@Suite struct AppChainTests {
    @Test func requiredDenyEndsTheChainWithItsDenial() throws {
        let later = FixedPlugin(allowPlain)
        let d = try #require(decide(chain([
            ("ip_allowlist", .required, FixedPlugin(allowPlain)),
            ("jwt_hmac", .required, FixedPlugin(deny(.badSignature, [("www-authenticate", "Bearer x")]))),
            ("after", .sufficient, later),
        ])))
        #expect(!d.allow)
        #expect(d.reason == .badSignature)
        #expect(d.status == 401)
        #expect(d.plugin == "jwt_hmac")
        #expect(d.message == "bad_signature message")
        #expect(headerDict(d.headers) == ["www-authenticate": "Bearer x"])
        #expect(later.runCount == 0)
    }

    @Test func allRequiredAllowingAllows() throws {
        let d = try #require(decide(chain([
            ("ip_allowlist", .required, FixedPlugin(allowPlain)),
            ("jwt_hmac", .required, FixedPlugin(allow([("x-sub", "alice")], subject: "alice"))),
        ])))
        #expect(d.allow && d.status == 200 && d.reason == .ok)
        #expect(d.plugin == "jwt_hmac")
        #expect(headerDict(d.headers) == ["x-sub": "alice"])
        #expect(d.subject == "alice")
    }

    @Test func sufficientAllowEndsTheChainWithAllow() throws {
        let later = FixedPlugin(deny(.noToken))
        let d = try #require(decide(chain([
            ("ip_allowlist", .sufficient, FixedPlugin(allowPlain)),
            ("jwt_hmac", .required, later),
        ])))
        #expect(d.allow)
        #expect(d.plugin == "ip_allowlist")
        #expect(later.runCount == 0)
    }

    @Test func sufficientDenyKeepsItsReasonAndTheChainGoesOn() throws {
        // Internal address or token: the address fails, the token decides.
        let allowed = try #require(decide(chain([
            ("ip_allowlist", .sufficient, FixedPlugin(deny(.ipNotAllowed))),
            ("jwt_hmac", .required, FixedPlugin(allow())),
        ])))
        #expect(allowed.allow)
        #expect(allowed.plugin == "jwt_hmac")

        // Both sufficient and both deny: the last kept reason is the answer.
        let denied = try #require(decide(chain([
            ("jwt_hmac", .sufficient, FixedPlugin(deny(.badSignature))),
            ("jwks", .sufficient, FixedPlugin(deny(.unknownKid, [("www-authenticate", "Bearer k")]))),
        ])))
        #expect(!denied.allow)
        #expect(denied.reason == .unknownKid)
        #expect(denied.plugin == "jwks")
        #expect(denied.status == 401)
        #expect(headerDict(denied.headers) == ["www-authenticate": "Bearer k"])
    }

    @Test func aLoneSufficientDenyIsTheAnswerWithItsStatus() throws {
        let d = try #require(decide(chain([("ip_allowlist", .sufficient, FixedPlugin(deny(.ipNotAllowed)))])))
        #expect(!d.allow && d.reason == .ipNotAllowed && d.status == 403 && d.plugin == "ip_allowlist")
    }

    @Test func aRequiredDenyAfterASufficientDenyWins() throws {
        let d = try #require(decide(chain([
            ("ip_allowlist", .sufficient, FixedPlugin(deny(.ipNotAllowed))),
            ("jwt_hmac", .required, FixedPlugin(deny(.noToken))),
        ])))
        #expect(d.reason == .noToken && d.plugin == "jwt_hmac")
    }

    @Test func optionalStepsNeverDecide() throws {
        // An optional allow alone does not allow.
        let onlyOptional = try #require(decide(chain([("jwt_hmac", .optional, FixedPlugin(allow([("x-sub", "a")])))])))
        #expect(!onlyOptional.allow)
        #expect(onlyOptional.reason == .noDecision)
        #expect(onlyOptional.status == 401)
        #expect(onlyOptional.headers.isEmpty)

        // An optional deny neither ends the chain nor becomes the kept reason.
        let later = FixedPlugin(allow())
        let afterDeny = try #require(decide(chain([
            ("jwt_hmac", .optional, FixedPlugin(deny(.badSignature))),
            ("ip_allowlist", .required, later),
        ])))
        #expect(afterDeny.allow)
        #expect(later.runCount == 1)

        let keptNotOptional = try #require(decide(chain([
            ("ip_allowlist", .sufficient, FixedPlugin(deny(.ipNotAllowed))),
            ("jwt_hmac", .optional, FixedPlugin(deny(.badSignature))),
        ])))
        #expect(keptNotOptional.reason == .ipNotAllowed)
    }

    @Test func optionalAllowHeadersAreKeptWhenTheChainAllows() throws {
        let d = try #require(decide(chain([
            ("jwt_hmac", .optional, FixedPlugin(allow([("x-auth-subject", "bob")], subject: "bob"))),
            ("ip_allowlist", .required, FixedPlugin(allow())),
        ])))
        #expect(d.allow)
        #expect(headerDict(d.headers) == ["x-auth-subject": "bob"])
        #expect(d.subject == "bob")
        #expect(d.plugin == "ip_allowlist")
    }

    @Test func optionalDenyHeadersAreNotForwarded() throws {
        let d = try #require(decide(chain([
            ("jwt_hmac", .optional, FixedPlugin(deny(.noToken, [("www-authenticate", "Bearer r")]))),
            ("ip_allowlist", .required, FixedPlugin(allow())),
        ])))
        #expect(d.allow)
        #expect(d.headers.isEmpty)
    }

    @Test func anEmptyEndWithoutKeptReasonIsNoDecision() throws {
        let d = try #require(decide(chain([
            ("a", .optional, FixedPlugin(deny(.noToken))),
            ("b", .optional, FixedPlugin(deny(.badSignature))),
        ])))
        #expect(!d.allow && d.reason == .noDecision && d.status == 401)
    }

    @Test func theChainAllowsAtTheEndIfAnyNonOptionalStepAllowed() throws {
        // required allow, then sufficient deny: the chain still allows at the end.
        let d = try #require(decide(chain([
            ("ip_allowlist", .required, FixedPlugin(allow([("x-a", "1")]))),
            ("jwt_hmac", .sufficient, FixedPlugin(deny(.noToken))),
        ])))
        #expect(d.allow)
        #expect(headerDict(d.headers) == ["x-a": "1"])
    }

    @Test func headersOfAllAllowingStepsAreMerged() throws {
        let d = try #require(decide(chain([
            ("one", .required, FixedPlugin(allow([("x-a", "1")]))),
            ("two", .optional, FixedPlugin(allow([("x-b", "2")]))),
            ("three", .sufficient, FixedPlugin(allow([("x-c", "3")]))),
        ])))
        #expect(d.allow)
        #expect(headerDict(d.headers) == ["x-a": "1", "x-b": "2", "x-c": "3"])
        #expect(d.plugin == "three")
    }

    @Test func ttlIsTheSmallestBoundCappedByTheChainMaximum() throws {
        let bounded = try #require(decide(chain([
            ("a", .required, FixedPlugin(allow(ttl: 40))),
            ("b", .required, FixedPlugin(allow(ttl: 12))),
        ])))
        #expect(bounded.ttl == 12)
        let unbounded = try #require(decide(chain([("a", .required, FixedPlugin(allow()))])))
        #expect(unbounded.ttl == AppChain.maxTTL)
        let capped = try #require(decide(chain([("a", .required, FixedPlugin(allow(ttl: 100_000)))])))
        #expect(capped.ttl == AppChain.maxTTL)
        let denied = try #require(decide(chain([("a", .required, FixedPlugin(deny(.noToken)))])))
        #expect(denied.ttl == nil)
    }

    @Test func forwardedHeadersOfAnOptionalStepBoundTheTTL() throws {
        // The optional step's claims expire in 5 s: caching the answer longer would forward stale identity.
        let d = try #require(decide(chain([
            ("jwt_hmac", .optional, FixedPlugin(allow([("x-sub", "a")], ttl: 5))),
            ("ip_allowlist", .required, FixedPlugin(allow())),
        ])))
        #expect(d.allow)
        #expect(d.ttl == 5)
    }

    @Test func aPendingStepResumesWhereItStopped() throws {
        let first = FixedPlugin(allow([("x-a", "1")]))
        let gate = Gate()
        let gated = GatedPlugin(gate: gate, allow([("x-b", "2")], subject: "s"))
        let last = FixedPlugin(allow())
        let c = chain([("ip_allowlist", .required, first), ("jwks", .required, gated), ("tail", .required, last)])
        let request = CheckRequest(app: "app")

        guard case .pending(var run, let resource) = c.evaluate(request, now: 10) else {
            Issue.record("expected the chain to wait on the gate")
            return
        }
        #expect(first.runCount == 1)
        #expect(gated.runCount == 1)
        #expect(last.runCount == 0)

        let called = Mutex(false)
        resource.whenReady { called.withLock { $0 = true } }
        #expect(called.withLock { $0 } == false)
        gate.open()
        #expect(called.withLock { $0 })

        guard case .decided(let d) = run.advance(c, request, now: 11) else {
            Issue.record("expected a decision after the gate opened")
            return
        }
        #expect(d.allow)
        // The first step is not run again; its headers survive the wait.
        #expect(first.runCount == 1)
        #expect(gated.runCount == 2)
        #expect(last.runCount == 1)
        #expect(headerDict(d.headers) == ["x-a": "1", "x-b": "2"])
        #expect(d.subject == "s")
    }

    @Test func aPendingStepCanStillDenyAfterResuming() throws {
        let gate = Gate()
        let c = chain([
            ("ip_allowlist", .sufficient, FixedPlugin(deny(.ipNotAllowed))),
            ("jwks", .required, GatedPlugin(gate: gate, deny(.jwksUnavailable))),
        ])
        let request = CheckRequest(app: "app")
        guard case .pending(var run, _) = c.evaluate(request, now: 1) else {
            Issue.record("expected pending")
            return
        }
        // Still closed: pends again with the same run.
        guard case .pending(var again, _) = run.advance(c, request, now: 1) else {
            Issue.record("expected pending while the gate is shut")
            return
        }
        gate.open()
        guard case .decided(let d) = again.advance(c, request, now: 2) else {
            Issue.record("expected a decision")
            return
        }
        #expect(!d.allow && d.reason == .jwksUnavailable && d.status == 503 && d.plugin == "jwks")
    }
}
