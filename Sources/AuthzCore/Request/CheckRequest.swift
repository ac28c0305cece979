import AuthzJSON

/// One `check` question: which app, and what the web server saw of the request.
public struct CheckRequest: Sendable {
    /// Echoed back unchanged (a string or a number), if the client sent one.
    public var id: JSONValue?
    public var app: String
    /// The client's address as sent, and parsed once here so plugins need not parse it again.
    public var remoteAddr: String?
    public var remoteIP: IPAddress?
    public var method: String?
    public var path: String?
    public var headers: Headers

    public init(id: JSONValue? = nil, app: String, remoteAddr: String? = nil, method: String? = nil,
                path: String? = nil, headers: Headers = Headers()) {
        self.id = id
        self.app = app
        self.remoteAddr = remoteAddr
        self.remoteIP = remoteAddr.flatMap { IPAddress($0) }
        self.method = method
        self.path = path
        self.headers = headers
    }

    /// The query string's value for a parameter (first occurrence, percent-decoded), if any.
    public func queryParameter(_ name: String) -> String? {
        guard let path, let q = path.firstIndex(of: "?") else { return nil }
        var query = path[path.index(after: q)...]
        if let hash = query.firstIndex(of: "#") { query = query[..<hash] }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == name {
                return parts.count > 1 ? percentDecode(parts[1]) : ""
            }
        }
        return nil
    }

    /// A cookie's value from the Cookie header, if any.
    public func cookie(_ name: String) -> String? {
        guard let header = headers["cookie"] else { return nil }
        for item in header.split(separator: ";") {
            let trimmed = item.drop { $0 == " " }
            let parts = trimmed.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, parts[0] == name {
                var v = parts[1]
                if v.count >= 2, v.first == "\"", v.last == "\"" { v = v.dropFirst().dropLast() }
                return String(v)
            }
        }
        return nil
    }
}

func percentDecode(_ s: Substring) -> String? {
    guard s.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return String(s) }
    var out: [UInt8] = []
    var it = Array(s.utf8)[...]
    while let c = it.popFirst() {
        if c == UInt8(ascii: "+") {
            out.append(0x20)
        } else if c == UInt8(ascii: "%") {
            guard it.count >= 2, let h = hexValue(it.popFirst()!), let l = hexValue(it.popFirst()!) else { return nil }
            out.append(h << 4 | l)
        } else {
            out.append(c)
        }
    }
    return String(validating: out, as: UTF8.self)
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: c - 0x30
    case 0x41...0x46: c - 0x41 + 10
    case 0x61...0x66: c - 0x61 + 10
    default: nil
    }
}
