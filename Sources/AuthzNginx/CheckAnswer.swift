import AuthzJSON

/// authzd's answer to a `check` line (SPEC §3), reduced to what the shim forwards to nginx.
public struct CheckAnswer: Sendable, Equatable {
    /// The echoed id, if the answer carried one.
    public var id: JSONValue?
    public var allow: Bool
    /// HTTP status of the decision (200, 401, 403, 400, 503, ...).
    public var status: Int
    /// SPEC reason code, e.g. `ok` or `bad_signature`.
    public var reason: String
    /// Headers to set on the response (forwarded claims, `www-authenticate`), in answer order.
    public var headers: [HeaderField]
    /// Seconds the answer may be cached; 0 means not at all.
    public var ttl: Int

    public init(id: JSONValue? = nil, allow: Bool, status: Int, reason: String, headers: [HeaderField] = [], ttl: Int = 0) {
        self.id = id
        self.allow = allow
        self.status = status
        self.reason = reason
        self.headers = headers
        self.ttl = ttl
    }

    /// Parses one answer line (without its newline; a trailing `\r` is tolerated by the parser
    /// as whitespace). Throws `UpstreamError.Code.badAnswer` when it is not a check answer.
    public init(line: some Collection<UInt8>) throws(UpstreamError) {
        try self.init(object: Self.parseObject(line))
    }

    /// Parses a line as a JSON object, the shape of every SPEC §3 answer.
    static func parseObject(_ line: some Collection<UInt8>) throws(UpstreamError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            throw UpstreamError(.badAnswer, "answer is not JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw UpstreamError(.badAnswer, "answer is not a JSON object")
        }
        return object
    }

    /// Reads an answer already parsed as a JSON object.
    init(object: JSONObject) throws(UpstreamError) {
        guard let status = object["status"]?.numberValue?.int64, (200...599).contains(status) else {
            throw UpstreamError(.badAnswer, "answer has no valid status")
        }
        guard let reason = object["reason"]?.stringValue else {
            throw UpstreamError(.badAnswer, "answer has no reason")
        }
        var headers: [HeaderField] = []
        if let h = object["headers"] {
            guard case .object(let members) = h else { throw UpstreamError(.badAnswer, "answer headers is not an object") }
            headers.reserveCapacity(members.count)
            for m in members.members {
                guard let v = m.value.stringValue else { throw UpstreamError(.badAnswer, "answer header \(m.key) is not a string") }
                headers.append(HeaderField(name: m.key, value: v))
            }
        }
        var ttl = 0
        if let t = object["ttl"] {
            guard let n = t.numberValue?.int64 else { throw UpstreamError(.badAnswer, "answer ttl is not an integer") }
            ttl = Int(clamping: max(0, n))
        }
        self.init(
            id: object["id"], allow: object["allow"]?.boolValue ?? false, status: Int(status), reason: reason,
            headers: headers, ttl: ttl)
    }
}
