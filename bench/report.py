#!/usr/bin/env python3
"""Renders bench/results.json as the Markdown tables of docs/performance.md, replacing what lies
between its `<!-- results:begin -->` and `<!-- results:end -->` markers, so the published figures
are always the ones in the results file. Needs only the standard library.

  bench/report.py [RESULTS_JSON [DOC_MD]]
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

WHAT = {
    "hs256_repeated": "ip_allowlist + jwt_hmac HS256, one token (verified-token cache hits)",
    "hs256_distinct": "same app, 4,000 tokens in turn (cache of 1,000: every request a miss)",
    "ip_only": "ip_allowlist alone, no token",
    "rs256_distinct": "ip_allowlist + jwks RS256 (2048-bit), 4,000 tokens: every request verifies",
    "rs256_repeated": "same, one token (cache hits)",
    "es256_distinct": "ip_allowlist + jwks ES256 (P-256), 4,000 tokens: every request verifies",
    "es256_repeated": "same, one token (cache hits)",
    "eddsa_distinct": "ip_allowlist + jwks EdDSA (Ed25519), 4,000 tokens: every request verifies",
    "eddsa_repeated": "same, one token (cache hits)",
    "deny_bad_signature": "HS256 token signed with another secret: 401 bad_signature",
    "deny_ip": "address outside the allowlist: 403 ip_not_allowed",
    "apps_1": "one app of 1,000 loaded (ip_allowlist + jwt_hmac)",
    "apps_1000": "requests spread over all 1,000 apps in turn",
    "conns_1": "1 connection x 1,000 pipelined requests",
    "conns_1000": "1,000 connections x 1 request each",
    "conns_64": "64 connections x 1 request each",
    "round_trip_1x1": "1 connection x 1 request: the unloaded round trip",
    "half_rate": "hs256_repeated paced to half its closed-loop rate (open loop)",
    "pyjwt_sidecar": "Python asyncio + PyJWT sidecar, hs256_repeated's load",
    "nginx_floor": "wrk -> nginx, auth_request answered by nginx itself (`return 200`)",
    "nginx_proxied": "wrk -> nginx, auth_request proxied (keep-alive) to a trivial server answering 200: the floor of any sidecar",
    "nginx_chain": "wrk -> nginx -> authzd-nginx -> authzd (hs app, one token)",
    "nginx_cached": "the chain with nginx's decision cache (authzd-cached.conf): one token, answered from the cache",
    "nginx_njs": "nginx verifying the HS256 token itself in njs (crypto HMAC), no other process",
}


def fmt(v, places=0):
    if v is None or v == "":
        return "–"
    if isinstance(v, (int, float)):
        return f"{v:,.{places}f}"
    return str(v)


def render(r):
    m = r["machine"]
    out = []
    out.append(f"Measured on {m['nproc']} cores ({m['cpu_model']}), {m.get('memory_gib')} GiB, "
               f"Linux {m['kernel']}; {m.get('swift') or 'swift'}; {m.get('openssl')}; {m.get('nginx')}"
               f"{(' with ' + m['njs']) if m.get('njs') else ''}; wrk ({m.get('wrk')}); Python {m.get('python')} with PyJWT {m.get('pyjwt')}.")
    if m.get("commit"):
        dirty = m.get("uncommitted_sources") or []
        out.append("")
        # Name the commit the figures belong to, without implying they describe later ones.
        out.append(f"These figures were measured on a release build of commit `{m['commit']}`"
                   + (f" with uncommitted changes to {', '.join(dirty)}" if dirty else "")
                   + ". Later commits have not been measured again unless this line names them.")
    out.append("")
    rep = r.get("repeat", 1)
    out.append(f"Each scenario: {r['warmup_s']:g} s warm-up, then {r['duration_s']:g} s measured"
               + (f", run {rep} times, the best run shown" if rep > 1 else "") + ". "
               f"Load average before the run {r['load_average_before']}, after "
               f"{r.get('load_average_after')} (1, 5, 15 min); the machine was "
               f"{r.get('background_busy_before', 0):.0%} busy with other work just before and "
               f"{r.get('background_busy_after', 0):.0%} just after; whole run {r.get('wall_seconds')} s.")
    out.append("")
    out.append("| scenario | what | decisions/s | p50 µs | p99 µs | p99.9 µs | server CPU µs/decision | errors |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, s in r["scenarios"].items():
        if name.startswith("nginx"):
            continue
        if "failure" in s:
            out.append(f"| {name} | {WHAT.get(name, '')} | failed | | | | | |")
            continue
        flag = "" if s.get("ok") else " (not as expected)"
        extra = f" (paced to {fmt(s['rate'])}/s)" if "rate" in s else ""
        out.append(f"| {name}{flag} | {WHAT.get(name, '')}{extra} | {fmt(s['decisions_per_sec'])} | {fmt(s['p50_us'])} | "
                   f"{fmt(s['p99_us'])} | {fmt(s['p999_us'])} | {fmt(s.get('server_cpu_us_per_decision'), 1)} | "
                   f"{s['errors']} |")
    out.append("")
    ng = [(n, r["scenarios"][n]) for n in ("nginx_floor", "nginx_proxied", "nginx_chain", "nginx_cached", "nginx_njs") if n in r["scenarios"]]
    if ng:
        out.append("| nginx scenario | what | requests/s | p50 µs | p99 µs | CPU µs/request: nginx | authzd-nginx | authzd | wrk |")
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, s in ng:
            c = s.get("cpu_us_per_request", {})
            flag = "" if s.get("ok") else " (not as expected)"
            out.append(f"| {name}{flag} | {WHAT.get(name, '')} | {fmt(s['requests_per_sec'])} | {fmt(s.get('p50_us'))} | "
                       f"{fmt(s.get('p99_us'))} | {fmt(c.get('nginx'), 1)} | {fmt(c.get('authzd-nginx'), 1)} | "
                       f"{fmt(c.get('authzd'), 1)} | {fmt(c.get('wrk'), 1)} |")
        out.append("")
    osl = r.get("openssl_rsa2048_verify_per_sec_1core")
    rss = r.get("authzd_peak_rss_kib")
    ec, ed = r.get("openssl_ecdsap256_verify_per_sec_1core"), r.get("openssl_ed25519_verify_per_sec_1core")
    out.append(f"`openssl speed -seconds 3 -multi 1 rsa2048`: {fmt(osl)} verify/s on one core "
               f"({fmt(1e6 / osl if osl else None, 1)} µs each); ecdsap256 {fmt(ec)} /s "
               f"({fmt(1e6 / ec if ec else None, 1)} µs); ed25519 {fmt(ed)} /s ({fmt(1e6 / ed if ed else None, 1)} µs). "
               f"authzd peak RSS (VmHWM after every scenario above): {fmt(rss / 1024 if rss else None, 1)} MiB "
               f"(idle after start with 1,005 apps: {fmt((r.get('authzd_rss_kib_idle') or 0) / 1024, 1)} MiB).")
    out.append("")
    out.append("| target | goal | measured | met |")
    out.append("|---|---|---:|---|")
    for t in r["targets"]:
        met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
        out.append(f"| {t['target']} | {t['goal']} | {fmt(t['value'], 2) if isinstance(t['value'], float) else fmt(t['value'])} | {met} |")
    for n in r.get("notes", []):
        out.append("")
        out.append(f"Note: {n}")
    return "\n".join(out)


def main():
    res = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "bench", "results.json")
    doc = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "docs", "performance.md")
    with open(res) as f:
        r = json.load(f)
    with open(doc) as f:
        text = f.read()
    a, b = text.index(BEGIN) + len(BEGIN), text.index(END)
    text = text[:a] + "\n" + render(r) + "\n" + text[b:]
    with open(doc, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
