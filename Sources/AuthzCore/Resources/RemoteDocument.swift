/// One fetched document, immutable, so the request path can use it after releasing the
/// source's lock. A new fetch makes a new one; `generation` changes only when the content does.
public final class RemoteDocument<Document: Sendable>: Sendable {
    /// What the document parsed into (a key set, a discovery document).
    public let document: Document
    /// Bumped whenever the raw content changes; caches derived from the document carry it.
    public let generation: UInt64
    /// The raw document, to recognise an unchanged one without parsing it again.
    public let content: [UInt8]
    /// Readings of the source's clock.
    public let fetchedAt: Double
    public let freshUntil: Double
    /// After this the document is too old to serve, even while fetches fail.
    public let staleUntil: Double

    public init(document: Document, generation: UInt64, content: [UInt8], fetchedAt: Double,
                freshUntil: Double, staleUntil: Double) {
        self.document = document
        self.generation = generation
        self.content = content
        self.fetchedAt = fetchedAt
        self.freshUntil = freshUntil
        self.staleUntil = staleUntil
    }
}
