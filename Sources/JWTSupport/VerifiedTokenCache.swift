import AuthzJSON
import Synchronization

/// Tokens whose signature has already been verified, with their claims, so that a repeated
/// token costs a dictionary lookup instead of a signature check. One cache belongs to one chain
/// step, so an app's entries never answer for another; entries carry the key-set generation
/// they were verified under and are ignored once it changes. Time claims are not cached: the
/// caller re-checks them on every hit.
///
/// Sharded by hash so that event loops rarely contend for the same lock, and bounded: each
/// shard evicts its oldest entry when full.
public final class VerifiedTokenCache: Sendable {
    private struct Entry {
        let claims: JSONObject
        let generation: UInt64
    }

    private struct Shard {
        var entries: [String: Entry] = [:]
        var order: [String] = []
        var head = 0
    }

    private final class Slot: Sendable {
        let shard = Mutex(Shard())
    }

    private let slots: [Slot]
    private let perShard: Int

    /// A cache holding at most about `capacity` tokens; 0 disables it.
    public init(capacity: Int) {
        let shards = capacity >= 64 ? 16 : 1
        self.slots = (0..<shards).map { _ in Slot() }
        self.perShard = capacity == 0 ? 0 : max(1, capacity / shards)
    }

    private func slot(_ token: String) -> Slot {
        slots[Int(UInt(bitPattern: token.hashValue) % UInt(slots.count))]
    }

    /// The claims of a token verified under this generation, if cached.
    public func claims(for token: String, generation: UInt64 = 0) -> JSONObject? {
        guard perShard > 0 else { return nil }
        let claims: JSONObject? = slot(token).shard.withLock { s in
            guard let e = s.entries[token], e.generation == generation else { return nil }
            return e.claims
        }
        if claims != nil { TokenCacheCounters.shared.record(hit: true) }  // metrics: a token cache hit
        return claims
    }

    /// Remembers a verified token.
    public func insert(_ token: String, claims: JSONObject, generation: UInt64 = 0) {
        guard perShard > 0 else { return }
        TokenCacheCounters.shared.record(hit: false)  // metrics: a miss is a token that had to be verified
        let limit = perShard
        slot(token).shard.withLock { s in
            if s.entries.updateValue(Entry(claims: claims, generation: generation), forKey: token) != nil { return }
            if s.order.count < limit {
                s.order.append(token)
            } else {
                s.entries.removeValue(forKey: s.order[s.head])
                s.order[s.head] = token
                s.head = (s.head + 1) % limit
            }
        }
    }

    /// Entries now held.
    public var count: Int {
        slots.reduce(0) { n, slot in n + slot.shard.withLock { $0.entries.count } }
    }
}
