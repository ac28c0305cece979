import Logging
import Testing

@testable import AuthzSystemd

@Suite struct AuthzLoggingTests {
    @Test func autoMeansTheJournalUnderSystemd() {
        #expect(AuthzLogging.resolve(.auto, environment: ["JOURNAL_STREAM": "8:12345"]) == .journal)
        #expect(AuthzLogging.resolve(.auto, environment: ["INVOCATION_ID": "0123abcd"]) == .journal)
    }

    @Test func autoMeansStderrOtherwise() {
        #expect(AuthzLogging.resolve(.auto, environment: ["TERM": "xterm"]) == .stderr)
    }

    @Test func explicitTargetsAreKept() {
        #expect(AuthzLogging.resolve(.stderr, environment: ["INVOCATION_ID": "x"]) == .stderr)
        #expect(AuthzLogging.resolve(.journal, environment: [:]) == .journal)
    }

    @Test func factoryBuildsTheChosenHandlerAtTheChosenLevel() {
        let journal = AuthzLogging.makeHandlerFactory(target: "journal", level: .debug)("authzd")
        #expect((journal as? JournalLogHandler)?.logLevel == .debug)
        #expect((journal as? JournalLogHandler)?.syslogIdentifier == "authzd")
        let stderr = AuthzLogging.makeHandlerFactory(target: "stderr", level: .error)("authzd")
        #expect((stderr as? StderrLogHandler)?.logLevel == .error)
    }

    @Test func unknownTargetFallsBackToAuto() {
        let handler = AuthzLogging.makeHandlerFactory(target: "syslog", level: .info)("authzd")
        switch AuthzLogging.resolve(.auto) {
        case .journal: #expect(handler is JournalLogHandler)
        default: #expect(handler is StderrLogHandler)
        }
    }
}
