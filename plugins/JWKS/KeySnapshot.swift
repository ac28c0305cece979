import JOSE

/// One fetched key set, immutable, so the request path can use it after releasing the cache's
/// lock. A new fetch makes a new snapshot; `generation` changes only when the keys do.
final class KeySnapshot: Sendable {
    let keys: JWKSet
    /// Bumped whenever the set's content changes; verified-token cache entries carry it.
    let generation: UInt64
    /// The raw document, to recognise an unchanged set without parsing it again.
    let body: [UInt8]
    /// Clock readings (seconds since the epoch).
    let fetchedAt: Double
    let freshUntil: Double
    /// After this the set is too old to serve, even while fetches fail.
    let staleUntil: Double

    init(keys: JWKSet, generation: UInt64, body: [UInt8], fetchedAt: Double, freshUntil: Double, staleUntil: Double) {
        self.keys = keys
        self.generation = generation
        self.body = body
        self.fetchedAt = fetchedAt
        self.freshUntil = freshUntil
        self.staleUntil = staleUntil
    }
}
