import AuthzCore
import AuthzJSON
import NIOCore

/// One request line (SPEC §3), in both directions: the daemon decodes what clients send, and
/// every client (the nginx shim, `authzd query`, `authzd-bench`) encodes with the same code.
public enum WireRequest: Sendable {
    case check(CheckRequest)
    case ping(id: JSONValue?)
    case stats(id: JSONValue?)
    /// A line that is not a valid request: answered with `bad_request` and this message.
    case invalid(id: JSONValue?, message: String)

    // MARK: - Decoding

    /// Decodes one line (without its `\n`; a trailing `\r` is tolerated).
    public static func decode(_ line: ByteBuffer) -> WireRequest {
        line.withUnsafeReadableBytes { decode($0) }
    }

    /// Decodes one line (without its `\n`; a trailing `\r` is tolerated).
    public static func decode(_ line: UnsafeRawBufferPointer) -> WireRequest {
        var bytes = line
        if let last = bytes.last, last == UInt8(ascii: "\r") {
            bytes = UnsafeRawBufferPointer(rebasing: bytes.dropLast())
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, options: .init(rejectDuplicateKeys: false, maxDepth: 8))
        } catch {
            return .invalid(id: nil, message: "line is not valid JSON: \(error)")
        }
        guard case .object(let object) = value else {
            return .invalid(id: nil, message: "line is not a JSON object")
        }
        return decode(object)
    }

    /// Decodes a parsed request object.
    public static func decode(_ object: JSONObject) -> WireRequest {
        var id: JSONValue?
        var op = "check"
        var app: String?
        var remoteAddr: String?
        var method: String?
        var path: String?
        var headers = Headers()
        var idError: String?
        // The id is read first so that a refusal of any other field still echoes it, wherever
        // the client put it in the line.
        for (key, value) in object.members where key == "id" {
            switch value {
            case .string, .number: id = value
            default: idError = "id must be a string or a number"
            }
        }
        for (key, value) in object.members {
            switch key {
            case "id":
                continue
            case "op":
                guard case .string(let s) = value else { return .invalid(id: id, message: "op must be a string") }
                op = s
            case "app":
                guard case .string(let s) = value else { return .invalid(id: id, message: "app must be a string") }
                app = s
            case "remote_addr":
                guard case .string(let s) = value else { return .invalid(id: id, message: "remote_addr must be a string") }
                remoteAddr = s
            case "method":
                guard case .string(let s) = value else { return .invalid(id: id, message: "method must be a string") }
                method = s
            case "path":
                guard case .string(let s) = value else { return .invalid(id: id, message: "path must be a string") }
                path = s
            case "headers":
                guard case .object(let h) = value else { return .invalid(id: id, message: "headers must be an object of strings") }
                for (name, v) in h.members {
                    guard case .string(let s) = v else {
                        return .invalid(id: id, message: "header \(name) must be a string")
                    }
                    headers.append(name: name, value: s)
                }
            default:
                // Unknown fields are ignored so that newer clients can talk to older daemons.
                continue
            }
        }
        if let idError { return .invalid(id: nil, message: idError) }
        switch op {
        case "ping": return .ping(id: id)
        case "stats": return .stats(id: id)
        case "check": break
        default: return .invalid(id: id, message: "unknown op \"\(op)\" (check, ping or stats)")
        }
        guard let app else { return .invalid(id: id, message: "app is required") }
        // CheckRequest parses the address once; nil back means it did not parse.
        let request = CheckRequest(id: id, app: app, remoteAddr: remoteAddr, method: method, path: path, headers: headers)
        if remoteAddr != nil, request.remoteIP == nil {
            return .invalid(id: id, message: "remote_addr is not an IPv4 or IPv6 address")
        }
        return .check(request)
    }

    // MARK: - Encoding

    /// Appends this request as one line, `\n` included. An `invalid` request has no line of its
    /// own and writes nothing.
    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .check(let r):
            // An id the decoder would refuse (not a string or number) is still written as given.
            var other: ByteBuffer?
            let idBound: Int?
            switch r.id {
            case nil: idBound = nil
            case .string(let s)?: idBound = RawJSONWriter.bound(s)
            case .number(let n)?: idBound = n.text.utf8.count
            case let id?:
                var encoded = ByteBuffer()
                encoded.writeJSONValue(id)
                idBound = encoded.readableBytes
                other = encoded
            }
            var headersBound = 0
            for h in r.headers.entries { headersBound += RawJSONWriter.bound(h.name) + RawJSONWriter.bound(h.value) + 2 }
            Self.encodeCheck(
                idBound: idBound,
                writeID: { w in
                    switch r.id {
                    case .string(let s)?: w.string(s)
                    case .number(let n)?: w.verbatim(n.text)
                    default: other?.withUnsafeReadableBytes { w.bytes($0) }
                    }
                },
                app: r.app, remoteAddr: r.remoteAddr, method: r.method, path: r.path, headersBound: headersBound,
                into: &buffer
            ) { w in
                for (i, h) in r.headers.entries.enumerated() {
                    if i > 0 { w.byte(UInt8(ascii: ",")) }
                    w.string(h.name)
                    w.byte(UInt8(ascii: ":"))
                    w.string(h.value)
                }
            }
        case .ping(let id): Self.encodeOp("ping", id: id, into: &buffer)
        case .stats(let id): Self.encodeOp("stats", id: id, into: &buffer)
        case .invalid: return
        }
    }

    /// Appends a `check` line with an integer id, the form the shim and the bench send: they
    /// match answers to requests by it. `headers` names should be lowercase already.
    public static func encodeCheck(id: Int, app: String?, remoteAddr: String?, method: String?, path: String?,
                                   headers: [HeaderField], into buffer: inout ByteBuffer) {
        var headersBound = 0
        for h in headers { headersBound += RawJSONWriter.bound(h.name) + RawJSONWriter.bound(h.value) + 2 }
        encodeCheck(
            idBound: 21, writeID: { w in w.int(id) },
            app: app, remoteAddr: remoteAddr, method: method, path: path, headersBound: headersBound, into: &buffer
        ) { w in
            for (i, h) in headers.enumerated() {
                if i > 0 { w.byte(UInt8(ascii: ",")) }
                w.string(h.name)
                w.byte(UInt8(ascii: ":"))
                w.string(h.value)
            }
        }
    }

    /// Appends `{"id":N,"op":"ping"}` and its newline.
    public static func encodePing(id: Int, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"id\":")
        buffer.writeJSONInt(id)
        buffer.writeStaticString(",\"op\":\"ping\"}\n")
    }

    /// The one layout of a check line: `id` first when there is one (`idBound` nil when not),
    /// then `op`, the optional fields that are set, and `headers` (always present, possibly
    /// empty). Written through one reservation, as answers are (see `RawJSONWriter`): the shim
    /// and the bench write one per request.
    private static func encodeCheck(idBound: Int?, writeID: (inout RawJSONWriter) -> Void, app: String?,
                                    remoteAddr: String?, method: String?, path: String?, headersBound: Int,
                                    into b: inout ByteBuffer, headers writeHeaders: (inout RawJSONWriter) -> Void) {
        // The member names and punctuation fit in 100.
        var bound = 100 + (idBound ?? 0) + headersBound
        if let app { bound += RawJSONWriter.bound(app) }
        if let remoteAddr { bound += RawJSONWriter.bound(remoteAddr) }
        if let method { bound += RawJSONWriter.bound(method) }
        if let path { bound += RawJSONWriter.bound(path) }
        b.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { buffer in
            var w = RawJSONWriter(buffer.baseAddress!)
            if idBound != nil {
                w.raw("{\"id\":")
                writeID(&w)
                w.raw(",\"op\":\"check\"")
            } else {
                w.raw("{\"op\":\"check\"")
            }
            if let app {
                w.raw(",\"app\":")
                w.string(app)
            }
            if let remoteAddr {
                w.raw(",\"remote_addr\":")
                w.string(remoteAddr)
            }
            if let method {
                w.raw(",\"method\":")
                w.string(method)
            }
            if let path {
                w.raw(",\"path\":")
                w.string(path)
            }
            w.raw(",\"headers\":{")
            writeHeaders(&w)
            w.raw("}}\n")
            return w.count
        }
    }

    private static func encodeOp(_ op: StaticString, id: JSONValue?, into b: inout ByteBuffer) {
        b.writeInteger(UInt8(ascii: "{"))
        if let id {
            b.writeStaticString("\"id\":")
            b.writeJSONValue(id)
            b.writeInteger(UInt8(ascii: ","))
        }
        b.writeStaticString("\"op\":\"")
        b.writeStaticString(op)
        b.writeStaticString("\"}\n")
    }
}
