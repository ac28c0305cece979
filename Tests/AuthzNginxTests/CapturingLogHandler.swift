import Logging
import NIOConcurrencyHelpers

/// A swift-log handler that keeps every record, so tests can check what was logged and how often.
struct CapturingLogHandler: LogHandler {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    final class Store: Sendable {
        private let box = NIOLockedValueBox<[Record]>([])
        var records: [Record] { box.withLockedValue { $0 } }
        func append(_ r: Record) { box.withLockedValue { $0.append(r) } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let m = event.metadata { all.merge(m) { $1 } }
        store.append(Record(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" }))
    }

    /// A logger at `level` whose records land in the returned store.
    static func logger(level: Logger.Level = .info) -> (Logger, Store) {
        let store = Store()
        var logger = Logger(label: "authzd-nginx-test") { _ in CapturingLogHandler(store: store) }
        logger.logLevel = level
        return (logger, store)
    }
}
