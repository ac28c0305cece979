public import Logging

/// A swift-log handler that writes each record to the systemd journal as native fields.
///
/// A record carries `MESSAGE`, `PRIORITY` (syslog numbers), `SYSLOG_IDENTIFIER`, `CODE_FILE`,
/// `CODE_LINE`, `CODE_FUNC`, and one field per metadata entry, its key turned into a journal field
/// name (`authz_app` becomes `AUTHZ_APP`; see ``Journal/fieldName(_:)``). A metadata key that would
/// clash with one of those fixed fields is written with a `META_` prefix.
///
/// `MESSAGE` never holds a raw control character, because `journalctl -o short` prints it as
/// it is: a line feed there would show as a second, forged record. Callers escape the values they
/// interpolate; a message that still holds a control character is escaped whole. Metadata
/// fields keep their exact bytes (line feeds included: sd_journal_sendv(3) sends such a value
/// length-prefixed), so `journalctl AUTHZ_APP=…` matches what the client sent. When journald cannot be
/// reached the record is written to stderr instead, in ``StderrLogHandler``'s format, so nothing
/// is lost silently.
public struct JournalLogHandler: LogHandler {
    /// The logger's label; not written to the journal, where `SYSLOG_IDENTIFIER` names the daemon.
    public let label: String
    /// Recorded as `SYSLOG_IDENTIFIER`.
    public let syslogIdentifier: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    private let identifierField: [UInt8]

    /// - Parameters:
    ///   - label: the logger's label.
    ///   - syslogIdentifier: the `SYSLOG_IDENTIFIER` of every record (`journalctl -t` selects on it).
    ///   - logLevel: the lowest level written.
    ///   - metadataProvider: adds contextual metadata at each record.
    public init(label: String, syslogIdentifier: String = "authzd", logLevel: Logger.Level = .info,
                metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.syslogIdentifier = syslogIdentifier
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.identifierField = Array("SYSLOG_IDENTIFIER=\(syslogIdentifier)".utf8)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let record = makeRecord(event)
        if !record.send() {
            StderrLogHandler.write(level: event.level, message: event.message.description,
                                   metadata: mergedMetadata(event.metadata), to: 2)
        }
    }

    /// The record ``log(event:)`` sends, exposed to tests.
    func makeRecord(_ event: LogEvent) -> JournalRecord {
        let merged = mergedMetadata(event.metadata)
        var record = JournalRecord(capacity: 6 + (merged?.count ?? 0))
        record.append(prefix: Self.messagePrefix, value: StderrLogHandler.safeMessage(event.message.description))
        record.append(raw: Self.priorityField(event.level))
        record.append(raw: identifierField)
        record.append(prefix: Self.codeFilePrefix, value: event.file)
        record.append(prefix: Self.codeLinePrefix, number: event.line)
        record.append(prefix: Self.codeFuncPrefix, value: event.function)
        if let merged {
            for (key, value) in merged {
                record.append(sanitizing: key, value: Self.render(value), reserved: Self.reservedNames)
            }
        }
        return record
    }

    /// Handler metadata, then the provider's, then the call's, later ones winning; `nil` if none.
    /// The common case, metadata only at the call, allocates nothing here.
    private func mergedMetadata(_ explicit: Logger.Metadata?) -> Logger.Metadata? {
        let provided = metadataProvider?.get()
        if metadata.isEmpty, provided?.isEmpty ?? true { return explicit }
        var merged = metadata
        if let provided { merged.merge(provided) { _, new in new } }
        if let explicit { merged.merge(explicit) { _, new in new } }
        return merged
    }

    static func render(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): return string
        case .stringConvertible(let convertible): return convertible.description
        default: return value.description
        }
    }

    /// syslog(3) priorities; swift-log's trace has no own level and shares debug's.
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    private static func priorityField(_ level: Logger.Level) -> [UInt8] {
        priorityFields[syslogPriority(level)]
    }

    private static let priorityFields: [[UInt8]] = (0...7).map { Array("PRIORITY=\($0)".utf8) }
    private static let messagePrefix: [UInt8] = Array("MESSAGE=".utf8)
    private static let codeFilePrefix: [UInt8] = Array("CODE_FILE=".utf8)
    private static let codeLinePrefix: [UInt8] = Array("CODE_LINE=".utf8)
    private static let codeFuncPrefix: [UInt8] = Array("CODE_FUNC=".utf8)
    private static let reservedNames: [[UInt8]] = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
    ].map { Array($0.utf8) }
}
