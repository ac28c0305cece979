import Logging
import Synchronization

/// Keeps every record with its level and metadata, for tests that look at what was logged.
struct RecordingLogHandler: LogHandler {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: Logger.Metadata
    }

    final class Store: Sendable {
        let records = Mutex<[Record]>([])
        var messages: [String] { records.withLock { $0.map(\.message) } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    init(store: Store, logLevel: Logger.Level = .trace) {
        self.store = store
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        store.records.withLock { $0.append(Record(level: event.level, message: event.message.description, metadata: merged)) }
    }

    /// A logger that records into a fresh store.
    static func logger(level: Logger.Level = .trace) -> (Logger, Store) {
        let store = Store()
        return (Logger(label: "test") { _ in RecordingLogHandler(store: store, logLevel: level) }, store)
    }
}
