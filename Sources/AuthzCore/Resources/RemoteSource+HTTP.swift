extension RemoteSource {
    /// How an HTTP fetch of a document ended: a 2xx answer that `parse` accepts, fresh for what
    /// `policy` grants its Cache-Control (an answer identical to `current` keeps its parsed
    /// document without parsing again), or why not.
    public static func outcome(of result: Result<HTTPFetchResponse, HTTPFetchError>, policy: RemoteSourcePolicy,
                               current: RemoteDocument<Document>?,
                               parse: ([UInt8]) -> Result<Document, HTTPFetchError>) -> Machine.Outcome {
        let response: HTTPFetchResponse
        switch result {
        case .failure(let e): return .failure(e.message)
        case .success(let r): response = r
        }
        guard (200..<300).contains(response.status) else { return .failure("HTTP status \(response.status)") }
        let fresh = policy.freshness(cacheControl: response.header("cache-control"))
        if let current, current.content == response.body {
            return .document(current.document, content: response.body, freshFor: fresh)
        }
        switch parse(response.body) {
        case .success(let document): return .document(document, content: response.body, freshFor: fresh)
        case .failure(let e): return .failure(e.message)
        }
    }
}
