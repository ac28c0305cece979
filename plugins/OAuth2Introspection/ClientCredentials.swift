/// The `client_id` and secret authzd authenticates with. The secret never appears in a
/// description, a log line or an answer.
public struct ClientCredentials: Sendable, CustomStringConvertible {
    public let id: String
    let secret: [UInt8]

    public init(id: String, secret: [UInt8]) {
        self.id = id
        self.secret = secret
    }

    public var description: String { "client \(id) (secret hidden)" }

    /// `Basic base64(urlencode(id):urlencode(secret))`, as RFC 6749 §2.3.1 asks: each part is
    /// form-urlencoded before they are joined, so a `:` in the id cannot move the split.
    var authorization: String {
        var joined = FormEncoding.encode(Array(id.utf8))
        joined += ":"
        joined += FormEncoding.encode(secret)
        return "Basic " + Base64.encode(Array(joined.utf8))
    }
}
