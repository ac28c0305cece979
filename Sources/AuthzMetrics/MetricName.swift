import Prometheus

/// Every metric authzd and authzd-nginx export (SPEC §7), with its help text, in one place: the
/// README's table and `deploy/grafana/authzd.json` follow this list, and tests check both
/// binaries' expositions against it.
public enum MetricName {
    // authzd
    public static var decisions: MetricNameDescriptor { descriptor("authzd_decisions", "total",
        "Decisions made, by app (configured name or _unknown), decision (allow or deny) and reason code.") }
    public static var decisionDuration: MetricNameDescriptor { descriptor("authzd_decision_duration", "seconds",
        "Time from a check line being read to its decision, including any wait for a JWKS fetch.") }
    public static var tokenCacheHits: MetricNameDescriptor { descriptor("authzd_token_cache_hits", "total",
        "Tokens found in a verified-token cache (no signature check needed).") }
    public static var tokenCacheMisses: MetricNameDescriptor { descriptor("authzd_token_cache_misses", "total",
        "Tokens verified by their signature and then cached (not found in a verified-token cache).") }
    public static var connections: MetricNameDescriptor { descriptor("authzd_connections", "",
        "Client connections open on the decision socket.") }
    public static var jwksFetches: MetricNameDescriptor { descriptor("authzd_jwks_fetches", "total",
        "JWKS fetches that ended, by source URL and result (success or failure).") }
    public static var jwksKeys: MetricNameDescriptor { descriptor("authzd_jwks_keys", "",
        "Usable keys in the key set each JWKS source currently serves.") }
    public static var configReloads: MetricNameDescriptor { descriptor("authzd_config_reloads", "total",
        "Configuration reloads (SIGHUP), by result (success or failure).") }
    public static var buildInfo: MetricNameDescriptor { descriptor("authzd_build_info", "",
        "Always 1; the version label says which authzd is running.") }

    // authzd-nginx
    public static var nginxRequests: MetricNameDescriptor { descriptor("authzd_nginx_requests", "total",
        "auth_request subrequests answered by authzd-nginx, by the HTTP status answered.") }
    public static var nginxUpstreamErrors: MetricNameDescriptor { descriptor("authzd_nginx_upstream_errors", "total",
        "Subrequests answered 503 because authzd could not be reached or did not answer in time.") }

    /// The metric families authzd exports.
    public static var daemon: [MetricNameDescriptor] { [decisions, decisionDuration, tokenCacheHits, tokenCacheMisses, connections,
                                jwksFetches, jwksKeys, configReloads, buildInfo] }
    /// The metric families authzd-nginx exports.
    public static var shim: [MetricNameDescriptor] { [nginxRequests, nginxUpstreamErrors] }

    private static func descriptor(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: unit, helpText: help)
    }
}
