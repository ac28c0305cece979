import AuthzCore
import JOSE

/// One fetched key set, immutable: the request path uses it after releasing the cache's lock.
/// Its `generation` changes only when the set's content does; verified-token cache entries
/// carry it.
typealias KeySnapshot = RemoteDocument<JWKSet>

extension RemoteDocument where Document == JWKSet {
    var keys: JWKSet { document }
}
