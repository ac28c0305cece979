import AuthzCore
import AuthzJSON

/// What authzd reads from an OpenID provider's discovery document
/// (`/.well-known/openid-configuration`): who it is and where its key set is.
struct OIDCDiscoveryDocument: Sendable, Equatable {
    let issuer: String
    let jwksURI: String

    /// Discovery documents are a few kilobytes; a larger answer is refused.
    static let maxBytes = 256 << 10

    /// The document in `body`, provided it names `expectedIssuer` exactly (a provider answering
    /// for another issuer, or a mix-up between realms, must not lend us its keys) and an
    /// `https://` key set (`http://` only when the issuer itself is `http://`).
    static func parse(_ body: [UInt8], expectedIssuer: String) -> Result<OIDCDiscoveryDocument, HTTPFetchError> {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body, options: .init(rejectDuplicateKeys: true))
        } catch {
            return .failure(HTTPFetchError("discovery document is not JSON: \(error)"))
        }
        guard value.objectValue != nil else { return .failure(HTTPFetchError("discovery document is not a JSON object")) }
        guard let issuer = value["issuer"]?.stringValue else {
            return .failure(HTTPFetchError("discovery document has no issuer string"))
        }
        guard issuer == expectedIssuer else {
            return .failure(HTTPFetchError("discovery document names issuer \(quoted(issuer)), not oidc_issuer \"\(expectedIssuer)\""))
        }
        guard let uri = value["jwks_uri"]?.stringValue else {
            return .failure(HTTPFetchError("discovery document has no jwks_uri string"))
        }
        guard HTTPFetchRequest.isValidURL(uri) else {
            return .failure(HTTPFetchError("discovery document's jwks_uri is not an http(s) URL with a host: \(quoted(uri))"))
        }
        if uri.lowercased().hasPrefix("http://"), expectedIssuer.lowercased().hasPrefix("https://") {
            return .failure(HTTPFetchError("discovery document's jwks_uri \(quoted(uri)) is http:// for an https:// issuer"))
        }
        return .success(OIDCDiscoveryDocument(issuer: issuer, jwksURI: uri))
    }

    /// A value from the provider as it may appear in an answer or a log line: at most 200
    /// characters, quoted, control characters escaped.
    static func quoted(_ value: String) -> String {
        String(value.prefix(200)).debugDescription
    }
}
