internal import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Writes structured records to the systemd journal over its native protocol (sd_journal_sendv(3)).
public enum Journal {
    /// Sends one record made of `fields`, each `(NAME, value)`.
    ///
    /// Names should already follow the journal's rules (see ``fieldName(_:)``); values may hold any
    /// bytes, newlines included, because the native protocol length-prefixes such values.
    /// - Returns: `true` if journald accepted the record; `false` if it is not running or refused it.
    @discardableResult
    public static func send(fields: [(String, String)]) -> Bool {
        var record = JournalRecord(capacity: fields.count)
        for (name, value) in fields {
            record.append(name: name, value: value)
        }
        return record.send()
    }

    /// Turns an arbitrary key into a valid journal field name: ASCII letters are uppercased, every
    /// other character but digits and `_` becomes `_`, and leading `_` and digits are dropped (a
    /// leading `_` marks the fields only journald may set). At most 64 bytes are kept.
    /// - Returns: the name, or `nil` when nothing valid is left.
    public static func fieldName(_ key: String) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(min(key.utf8.count, maxFieldNameLength))
        JournalRecord.appendSanitizedName(key, to: &out)
        guard !out.isEmpty else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    /// journald drops fields with longer names.
    static let maxFieldNameLength = 64
}

/// The bytes of one journal record: every field as a `NAME=value` run in one buffer, so a record
/// costs two allocations (the bytes and the iovecs) whatever its number of fields.
struct JournalRecord {
    private var bytes: [UInt8] = []
    private var ends: [Int] = []

    init(capacity: Int) {
        bytes.reserveCapacity(64 * capacity + 64)
        ends.reserveCapacity(capacity)
    }

    /// Whether any field was added.
    var isEmpty: Bool { ends.isEmpty }

    /// Adds `NAME=value` with `name` taken as is.
    mutating func append(name: String, value: String) {
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: "="))
        bytes.append(contentsOf: value.utf8)
        ends.append(bytes.count)
    }

    /// Adds a field whose name is already encoded with its `=`, such as `MESSAGE=`.
    mutating func append(prefix: [UInt8], value: String) {
        bytes.append(contentsOf: prefix)
        bytes.append(contentsOf: value.utf8)
        ends.append(bytes.count)
    }

    /// Adds a field whose name and value are already encoded, such as `PRIORITY=6`.
    mutating func append(raw: [UInt8]) {
        bytes.append(contentsOf: raw)
        ends.append(bytes.count)
    }

    /// Adds an unsigned number value without going through `String`.
    mutating func append(prefix: [UInt8], number: UInt) {
        bytes.append(contentsOf: prefix)
        appendDecimal(number)
        ends.append(bytes.count)
    }

    /// Adds a field named after an arbitrary key, sanitized as ``Journal/fieldName(_:)`` does.
    /// A key that would clash with one of `reserved` gets a `META_` prefix, so metadata can never
    /// pose as the record's own MESSAGE or PRIORITY.
    /// - Returns: `false` (and adds nothing) when no valid name is left.
    @discardableResult
    mutating func append(sanitizing key: String, value: String, reserved: [[UInt8]]) -> Bool {
        let start = bytes.count
        Self.appendSanitizedName(key, to: &bytes)
        guard bytes.count > start else { return false }
        if reserved.contains(where: { $0.elementsEqual(bytes[start...]) }) {
            bytes.insert(contentsOf: Self.metaPrefix, at: start)
            if bytes.count - start > Journal.maxFieldNameLength {
                bytes.removeSubrange((start + Journal.maxFieldNameLength)...)
            }
        }
        bytes.append(UInt8(ascii: "="))
        bytes.append(contentsOf: value.utf8)
        ends.append(bytes.count)
        return true
    }

    private static let metaPrefix: [UInt8] = Array("META_".utf8)

    static func appendSanitizedName(_ key: String, to out: inout [UInt8]) {
        var written = 0
        for byte in key.utf8 {
            guard written < Journal.maxFieldNameLength else { break }
            let mapped: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                mapped = byte
            case UInt8(ascii: "a")...UInt8(ascii: "z"):
                mapped = byte - 32
            default:
                // Multi-byte UTF-8 sequences become one `_` per byte; names stay ASCII.
                mapped = UInt8(ascii: "_")
            }
            if written == 0, mapped == UInt8(ascii: "_") || (mapped >= UInt8(ascii: "0") && mapped <= UInt8(ascii: "9")) {
                continue
            }
            out.append(mapped)
            written += 1
        }
    }

    private mutating func appendDecimal(_ number: UInt) {
        guard number > 0 else {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        let start = bytes.count
        var n = number
        while n > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(n % 10))
            n /= 10
        }
        bytes[start...].reverse()
    }

    /// Sends the record with one sendmsg through libsystemd.
    /// - Returns: `true` if journald accepted it.
    func send() -> Bool {
        guard !ends.isEmpty else { return false }
        return bytes.withUnsafeBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return withUnsafeTemporaryAllocation(of: iovec.self, capacity: ends.count) { iovecs -> Bool in
                var start = 0
                for (index, end) in ends.enumerated() {
                    iovecs[index] = iovec(
                        iov_base: UnsafeMutableRawPointer(mutating: base + start),
                        iov_len: end - start)
                    start = end
                }
                return sd_journal_sendv(iovecs.baseAddress, Int32(ends.count)) >= 0
            }
        }
    }

    /// The record as text, one `NAME=value` per line, for tests and for the stderr fallback.
    var fields: [(String, String)] {
        var out: [(String, String)] = []
        var start = 0
        for end in ends {
            let field = bytes[start..<end]
            let eq = field.firstIndex(of: UInt8(ascii: "=")) ?? end
            out.append((String(decoding: bytes[start..<eq], as: UTF8.self),
                        String(decoding: bytes[min(eq + 1, end)..<end], as: UTF8.self)))
            start = end
        }
        return out
    }
}
