import AuthzCore
import AuthzText

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
            guard let a = IPAddress(HTTPField.trimmingOWS(raw)) else { return nil }
            candidate = a
            if !trustedProxies.contains(a) { return a }
        }
        return candidate
    }
}

/// Builds `ip_allowlist` steps.
public struct IPAllowlistFactory: PluginFactory {
    public let name = "ip_allowlist"

    public init() {}

    public func makePlugin(config: ConfigTable, context: PluginContext) throws(ConfigError) -> any ChainPlugin {
        config.rejectUnknownKeys(known: ["allow", "trusted_proxies"])
        var allow = CIDRSet()
        if !config.has("allow") {
            config.record(config.error(nil, "ip_allowlist needs allow = [...] (Ant Media's default is [\"127.0.0.1\"])"))
        } else if let list = config.attempt({ () throws(ConfigError) in try config.stringList("allow") }) ?? nil {
            if list.isEmpty { config.record(config.error("allow", "allow must not be empty")) }
            Self.add(list, key: "allow", to: &allow, config: config)
        }
        var proxies = CIDRSet()
        if let list = config.attempt({ () throws(ConfigError) in try config.stringList("trusted_proxies") }) ?? nil {
            Self.add(list, key: "trusted_proxies", to: &proxies, config: config)
        }
        try config.finish()
        return IPAllowlistPlugin(allow: allow, trustedProxies: proxies)
    }

    /// Adds every entry, recording each one that does not parse at its own line.
    static func add(_ entries: [String], key: String, to set: inout CIDRSet, config: ConfigTable) {
        var lines: [Int] = []
        if case .array(let items)? = config.table[key]?.value { lines = items.map(\.line) }
        for (i, entry) in entries.enumerated() {
            if let message = set.add(entry) {
                config.record(ConfigError(file: config.file, line: i < lines.count ? lines[i] : config.line(of: key), message: "\(key): \(message)"))
            }
        }
    }
}
