import AuthzCore
import AuthzJSON

extension JWKSCache: SourceReporting {
    /// The source in generic terms (kind `jwks`, its URL or issuer, ok/stale/unavailable), with
    /// the fields `stats` has always listed for it as details.
    public var report: SourceReport {
        let m = keys.machine
        let now = keys.now
        let state: SourceReport.State
        if let snap = m.current, now < snap.staleUntil {
            state = now < snap.freshUntil ? .ok : .stale
        } else {
            state = .unavailable
        }
        let count = m.current?.keys.keys.count ?? 0
        return SourceReport(kind: "jwks", name: settings.oidcIssuer.isEmpty ? settings.url : settings.oidcIssuer,
                            state: state, summary: "\(count) key\(count == 1 ? "" : "s")",
                            lastError: m.lastError ?? discovery?.machine.lastError, details: stats)
    }

    /// The source's state for `stats`: url, usable keys, last fetch time (unix seconds) and
    /// result, fetch and failure counts, and whether a stale set is being served; under
    /// `oidc_issuer` also the issuer and the discovery document's state.
    public var stats: JSONValue {
        let m = keys.machine
        var o = JSONObject()
        if settings.oidcIssuer.isEmpty {
            o["url"] = .string(settings.url)
        } else {
            o["url"] = currentKeyURL.map { .string($0) } ?? .null
            o["oidc_issuer"] = .string(settings.oidcIssuer)
        }
        o["keys"] = .number(JSONNumber(m.current?.keys.keys.count ?? 0))
        o["skipped_keys"] = .number(JSONNumber(m.current?.keys.skipped.count ?? 0))
        o["generation"] = .number(JSONNumber(Int(m.current?.generation ?? 0)))
        Self.addFetchState(m, of: keys, to: &o)
        if let discovery {
            let d = discovery.machine
            var disc = JSONObject()
            disc["url"] = .string(settings.discoveryURL)
            disc["jwks_uri"] = d.current.map { .string($0.document.jwksURI) } ?? .null
            Self.addFetchState(d, of: discovery, to: &disc)
            o["discovery"] = .object(disc)
        }
        return .object(o)
    }

    /// Fetch counts, times and freshness: what every remote document reports.
    private static func addFetchState<D>(_ m: RemoteSourceMachine<D>, of source: RemoteSource<D>, to o: inout JSONObject) {
        let now = source.now
        o["fetches"] = .number(JSONNumber(m.fetchCount))
        o["failures"] = .number(JSONNumber(m.failureCount))
        o["last_fetch"] = m.lastAttemptStart.map { .number(JSONNumber(Int(source.unixTime($0)))) } ?? .null
        o["last_result"] = .string(m.lastResult)
        o["fetching"] = .bool(m.inFlight != nil)
        if let doc = m.current {
            o["fetched_at"] = .number(JSONNumber(Int(source.unixTime(doc.fetchedAt))))
            o["fresh_until"] = .number(JSONNumber(Int(source.unixTime(doc.freshUntil))))
            o["serving_stale"] = .bool(now >= doc.freshUntil && now < doc.staleUntil)
            o["expired"] = .bool(now >= doc.staleUntil)
        } else {
            o["serving_stale"] = .bool(false)
        }
    }
}

extension JWKSCache: StartupWaiting {
    /// The first fetch (started when the configuration loaded): READY waits for it, bounded by
    /// its wait limit, so a restart does not make the first requests wait.
    public func whenStarted(_ callback: @escaping @Sendable () -> Void) {
        keys.whenIdle(callback)
    }

    public var maxStartupWait: Double { settings.policy.waitLimit }
}
