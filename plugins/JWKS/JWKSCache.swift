import AuthzCore
import JOSE
import Logging
import Synchronization

/// The keys of one JWKS endpoint, shared by every app that names it and kept across reloads.
///
/// A user of `RemoteSource`, which holds the fetch, refresh, rate-limit and outage rules: this
/// type only says how to fetch and parse a key set and what to log. Under `oidc_issuer` a second
/// source holds the provider's discovery document, which names the key set's URL; each key
/// fetch uses the URL the current discovery document names, and a refresh that moves it fetches
/// the keys again at once.
public final class JWKSCache: Sendable {
    public let settings: JWKSSourceSettings
    /// The key set.
    let keys: RemoteSource<JWKSet>
    /// The discovery document, under `oidc_issuer`.
    let discovery: RemoteSource<OIDCDiscoveryDocument>?
    private let link: Link

    /// What the two sources share without holding each other: the URL of the last key fetch,
    /// and the key source, weakly, for the discovery source to nudge.
    private final class Link: Sendable {
        struct Weak { weak var keys: RemoteSource<JWKSet>? }
        let keyURL = Mutex<String?>(nil)
        let keys = Mutex(Weak())
    }

    /// A cache for `settings`. Without a fetcher (check-config) it never fetches.
    public init(settings: JWKSSourceSettings, fetcher: (any HTTPFetcher)?, logger: Logger,
                clock: any SourceClock = SystemSourceClock.shared) {
        self.settings = settings
        let link = Link()
        self.link = link
        let discovery = settings.oidcIssuer.isEmpty ? nil
            : Self.discoverySource(settings, fetcher: fetcher, logger: logger, clock: clock, link: link)
        self.discovery = discovery
        let keys = RemoteSource<JWKSet>(
            policy: settings.policy, clock: clock,
            load: fetcher.map { Self.loadKeys(settings, fetcher: $0, discovery: discovery, link: link) },
            observe: { event in
                var meta: Logger.Metadata = ["url": "\(link.keyURL.withLock { $0 } ?? settings.url)"]
                if !settings.oidcIssuer.isEmpty { meta["oidc_issuer"] = "\(settings.oidcIssuer)" }
                switch event {
                case .loaded(let snapshot, let changed):
                    guard changed else { return }
                    logger.info("JWKS key set loaded", metadata: meta.merging(["keys": "\(snapshot.keys.keys.count)"]) { $1 })
                    for skip in snapshot.keys.skipped {
                        logger.warning("JWKS key skipped", metadata: meta.merging(["key": "\(skip)"]) { $1 })
                    }
                case .failed(let why):
                    logger.warning("JWKS fetch failed", metadata: meta.merging(["error": "\(why)"]) { $1 })
                }
            })
        self.keys = keys
        link.keys.withLock { $0.keys = keys }
    }

    /// The URL of the last key fetch (under `oidc_issuer`, the discovered `jwks_uri`).
    var currentKeyURL: String? { link.keyURL.withLock { $0 } }

    /// Starts the first fetch unless one has run or is running (the factory calls this for every
    /// step that names the source; only the first call does anything).
    public func startIfIdle() { keys.start() }

    // MARK: - The request path

    /// The key set while it is fresh, without starting a fetch (the verified-token fast path;
    /// a stale set goes through `lookup`, which starts its refresh).
    func freshSnapshot() -> KeySnapshot? { keys.freshDocument() }

    /// Keys that may serve, a fetch to wait on, or why there are none (in words for the answer).
    func lookup() -> Lookup {
        switch keys.lookup() {
        case .ready(let snapshot): .ready(snapshot)
        case .wait(let flight): .wait(flight)
        case .unavailable(let why): .unavailable(Self.describe(why))
        }
    }

    /// What the request path gets.
    enum Lookup {
        case ready(KeySnapshot)
        case wait(Flight<Void>)
        case unavailable(String)
    }

    /// A token names a kid the set lacks: a fetch to wait on (running, or started now if the
    /// rate limit allows), or nil when the answer must be `unknown_kid` now.
    func refetchForUnknownKid() -> Flight<Void>? { keys.refetch() }

    static func describe(_ why: RemoteSourceUnavailable) -> String {
        switch why {
        case .timedOut:
            "key set fetch did not finish within fetch_timeout"
        case .expired(let error):
            "last key set is older than max_stale and fetching fails: \(error ?? "no fetch since")"
        case .neverFetched(let error):
            error.map { "no key set: \($0)" } ?? "no key set fetched yet"
        }
    }

