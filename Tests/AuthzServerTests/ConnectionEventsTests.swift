@testable import AuthzServer
import AuthzCore
import Logging
import Synchronization
import Testing

/// Keeps every record, to see what reached the log and at which level.
private struct Recorder: LogHandler {
    final class Store: Sendable {
        let records = Mutex<[(Logger.Level, String)]>([])
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.records.withLock { $0.append((event.level, event.message.description)) }
    }
}

private func recordingLogger() -> (Logger, Recorder.Store) {
    let store = Recorder.Store()
    return (Logger(label: "test", factory: { _ in Recorder(store: store) }), store)
}

@Suite struct ConnectionEventsTests {
    @Test func onlyTheFirstEventOfAKindIsLoggedAboveDebugUntilTheSummary() {
        let (logger, store) = recordingLogger()
        let events = ConnectionEvents()
        for _ in 0..<1000 {
            events.record(.overLimit, logger: logger, level: .warning, "refused a connection")
        }
        let records = store.records.withLock { $0 }
        #expect(records.filter { $0.0 > .debug }.map(\.1) == ["refused a connection; further ones are summarized once a minute"])
        #expect(records.filter { $0.0 == .debug }.count == 999)

        var settings = ServerSettings()
        settings.maxConnections = 64
        events.summarize(settings: settings, seconds: 60, logger: logger)
        let summary = store.records.withLock { $0.last }
        #expect(summary?.0 == .warning)
        #expect(summary?.1 == "refused 1000 connections in the last 60 s: max_connections (64) were open")

        // After a summary the next event is announced again.
        events.record(.overLimit, logger: logger, level: .warning, "refused a connection")
        #expect(store.records.withLock { $0.last?.0 } == .warning)
    }

    @Test func idleClosuresAreOnlyDebugUntilTheirSummaryAtInfo() {
        let (logger, store) = recordingLogger()
        let events = ConnectionEvents()
        events.record(.idle, logger: logger, level: .debug, "closed an idle connection")
        events.record(.incompleteLine, logger: logger, level: .notice, "closed a connection")
        #expect(store.records.withLock { $0.map(\.0) } == [.debug, .notice])
        events.summarize(settings: ServerSettings(), seconds: 60, logger: logger)
        let summaries = store.records.withLock { Array($0.dropFirst(2)) }
        #expect(summaries.map(\.0) == [.info, .notice])
        #expect(summaries.first?.1 == "closed 1 idle connection in the last 60 s (idle_timeout 300 s)")
        #expect(summaries.last?.1 == "closed 1 connection holding an incomplete line in the last 60 s (request_timeout 10 s)")
    }

    @Test func aQuietPeriodLogsNoSummary() {
        let (logger, store) = recordingLogger()
        let events = ConnectionEvents()
        events.record(.peerNotAllowed, logger: logger, level: .warning, "refused uid 1")
        events.summarize(settings: ServerSettings(), seconds: 60, logger: logger)
        let afterFirst = store.records.withLock { $0.count }
        events.summarize(settings: ServerSettings(), seconds: 60, logger: logger)
        #expect(store.records.withLock { $0.count } == afterFirst)
        #expect(events.takeCounts().isEmpty)
    }
}
