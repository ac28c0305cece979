/// One step's logic. A plugin is built once per configuration from its validated settings and
/// then shared read-only by every event loop, so it must be safe to call concurrently.
public protocol ChainPlugin: Sendable {
    /// Decides for one request. Runs on the event loop that read the request: it must not block.
    /// A plugin that needs something not yet available (a key set being fetched) returns
    /// `.pending`; the chain runs the same step again once that is ready.
    func evaluate(_ request: CheckRequest, now: Int64) -> StepOutcome
}

/// A step's answer: a result now, or a wait for something asynchronous.
public enum StepOutcome: Sendable {
    case result(StepResult)
    case pending(any PendingResource)
}

/// Something a plugin waits for. `whenReady` calls back exactly once, on any thread, when a
/// retry of the step can decide (the wait may have failed; the retry then reports that).
public protocol PendingResource: Sendable {
    func whenReady(_ callback: @escaping @Sendable () -> Void)
}

/// How a step's result affects the chain (SPEC §4, after PAM).
public enum Control: String, Sendable {
    case required
    case sufficient
    case optional
}
