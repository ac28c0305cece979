import Foundation
import Logging
import Testing

@testable import AuthzSystemd

@Suite struct JournalLogHandlerTests {
    private func event(_ level: Logger.Level, _ message: Logger.Message,
                       metadata: Logger.Metadata? = nil) -> LogEvent {
        LogEvent(level: level, message: message, metadata: metadata, source: "AuthzServer",
                 file: "AuthzServer/Server.swift", function: "serve()", line: 42)
    }

    private func dictionary(_ record: JournalRecord) -> [String: String] {
        Dictionary(record.fields, uniquingKeysWith: { first, _ in first })
    }

    @Test func aRecordCarriesMessagePriorityIdentifierAndCodeLocation() {
        let handler = JournalLogHandler(label: "authzd")
        let record = handler.makeRecord(event(.warning, "config reloaded\nwith errors"))
        #expect(record.fields.map(\.0) == [
            "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
        ])
        let fields = dictionary(record)
        // MESSAGE never holds a raw line feed: journalctl -o short would show a second record.
        #expect(fields["MESSAGE"] == "config reloaded\\nwith errors")
        #expect(fields["PRIORITY"] == "4")
        #expect(fields["SYSLOG_IDENTIFIER"] == "authzd")
        #expect(fields["CODE_FILE"] == "AuthzServer/Server.swift")
        #expect(fields["CODE_LINE"] == "42")
        #expect(fields["CODE_FUNC"] == "serve()")
    }

    @Test(arguments: [
        (Logger.Level.trace, "7"), (.debug, "7"), (.info, "6"), (.notice, "5"),
        (.warning, "4"), (.error, "3"), (.critical, "2"),
    ])
    func levelsMapToSyslogPriorities(level: Logger.Level, priority: String) {
        let record = JournalLogHandler(label: "t").makeRecord(event(level, "m"))
        #expect(dictionary(record)["PRIORITY"] == priority)
    }

    @Test func metadataBecomesUppercasedFieldsWithTheCallsValuesWinning() {
        var handler = JournalLogHandler(label: "t", syslogIdentifier: "authzd-test",
                                        metadataProvider: .init { ["authz_request_id": "r-9"] })
        handler[metadataKey: "authz_app"] = "stale"
        handler[metadataKey: "component"] = "server"
        let record = handler.makeRecord(event(.info, "decision", metadata: [
            "authz_app": "billing",
            "authz_status": .stringConvertible(403),
            "message": "not the message",
        ]))
        let fields = dictionary(record)
        #expect(fields["SYSLOG_IDENTIFIER"] == "authzd-test")
        #expect(fields["AUTHZ_APP"] == "billing")
        #expect(fields["AUTHZ_STATUS"] == "403")
        #expect(fields["COMPONENT"] == "server")
        #expect(fields["AUTHZ_REQUEST_ID"] == "r-9")
        #expect(fields["MESSAGE"] == "decision")
        #expect(fields["META_MESSAGE"] == "not the message")
        #expect(record.fields.filter { $0.0 == "MESSAGE" }.count == 1)
    }

    @Test func levelAndMetadataAreValuesOfEachHandler() {
        let original = JournalLogHandler(label: "t", logLevel: .info)
        var copy = original
        copy.logLevel = .debug
        copy[metadataKey: "k"] = "v"
        #expect(original.logLevel == .info)
        #expect(original[metadataKey: "k"] == nil)
        #expect(copy[metadataKey: "k"] == "v")
    }
}

/// Sends records to a real journald and reads them back with journalctl. Where systemd is not
/// PID 1 (containers, CI) Tests/support/journald.sh starts a standalone journald, as root.
@Suite(.serialized) struct JournalRoundTripTests {
    private static let script = packageRoot.appendingPathComponent("Tests/support/journald.sh").path

    private func withJournald(_ body: () async throws -> Void) async throws {
        let started = try run("/bin/bash", [Self.script, "start"])
        guard started.status == 0 else {
            Issue.record("""
                cannot start journald with Tests/support/journald.sh (needs root and systemd's \
                systemd-journald): \(started.stdout)\(started.stderr)
                """)
            return
        }
        defer { _ = try? run("/bin/bash", [Self.script, "stop"]) }
        try await body()
    }

    /// Entries matching `matches`, as journalctl's JSON objects. journald stores a datagram after
    /// our send returns, so this reads until the entry appears, up to a bounded number of tries.
    private func readJournal(_ matches: [String], expecting count: Int) throws -> [[String: Any]] {
        let journalctl = findExecutable(["/usr/bin/journalctl", "/bin/journalctl"]) ?? "journalctl"
        var entries: [[String: Any]] = []
        for _ in 0..<100 {
            let result = try run(journalctl, ["-o", "json", "--no-pager", "--quiet"] + matches)
            entries = result.stdout.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
            }
            if entries.count >= count { break }
            usleep(50_000)
        }
        return entries
    }

    @Test func journalLogHandlerRecordsReadBackWithAllFields() async throws {
        try await withJournald {
            let run = UUID().uuidString
            let logger = Logger(label: "authzd") { label in
                JournalLogHandler(label: label, logLevel: .debug)
            }
            let line = #line + 1
            logger.warning("request denied\nsecond line", metadata: [
                "authz_app": "billing", "authz_reason": "ip_not_allowed", "test_run": "\(run)",
            ])
            let entries = try readJournal(["SYSLOG_IDENTIFIER=authzd", "TEST_RUN=\(run)"], expecting: 1)
            try #require(entries.count == 1, "the record did not reach the journal")
            let entry = entries[0]
            #expect(entry["MESSAGE"] as? String == "request denied\\nsecond line")
            #expect(entry["PRIORITY"] as? String == "4")
            #expect(entry["SYSLOG_IDENTIFIER"] as? String == "authzd")
            #expect(entry["AUTHZ_APP"] as? String == "billing")
            #expect(entry["AUTHZ_REASON"] as? String == "ip_not_allowed")
            #expect((entry["CODE_FILE"] as? String)?.hasSuffix("JournalLogHandlerTests.swift") == true)
            #expect(entry["CODE_LINE"] as? String == "\(line)")
            #expect((entry["CODE_FUNC"] as? String)?.hasPrefix("journalLogHandlerRecordsReadBackWithAllFields") == true)
            #expect(entry["_TRANSPORT"] as? String == "journal")
        }
    }

    @Test func journalSendKeepsMultiLineValues() async throws {
        try await withJournald {
            let run = UUID().uuidString
            let sent = Journal.send(fields: [
                ("MESSAGE", "line one\nline two"),
                ("SYSLOG_IDENTIFIER", "authzd"),
                ("AUTHZ_DETAIL", "a=b\nc=d"),
                ("TEST_RUN", run),
            ])
            #expect(sent)
            let entries = try readJournal(["TEST_RUN=\(run)"], expecting: 1)
            try #require(entries.count == 1, "the record did not reach the journal")
            #expect(entries[0]["MESSAGE"] as? String == "line one\nline two")
            #expect(entries[0]["AUTHZ_DETAIL"] as? String == "a=b\nc=d")
        }
    }
}
