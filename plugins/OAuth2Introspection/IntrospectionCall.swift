import AuthzCore

/// The RFC 7662 request: a form POST of the token, with client authentication.
enum IntrospectionCall {
    /// `POST url` with `token=…&token_type_hint=access_token`, JSON accepted, HTTP Basic when a
    /// client is configured, and no redirects: a redirect would carry the token somewhere the
    /// configuration does not name.
    static func request(token: String, settings: IntrospectionSettings) -> HTTPFetchRequest {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
        ]
        if let client = settings.client { headers.append(("Authorization", client.authorization)) }
        return HTTPFetchRequest(url: settings.url, timeoutSeconds: Double(settings.fetchTimeout),
                                caFile: settings.caFile.isEmpty ? nil : settings.caFile,
                                maxBytes: 256 << 10, maxRedirects: 0, method: .post, headers: headers,
                                body: FormEncoding.body([("token", token), ("token_type_hint", "access_token")]))
    }
}
