import AuthzCore
import AuthzJSON
import Logging
import NIOCore

/// State owned by one event loop: its view of the current configuration. Only ever touched on
/// that loop, so the request path takes no lock to read it.
final class LoopState {
    var runtime: Runtime
    /// Writes decision records under the current configuration's per-app budgets, which every
    /// loop shares (see ``DecisionRecordBudget``); it keeps no state of its own.
    var decisionLog: DecisionLog { DecisionLog(runtime: runtime) }
    let eventLoop: EventLoop

    init(runtime: Runtime, eventLoop: EventLoop) {
        self.runtime = runtime
        self.eventLoop = eventLoop
    }
}

/// Owned by the loop, handed across threads only to reach that loop.
extension LoopState: @unchecked Sendable {}
