import AuthzText

/// One app's chain of steps, built from configuration.
public struct AppChain: Sendable {
    /// One configured step.
    public struct Step: Sendable {
        /// Plugin name as configured (e.g. `jwt_hmac`), reported in answers.
        public let pluginName: String
        public let control: Control
        public let plugin: any ChainPlugin
        /// The requests this step runs for; nil: every request.
        public let match: StepMatch?

        public init(pluginName: String, control: Control, plugin: any ChainPlugin, match: StepMatch? = nil) {
            self.pluginName = pluginName
            self.control = control
            self.plugin = plugin
            self.match = match
        }
    }

    public let name: String
    public let steps: [Step]
    /// Some step matches on the path: every request needs one, normalised once per request.
    public let needsPath: Bool
    /// Some step matches on the method: every request needs one.
    public let needsMethod: Bool

    public init(name: String, steps: [Step]) {
        self.name = name
        self.steps = steps
        self.needsPath = steps.contains { $0.match?.paths != nil }
        self.needsMethod = steps.contains { $0.match?.methods != nil }
    }

    /// Longest an allow may be cached when no step bounds it.
    public static let maxTTL = 60

    /// Runs the chain from the start. When a step is pending, the returned run goes on with
    /// `ChainRun.advance` once the pending resource is ready.
    public func evaluate(_ request: CheckRequest, now: Int64) -> ChainProgress {
        var run = ChainRun()
        return run.advance(self, request, now: now)
    }
}

/// Where a chain evaluation stands.
public enum ChainProgress: Sendable {
    case decided(Decision)
    /// Waiting on a resource; call `run.advance` again (with the same chain and request) when ready.
    case pending(ChainRun, any PendingResource)
}

/// The state of one chain evaluation, resumable after a pending step.
public struct ChainRun: Sendable {
    var index = 0
    var anyAllowed = false
    var kept: (StepResult, String)?
    var lastAllowPlugin: String?
    var headers: [(String, String)] = []
    var ttl: Int?
    var subject: String?
    /// The request's normalised path, computed before the first step when the chain needs it.
    var path: RequestPath?
    var prepared = false
    /// Whether any step ran (was not skipped by its `match`).
    var ran = false

    public init() {}

    /// Runs steps from where the run stopped until the chain decides or a step is pending.
    public mutating func advance(_ chain: AppChain, _ request: CheckRequest, now: Int64) -> ChainProgress {
        if !prepared {
            prepared = true
            if let refusal = prepare(chain, request) { return .decided(refusal) }
        }
        while index < chain.steps.count {
            let step = chain.steps[index]
            // A step that does not match is skipped as if it were absent.
            if let match = step.match, !match.matches(method: request.method, path: path) {
                index += 1
                continue
            }
            ran = true
            let result: StepResult
            switch step.plugin.evaluate(request, now: now) {
            case .result(let r): result = r
            case .pending(let p): return .pending(self, p)
            }
            index += 1
            switch step.control {
            case .required:
                if result.allow {
                    noteAllow(result, plugin: step.pluginName)
                } else {
                    return .decided(deny(result, plugin: step.pluginName))
                }
            case .sufficient:
                if result.allow {
                    noteAllow(result, plugin: step.pluginName)
                    return .decided(allowDecision())
                }
                kept = (result, step.pluginName)
            case .optional:
                if result.allow {
                    headers.append(contentsOf: result.headers)
                    // Its forwarded claims are in the answer, so they bound how long it may be cached.
                    if let t = result.ttl { ttl = min(ttl ?? t, t) }
                    if subject == nil { subject = result.subject }
                }
            }
        }
        if anyAllowed { return .decided(allowDecision()) }
        if let (result, plugin) = kept { return .decided(deny(result, plugin: plugin)) }
        return .decided(Decision(allow: false, status: 401, reason: .noDecision,
                                 plugin: chain.steps.last?.pluginName,
                                 message: ran ? "no step of the chain allowed the request"
                                     : "no step of the chain matches this request (deny by default)"))
    }

    /// Normalises the path once for every step that matches on it. Deny by default: when a
    /// step's `match` needs the method or the path, a request without it, or with a path that
    /// cannot be normalised, is refused rather than let skip the step.
    private mutating func prepare(_ chain: AppChain, _ request: CheckRequest) -> Decision? {
        if chain.needsMethod, request.method?.isEmpty ?? true {
            return .refused(.badRequest, message: "this app's chain matches on the method, and the request has none")
        }
        guard chain.needsPath else { return nil }
        guard let raw = request.path else {
            return .refused(.badRequest, message: "this app's chain matches on the path, and the request has none")
        }
        do {
            path = try RequestPath(normalizing: raw)
        } catch {
            return .refused(.badRequest, message: "path cannot be normalised: \(error.message)")
        }
        return nil
    }

    private mutating func noteAllow(_ r: StepResult, plugin: String) {
        anyAllowed = true
        lastAllowPlugin = plugin
        headers.append(contentsOf: r.headers)
        if let t = r.ttl { ttl = min(ttl ?? t, t) }
        if let s = r.subject { subject = s }
    }

    private func allowDecision() -> Decision {
        Decision(allow: true, status: 200, reason: .ok, plugin: lastAllowPlugin, headers: headers,
                 ttl: max(0, min(ttl ?? AppChain.maxTTL, AppChain.maxTTL)), subject: subject)
    }

    private func deny(_ r: StepResult, plugin: String) -> Decision {
        Decision(allow: false, status: r.status, reason: r.reason, plugin: plugin, message: r.message,
                 headers: r.headers, ttl: nil, subject: r.subject)
    }
}
