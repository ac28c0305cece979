import AuthzCore
import AuthzJSON
import NIOCore

/// One answer line (SPEC §3), in both directions: the daemon encodes decisions and `ok` answers
/// straight into the outbound buffer; clients decode them here.
public enum WireAnswer: Sendable, Equatable {
    /// The answer to a `check`.
    case check(CheckAnswer)
    /// The answer to a `ping` (no stats) or a `stats` request.
    case ok(id: JSONValue?, stats: JSONValue?)
    /// A JSON object in an answer's place that is neither: it still answers one line (so the
    /// stream stays aligned), but not usably.
    case unusable(id: JSONValue?, WireError)

    /// The echoed id, whatever the kind of answer.
    public var id: JSONValue? {
        switch self {
        case .check(let a): a.id
        case .ok(let id, _), .unusable(let id, _): id
        }
    }

    // MARK: - Decoding

    /// Decodes one answer line (without its newline). Throws only when the line is not a JSON
    /// object at all, which means the stream is not SPEC §3 any more.
    public static func decode(_ line: some Collection<UInt8>) throws(WireError) -> WireAnswer {
        // The shape authzd writes is read without a JSON tree; any other line is parsed fully.
        if let answer = line.withContiguousStorageIfAvailable({ CheckAnswerScanner.scan($0) }) ?? nil {
            return .check(answer)
        }
        return try decodeParsing(line)
    }

    /// `decode` through the JSON parser alone (what every line that is not in authzd's own plain
    /// shape takes).
    static func decodeParsing(_ line: some Collection<UInt8>) throws(WireError) -> WireAnswer {
        let object = try parseObject(line)
        if object["ok"]?.boolValue == true {
            return .ok(id: object["id"], stats: object["stats"])
        }
        do {
            return .check(try CheckAnswer(object: object))
        } catch {
            return .unusable(id: object["id"], error)
        }
    }

    /// Parses a line as a JSON object, the shape of every SPEC §3 answer.
    static func parseObject(_ line: some Collection<UInt8>) throws(WireError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            throw WireError(.notJSON, "answer is not JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw WireError(.notAnObject, "answer is not a JSON object")
        }
        return object
    }

    // MARK: - Encoding

    /// Appends the answer to a `check`, with its `\n`. `plugin`, `message`, `headers` and `ttl`
    /// appear only when set (`ttl` only on an allow).
    public static func encode(_ d: Decision, id: JSONValue?, into b: inout ByteBuffer) {
        // This runs once per decision: the line is written through one reservation (see
        // RawJSONWriter) sized from the fields. The fixed text and three integers fit in 160.
        var bound = 160 + RawJSONWriter.bound(d.reason.code)
        switch id {
        case nil: break
        case .string(let s)?: bound += RawJSONWriter.bound(s)
        case .number(let n)?: bound += n.text.utf8.count
        case .some:
            // Not an id the decoder lets through; written the slow way.
            encodeSlowly(d, id: id, into: &b)
            return
        }
        if let plugin = d.plugin { bound += RawJSONWriter.bound(plugin) }
        if let message = d.message { bound += RawJSONWriter.bound(message) }
        for h in d.headers { bound += RawJSONWriter.bound(h.0) + RawJSONWriter.bound(h.1) + 2 }
        b.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { buffer in
            var w = RawJSONWriter(buffer.baseAddress!)
            switch id {
            case .string(let s)?:
                w.raw("{\"id\":")
                w.string(s)
                w.raw(d.allow ? ",\"allow\":true,\"status\":" : ",\"allow\":false,\"status\":")
            case .number(let n)?:
                w.raw("{\"id\":")
                w.verbatim(n.text)
                w.raw(d.allow ? ",\"allow\":true,\"status\":" : ",\"allow\":false,\"status\":")
            default:
                w.raw(d.allow ? "{\"allow\":true,\"status\":" : "{\"allow\":false,\"status\":")
            }
            w.int(d.status)
            w.raw(",\"reason\":")
            w.string(d.reason.code)
            if let plugin = d.plugin {
                w.raw(",\"plugin\":")
                w.string(plugin)
            }
            if let message = d.message {
                w.raw(",\"message\":")
                w.string(message)
            }
            if !d.headers.isEmpty {
                w.raw(",\"headers\":{")
                for (i, h) in d.headers.enumerated() {
                    if i > 0 { w.byte(UInt8(ascii: ",")) }
                    w.string(h.0)
                    w.byte(UInt8(ascii: ":"))
                    w.string(h.1)
                }
                w.byte(UInt8(ascii: "}"))
            }
            if d.allow, let ttl = d.ttl, ttl > 0 {
                w.raw(",\"ttl\":")
                w.int(ttl)
            }
            w.raw("}\n")
            return w.count
        }
    }

    /// The same line through `ByteBuffer`'s own writes, for an id of any JSON type.
    private static func encodeSlowly(_ d: Decision, id: JSONValue?, into b: inout ByteBuffer) {
        openAnswer(id: id, into: &b)
        b.writeStaticString(d.allow ? "\"allow\":true,\"status\":" : "\"allow\":false,\"status\":")
        b.writeJSONInt(d.status)
        b.writeStaticString(",\"reason\":")
        b.writeJSONString(d.reason.code)
        if let plugin = d.plugin {
            b.writeStaticString(",\"plugin\":")
            b.writeJSONString(plugin)
        }
        if let message = d.message {
            b.writeStaticString(",\"message\":")
            b.writeJSONString(message)
        }
        if !d.headers.isEmpty {
            b.writeStaticString(",\"headers\":{")
            for (i, h) in d.headers.enumerated() {
                if i > 0 { b.writeInteger(UInt8(ascii: ",")) }
                b.writeJSONString(h.0)
                b.writeInteger(UInt8(ascii: ":"))
                b.writeJSONString(h.1)
            }
            b.writeInteger(UInt8(ascii: "}"))
        }
        if d.allow, let ttl = d.ttl, ttl > 0 {
            b.writeStaticString(",\"ttl\":")
            b.writeJSONInt(ttl)
        }
        b.writeStaticString("}\n")
    }

    /// Appends `{"id":…,"ok":true}` or, with stats, `{"id":…,"ok":true,"stats":{…}}`.
    public static func encodeOK(id: JSONValue?, stats: JSONValue? = nil, into b: inout ByteBuffer) {
        openAnswer(id: id, into: &b)
        b.writeStaticString("\"ok\":true")
        if let stats {
            b.writeStaticString(",\"stats\":")
            b.writeJSONValue(stats)
        }
        b.writeStaticString("}\n")
    }

    /// `{` and, when the request had one, its `"id":…,`.
    private static func openAnswer(id: JSONValue?, into b: inout ByteBuffer) {
        b.writeInteger(UInt8(ascii: "{"))
        if let id {
            b.writeStaticString("\"id\":")
            b.writeJSONValue(id)
            b.writeInteger(UInt8(ascii: ","))
        }
    }
}
