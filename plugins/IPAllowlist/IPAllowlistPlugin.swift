import AuthzCore

/// `ip_allowlist`: allows requests whose client address is in a set of ranges. When the peer
/// that reported the address is a trusted proxy, the client is found by walking
/// X-Forwarded-For from the right past every trusted proxy.
public struct IPAllowlistPlugin: ChainPlugin {
    let allow: CIDRSet
    let trustedProxies: CIDRSet

    init(allow: CIDRSet, trustedProxies: CIDRSet) {
        self.allow = allow
        self.trustedProxies = trustedProxies
    }

    public func evaluate(_ request: CheckRequest, now: Int64) -> StepOutcome {
        guard let peer = request.remoteIP else {
            return .result(.denied(.ipNotAllowed, message: "the request has no remote_addr"))
        }
        var client = peer
        if !trustedProxies.isEmpty, trustedProxies.contains(peer), let xff = Self.forwardedFor(request.headers) {
            guard let a = clientAddress(forwardedFor: xff) else {
                return .result(.denied(.ipNotAllowed, message: "X-Forwarded-For holds an address that does not parse"))
            }
            client = a
        }
        if allow.contains(client) { return .result(.allowed()) }
        return .result(.denied(.ipNotAllowed, message: "address \(client) is not allowed"))
    }

    /// Every X-Forwarded-For header as one list: repeated headers are one comma-separated list in
    /// order (RFC 9110 §5.3), and the entry our trusted proxy appended may be in the last of them.
    static func forwardedFor(_ headers: Headers) -> String? {
        var joined: String?
        for e in headers.entries where e.name == "x-forwarded-for" {
            joined = joined.map { $0 + "," + e.value } ?? e.value
        }
        return joined
    }

    /// The right-most address in X-Forwarded-For that is not a trusted proxy (or the left-most
    /// one when all are trusted). Nil when an entry on the way does not parse: fail closed.
    func clientAddress(forwardedFor header: String) -> IPAddress? {
        var candidate: IPAddress?
        for raw in header.split(separator: ",").reversed() {
            guard let a = IPAddress(raw.trimmingSpaces) else { return nil }
            candidate = a
            if !trustedProxies.contains(a) { return a }
        }
        return candidate
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}

/// Builds `ip_allowlist` steps.
public struct IPAllowlistFactory: PluginFactory {
    public let name = "ip_allowlist"

    public init() {}

    public func makePlugin(config: ConfigTable, context: PluginContext) throws(ConfigError) -> any ChainPlugin {
        try config.rejectUnknownKeys(known: ["allow", "trusted_proxies"])
        guard let list = try config.stringList("allow") else {
            throw config.error(nil, "ip_allowlist needs allow = [...] (Ant Media's default is [\"127.0.0.1\"])")
        }
        guard !list.isEmpty else { throw config.error("allow", "allow must not be empty") }
        var allow = CIDRSet()
        for entry in list {
            if let message = allow.add(entry) { throw config.error("allow", message) }
        }
        var proxies = CIDRSet()
        for entry in try config.stringList("trusted_proxies") ?? [] {
            if let message = proxies.add(entry) { throw config.error("trusted_proxies", message) }
        }
        try config.finish()
        return IPAllowlistPlugin(allow: allow, trustedProxies: proxies)
    }
}
