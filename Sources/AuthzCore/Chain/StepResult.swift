/// What one chain step concluded.
public struct StepResult: Sendable {
    public var allow: Bool
    public var status: Int
    public var reason: Reason
    /// For people; never a token, a secret or a key.
    public var message: String?
    /// On allow: forwarded claims; on 401: `www-authenticate`.
    public var headers: [(String, String)]
    /// Seconds this result stays true (an allow bounded by a token's `exp`); nil: no bound of its own.
    public var ttl: Int?
    /// The authenticated subject, for logs.
    public var subject: String?

    public init(allow: Bool, status: Int, reason: Reason, message: String? = nil,
                headers: [(String, String)] = [], ttl: Int? = nil, subject: String? = nil) {
        self.allow = allow
        self.status = status
        self.reason = reason
        self.message = message
        self.headers = headers
        self.ttl = ttl
        self.subject = subject
    }

    /// An allow.
    public static func allowed(headers: [(String, String)] = [], ttl: Int? = nil, subject: String? = nil) -> StepResult {
        StepResult(allow: true, status: 200, reason: .ok, headers: headers, ttl: ttl, subject: subject)
    }

    /// A denial with the reason's usual status unless one is given.
    public static func denied(_ reason: Reason, status: Int? = nil, message: String? = nil,
                              headers: [(String, String)] = []) -> StepResult {
        StepResult(allow: false, status: status ?? reason.defaultStatus, reason: reason, message: message, headers: headers)
    }
}

/// The final answer to a `check`.
public struct Decision: Sendable {
    public var allow: Bool
    public var status: Int
    public var reason: Reason
    /// The plugin whose result decided; nil for `bad_request`, `line_too_long`, `unknown_app`.
    public var plugin: String?
    public var message: String?
    public var headers: [(String, String)]
    public var ttl: Int?
    public var subject: String?

    public init(allow: Bool, status: Int, reason: Reason, plugin: String?, message: String? = nil,
                headers: [(String, String)] = [], ttl: Int? = nil, subject: String? = nil) {
        self.allow = allow
        self.status = status
        self.reason = reason
        self.plugin = plugin
        self.message = message
        self.headers = headers
        self.ttl = ttl
        self.subject = subject
    }

    /// A refusal decided before any plugin ran.
    public static func refused(_ reason: Reason, message: String) -> Decision {
        Decision(allow: false, status: reason.defaultStatus, reason: reason, plugin: nil, message: message)
    }
}
