public import Logging
internal import AuthzText

#if canImport(Glibc)
import Glibc
#endif

/// A swift-log handler that writes one line per record to standard error (or another descriptor):
///
///     2026-11-30T08:07:53.123Z info listening socket=/run/authzd/authzd.sock
///
/// The UTC timestamp, the level, the message, then `key=value` metadata sorted by key. No raw
/// control character reaches the line: a message holding one is escaped whole, and every
/// metadata value is written with ``LogText/field(_:)`` (controls, line separators and
/// bidirectional overrides as escapes; quoted when it holds a space, `=` or `"`), so a value
/// can neither end the record nor pose as another field. Each line goes out in a single
/// write(2), so lines from different threads do not interleave.
public struct StderrLogHandler: LogHandler {
    /// The logger's label (not printed: the daemon has one voice).
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let fileDescriptor: Int32

    /// - Parameters:
    ///   - label: the logger's label.
    ///   - logLevel: the lowest level written.
    ///   - metadataProvider: adds contextual metadata at each record.
    ///   - fileDescriptor: where lines go; 2 (stderr) unless a test captures them.
    public init(label: String, logLevel: Logger.Level = .info,
                metadataProvider: Logger.MetadataProvider? = nil, fileDescriptor: Int32 = 2) {
        self.label = label
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.fileDescriptor = fileDescriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata {
            if merged.isEmpty { merged = explicit } else { merged.merge(explicit) { _, new in new } }
        }
        Self.write(level: event.level, message: event.message.description, metadata: merged,
                   to: fileDescriptor)
    }

    /// Formats and writes one record; shared with ``JournalLogHandler``'s fallback.
    static func write(level: Logger.Level, message: String, metadata: Logger.Metadata?, to fd: Int32) {
        var line = format(level: level, message: message, metadata: metadata, timestamp: true)
        line.withUnsafeMutableBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0, errno == EINTR {
                    continue
                } else {
                    return  // Nowhere left to report a failing stderr.
                }
            }
        }
    }

    /// One record as a line, newline included.
    ///
    /// Callers escape the values they interpolate into a message (``LogText/field(_:)``); a
    /// message that still holds a raw control character is escaped whole here, so no record can
    /// span lines or move the terminal whoever built it. Metadata keys and values are written
    /// with ``LogText/field(_:)``: a value can never pass for another `key=value` pair.
    static func format(level: Logger.Level, message: String, metadata: Logger.Metadata?,
                       timestamp: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + message.utf8.count + 24 * (metadata?.count ?? 0))
        if timestamp {
            appendTimestamp(to: &out)
            out.append(UInt8(ascii: " "))
        }
        out.append(contentsOf: level.rawValue.utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: safeMessage(message).utf8)
        if let metadata, !metadata.isEmpty {
            for key in metadata.keys.sorted() {
                out.append(UInt8(ascii: " "))
                out.append(contentsOf: LogText.field(key).utf8)
                out.append(UInt8(ascii: "="))
                out.append(contentsOf: LogText.field(JournalLogHandler.render(metadata[key]!)).utf8)
            }
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// The message itself when it holds no raw control character (the common case, with its
    /// values already escaped by the caller), else the message escaped whole.
    static func safeMessage(_ message: String) -> String {
        LogText.holdsControl(message) ? LogText.escaped(message) : message
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` from the real-time clock, without Foundation's formatters.
    private static func appendTimestamp(to out: inout [UInt8]) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = ts.tv_sec
        var tm = tm()
        gmtime_r(&seconds, &tm)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var v = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8((v / divisor) % 10))
                v %= divisor
                divisor /= 10
            }
        }
        digits(Int(tm.tm_year) + 1900, 4); out.append(UInt8(ascii: "-"))
        digits(Int(tm.tm_mon) + 1, 2); out.append(UInt8(ascii: "-"))
        digits(Int(tm.tm_mday), 2); out.append(UInt8(ascii: "T"))
        digits(Int(tm.tm_hour), 2); out.append(UInt8(ascii: ":"))
        digits(Int(tm.tm_min), 2); out.append(UInt8(ascii: ":"))
        digits(Int(tm.tm_sec), 2); out.append(UInt8(ascii: "."))
        digits(Int(ts.tv_nsec) / 1_000_000, 3); out.append(UInt8(ascii: "Z"))
    }
}
