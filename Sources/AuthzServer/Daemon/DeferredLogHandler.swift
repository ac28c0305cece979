import Logging
import Synchronization

/// The log handler of what the first configuration load creates. Where logs go (`[log] target`
/// and `level`) is only known once that load has ended, but what it creates (a JWKS source) keeps
/// the logger it was given, for the life of the daemon. Its records go to stderr until
/// ``Target/bind(to:)`` names the handler the configuration chose, and to that one from then on.
struct DeferredLogHandler: LogHandler {
    /// Where every handler made for one load sends its records, once known.
    final class Target: Sendable {
        private let bound = Mutex<(any LogHandler)?>(nil)

        init() {}

        /// From now on, records go to `handler` (with its level).
        func bind(to handler: any LogHandler) {
            bound.withLock { $0 = handler }
        }

        var handler: (any LogHandler)? { bound.withLock { $0 } }
    }

    let target: Target
    private let fallback: StreamLogHandler
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    /// Set only when a caller sets a level on this logger; otherwise the target's level applies.
    private var levelOverride: Logger.Level?

    init(label: String, target: Target) {
        self.target = target
        self.fallback = StreamLogHandler.standardError(label: label)
    }

    var logLevel: Logger.Level {
        get { levelOverride ?? target.handler?.logLevel ?? fallback.logLevel }
        set { levelOverride = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty {
            event.metadata = metadata.merging(event.metadata ?? [:]) { _, new in new }
        }
        if let handler = target.handler {
            handler.log(event: event)
        } else {
            fallback.log(event: event)
        }
    }
}
