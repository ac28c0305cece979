import AuthzJSON

/// Encodes answers (SPEC §3) straight into a byte buffer, one line each.
public enum WireAnswer {
    /// Appends the answer to a `check`, with its `\n`.
    public static func encode(_ d: Decision, id: JSONValue?, into w: inout JSONWriter) {
        openAnswer(id: id, into: &w)
        w.writeRaw("\"allow\":")
        w.writeBool(d.allow)
        w.writeRaw(",\"status\":")
        w.writeInt(d.status)
        w.writeRaw(",\"reason\":")
        w.writeString(d.reason.code)
        if let plugin = d.plugin {
            w.writeRaw(",\"plugin\":")
            w.writeString(plugin)
        }
        if let message = d.message {
            w.writeRaw(",\"message\":")
            w.writeString(message)
        }
        if !d.headers.isEmpty {
            w.writeRaw(",\"headers\":{")
            for (i, h) in d.headers.enumerated() {
                if i > 0 { w.bytes.append(UInt8(ascii: ",")) }
                w.writeString(h.0)
                w.bytes.append(UInt8(ascii: ":"))
                w.writeString(h.1)
            }
            w.bytes.append(UInt8(ascii: "}"))
        }
        if d.allow, let ttl = d.ttl, ttl > 0 {
            w.writeRaw(",\"ttl\":")
            w.writeInt(ttl)
        }
        w.writeRaw("}\n")
    }

    /// `{` and, when the request had one, its `"id":…,`.
    private static func openAnswer(id: JSONValue?, into w: inout JSONWriter) {
        w.bytes.append(UInt8(ascii: "{"))
        if let id {
            w.writeRaw("\"id\":")
            w.write(id)
            w.bytes.append(UInt8(ascii: ","))
        }
    }

    /// Appends `{"id":…,"ok":true}` or, with stats, `{"id":…,"ok":true,"stats":{…}}`.
    public static func encodeOK(id: JSONValue?, stats: JSONValue? = nil, into w: inout JSONWriter) {
        openAnswer(id: id, into: &w)
        w.writeRaw("\"ok\":true")
        if let stats {
            w.writeRaw(",\"stats\":")
            w.write(stats)
        }
        w.writeRaw("}\n")
    }
}