    // MARK: - Fetching

    /// Fetches the key set from `url`, or from the `jwks_uri` of a discovery document that may
    /// serve (waiting for discovery when there is none yet).
    private static func loadKeys(_ settings: JWKSSourceSettings, fetcher: any HTTPFetcher,
                                 discovery: RemoteSource<OIDCDiscoveryDocument>?, link: Link) -> RemoteSource<JWKSet>.Load {
        let policy = settings.policy
        return { current, done in
            let fetch: @Sendable (String) -> Void = { url in
                link.keyURL.withLock { $0 = url }
                let request = HTTPFetchRequest(url: url, timeoutSeconds: policy.fetchTimeout,
                                               caFile: settings.caFile.isEmpty ? nil : settings.caFile,
                                               headers: [("Accept", "application/jwk-set+json, application/json")])
                fetcher.fetch(request) { result in
                    done(RemoteSource.outcome(of: result, policy: policy, current: current, parse: parseKeySet))
                }
            }
            guard let discovery else { return fetch(settings.url) }
            discovery.withDocument { result in
                switch result {
                case .success(let doc): fetch(doc.document.jwksURI)
                case .failure(let f): done(.failure("OIDC discovery failed: " + describeDiscovery(f.reason)))
                }
            }
        }
    }

    /// A usable set, or why the document is not one.
    static func parseKeySet(_ body: [UInt8]) -> Result<JWKSet, HTTPFetchError> {
        let set: JWKSet
        do {
            set = try JWKSet.parse(body)
        } catch {
            return .failure(HTTPFetchError(error.message))
        }
        guard !set.keys.isEmpty else {
            let why = set.skipped.isEmpty ? "it is empty" : set.skipped.joined(separator: "; ")
            return .failure(HTTPFetchError("key set has no usable key: \(why)"))
        }
        return .success(set)
    }

    /// The discovery document's source: fetched, checked against `oidc_issuer`, logged; a new
    /// `jwks_uri` makes the key source fetch again.
    private static func discoverySource(_ settings: JWKSSourceSettings, fetcher: (any HTTPFetcher)?, logger: Logger,
                                        clock: any SourceClock, link: Link) -> RemoteSource<OIDCDiscoveryDocument> {
        let policy = settings.discoveryPolicy
        var load: RemoteSource<OIDCDiscoveryDocument>.Load?
        if let fetcher {
            let request = HTTPFetchRequest(url: settings.discoveryURL, timeoutSeconds: policy.fetchTimeout,
                                           caFile: settings.caFile.isEmpty ? nil : settings.caFile,
                                           maxBytes: OIDCDiscoveryDocument.maxBytes, headers: [("Accept", "application/json")])
            load = { current, done in
                fetcher.fetch(request) { result in
                    done(RemoteSource.outcome(of: result, policy: policy, current: current) { body in
                        OIDCDiscoveryDocument.parse(body, expectedIssuer: settings.oidcIssuer)
                    })
                }
            }
        }
        return RemoteSource(policy: policy, clock: clock, load: load, observe: { event in
            let meta: Logger.Metadata = ["oidc_issuer": "\(settings.oidcIssuer)", "url": "\(settings.discoveryURL)"]
            switch event {
            case .loaded(let doc, let changed):
                guard changed else { return }
                logger.info("OIDC discovery document loaded", metadata: meta.merging(["jwks_uri": "\(doc.document.jwksURI)"]) { $1 })
                let previous = link.keyURL.withLock { $0 }
                if let previous, previous != doc.document.jwksURI {
                    logger.info("OIDC provider moved its key set; fetching it", metadata: meta.merging(["jwks_uri": "\(doc.document.jwksURI)"]) { $1 })
                    link.keys.withLock { $0.keys }?.refreshNow()
                }
            case .failed(let why):
                logger.warning("OIDC discovery failed", metadata: meta.merging(["error": "\(why)"]) { $1 })
            }
        })
    }

    static func describeDiscovery(_ why: RemoteSourceUnavailable) -> String {
        switch why {
        case .timedOut:
            "discovery document fetch did not finish within fetch_timeout"
        case .expired(let error):
            "last discovery document is older than max_stale and fetching fails: \(error ?? "no fetch since")"
        case .neverFetched(let error):
            error ?? "no discovery document fetched yet"
        }
    }
}

extension JWKSCache: SharedResource {
    /// Stops the refresh timers; a fetch in flight completes but schedules nothing.
    public func shutdown() {
        keys.shutdown()
        discovery?.shutdown()
    }
}
