/// One app's chain of steps, built from configuration.
public struct AppChain: Sendable {
    /// One configured step.
    public struct Step: Sendable {
        /// Plugin name as configured (e.g. `jwt_hmac`), reported in answers.
        public let pluginName: String
        public let control: Control
        public let plugin: any ChainPlugin

        public init(pluginName: String, control: Control, plugin: any ChainPlugin) {
            self.pluginName = pluginName
            self.control = control
            self.plugin = plugin
        }
    }

    public let name: String
    public let steps: [Step]

    public init(name: String, steps: [Step]) {
        self.name = name
        self.steps = steps
    }

    /// Longest an allow may be cached when no step bounds it.
    public static let maxTTL = 60

    /// Runs the chain from the start. When a step is pending, the returned run is resumed with
    /// `ChainRun.resume` once the pending resource is ready.
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

    public init() {}

    /// Runs steps from where the run stopped until the chain decides or a step is pending.
    public mutating func advance(_ chain: AppChain, _ request: CheckRequest, now: Int64) -> ChainProgress {
        while index < chain.steps.count {
            let step = chain.steps[index]
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
                                 message: "no step of the chain allowed the request"))
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
