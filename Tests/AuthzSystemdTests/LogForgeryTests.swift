import AuthzText
import Logging
import Testing

@testable import AuthzSystemd

/// Values built to forge what a reader of the log sees: another record, other fields, or
/// terminal control.
@Suite struct LogForgeryTests {
    static let forgedApp = "LiveApp reason=ok status=200 decision=allow"
    static let newlineApp = "x\n2026-12-02T00:00:00.000Z info allow app=LiveApp reason=ok"
    static let csiApp = "\u{9B}31mLiveApp"

    private func line(_ message: String, _ metadata: Logger.Metadata?) -> String {
        String(decoding: StderrLogHandler.format(level: .notice, message: message, metadata: metadata,
                                                 timestamp: false), as: UTF8.self)
    }

    @Test func stderrMetadataValuesAreOneFieldEach() {
        let out = line("deny", ["authz_app": .string(Self.forgedApp), "authz_reason": "unknown_app"])
        #expect(out == #"notice deny authz_app="LiveApp reason=ok status=200 decision=allow" authz_reason=unknown_app"# + "\n")
    }

    @Test func stderrMetadataCannotEndTheLineOrMoveTheTerminal() {
        let out = line("deny", ["authz_app": .string(Self.newlineApp), "authz_request_id": .string(Self.csiApp),
                                "authz_subject": "\u{202E}nimda"])
        #expect(out.filter { $0 == "\n" }.count == 1 && out.hasSuffix("\n"))
        #expect(out.contains(#"authz_app="x\n2026-12-02T00:00:00.000Z info allow app=LiveApp reason=ok""#))
        #expect(out.contains(#"authz_request_id=\u{009B}31mLiveApp"#))
        #expect(out.contains(#"authz_subject=\u{202E}nimda"#))
        #expect(!out.unicodeScalars.contains { (0x80...0x9F).contains($0.value) || $0.value == 0x202E })
    }

    @Test func aMessageWithEscapedValuesIsWrittenAsItIs() {
        // What DecisionLog builds: the value escaped and quoted, backslashes and all.
        let message = "deny app=\(LogText.field(Self.newlineApp)) reason=unknown_app status=403"
        #expect(!LogText.holdsControl(message))
        #expect(line(message, nil) == "notice " + message + "\n")
    }

    @Test func aMessageHoldingARawControlCharacterIsEscapedWhole() {
        let careless = "deny app=\(Self.newlineApp) path=C:\\x"
        #expect(line(careless, nil) == "notice " + LogText.escaped(careless) + "\n")
        #expect(line("a\u{9B}b", nil) == "notice a\\u{009B}b\n")
    }

    @Test func journalMessageNeverHoldsARawControlButFieldsStayExact() {
        let handler = JournalLogHandler(label: "t")
        let record = handler.makeRecord(LogEvent(
            level: .notice, message: "deny app=\(Self.newlineApp)\u{9B}",
            metadata: ["authz_app": .string(Self.newlineApp), "authz_request_id": .string(Self.csiApp)],
            source: "t", file: "f.swift", function: "f()", line: 1))
        let fields = Dictionary(record.fields, uniquingKeysWith: { a, _ in a })
        let message = fields["MESSAGE"] ?? ""
        #expect(!message.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        #expect(message == LogText.escaped("deny app=\(Self.newlineApp)\u{9B}"))
        #expect(fields["AUTHZ_APP"] == Self.newlineApp)
        #expect(fields["AUTHZ_REQUEST_ID"] == Self.csiApp)
    }
}
