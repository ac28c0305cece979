@testable import AuthzServer
import Logging
import Testing

@Suite struct DeferredLogHandlerTests {
    @Test func aLoggerMadeBeforeBindingLogsThroughTheHandlerBoundLater() {
        let target = DeferredLogHandler.Target()
        var early = Logger(label: "authzd") { DeferredLogHandler(label: $0, target: target) }
        early[metadataKey: "source"] = "jwks"
        let (configured, store) = RecordingLogHandler.logger(level: .notice)
        target.bind(to: configured.handler)
        early.info("below the configured level")
        early.warning("JWKS fetch failed", metadata: ["url": "https://idp.example/keys"])
        let records = store.records.withLock { $0 }
        #expect(records.map(\.message) == ["JWKS fetch failed"])
        #expect(records.first?.metadata["url"] == "https://idp.example/keys")
        #expect(records.first?.metadata["source"] == "jwks")
    }

    @Test func theLevelFollowsTheBoundHandlerUnlessSetOnTheLogger() {
        let target = DeferredLogHandler.Target()
        var early = Logger(label: "authzd") { DeferredLogHandler(label: $0, target: target) }
        let (configured, _) = RecordingLogHandler.logger(level: .error)
        target.bind(to: configured.handler)
        #expect(early.logLevel == .error)
        early.logLevel = .debug
        #expect(early.logLevel == .debug)
    }
}
