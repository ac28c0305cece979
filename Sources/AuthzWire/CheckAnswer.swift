import AuthzJSON

/// authzd's answer to a `check` line (SPEC §3), as a client reads it.
public struct CheckAnswer: Sendable, Equatable {
    /// The echoed id, if the answer carried one.
    public var id: JSONValue?
    public var allow: Bool
    /// HTTP status of the decision (200, 401, 403, 400, 503, ...).
    public var status: Int
    /// SPEC reason code, e.g. `ok` or `bad_signature`; kept as text, since a newer daemon may
    /// send a code this client does not know.
    public var reason: String
    /// The plugin whose result decided, when the answer names one.
    public var plugin: String?
    /// For people; never a token or a secret.
    public var message: String?
    /// Headers to set on the response (forwarded claims, `www-authenticate`), in answer order.
    public var headers: [HeaderField]
    /// Seconds the answer may be cached; 0 means not at all.
    public var ttl: Int

    public init(id: JSONValue? = nil, allow: Bool, status: Int, reason: String, plugin: String? = nil,
                message: String? = nil, headers: [HeaderField] = [], ttl: Int = 0) {
        self.id = id
        self.allow = allow
        self.status = status
        self.reason = reason
        self.plugin = plugin
        self.message = message
        self.headers = headers
        self.ttl = ttl
    }

    /// Parses one answer line (without its newline; a trailing `\r` is tolerated by the parser
    /// as whitespace). Throws when it is not a check answer.
    public init(line: some Collection<UInt8>) throws(WireError) {
        try self.init(object: WireAnswer.parseObject(line))
    }

    /// Reads an answer already parsed as a JSON object. `status` must be an HTTP status and
    /// `reason` a string; `headers`, when present, an object of strings and `ttl` an integer
    /// (a negative one reads as 0). A missing or non-boolean `allow` reads as a denial.
    public init(object: JSONObject) throws(WireError) {
        guard let status = object["status"]?.numberValue?.int64, (200...599).contains(status) else {
            throw WireError(.notACheckAnswer, "answer has no valid status")
        }
        guard let reason = object["reason"]?.stringValue else {
            throw WireError(.notACheckAnswer, "answer has no reason")
        }
        var headers: [HeaderField] = []
        if let h = object["headers"] {
            guard case .object(let members) = h else { throw WireError(.notACheckAnswer, "answer headers is not an object") }
            headers.reserveCapacity(members.count)
            for m in members.members {
                guard let v = m.value.stringValue else {
                    throw WireError(.notACheckAnswer, "answer header \(m.key) is not a string")
                }
                headers.append(HeaderField(name: m.key, value: v))
            }
        }
        var ttl = 0
        if let t = object["ttl"] {
            guard let n = t.numberValue?.int64 else { throw WireError(.notACheckAnswer, "answer ttl is not an integer") }
            ttl = Int(clamping: max(0, n))
        }
        self.init(
            id: object["id"], allow: object["allow"]?.boolValue ?? false, status: Int(status), reason: reason,
            plugin: object["plugin"]?.stringValue, message: object["message"]?.stringValue, headers: headers, ttl: ttl)
    }
}
