#!/usr/bin/env python3
"""Runs authzd's benchmark scenarios on this machine and writes .build/bench/results.json.

Called by bench/run.sh (which `make bench` calls after `swift build -c release`). Everything it
starts lives in a temporary directory and is stopped at the end: authzd on generated
configurations (one HS256 app, an IP-only app, RS256/ES256/EdDSA apps behind a local HTTPS JWKS
server, 1000 identical apps), the Python sidecar, authzd-nginx and nginx (with njs for the
nginx_njs peer, when libnginx-mod-http-js is installed). Load comes from
authzd-bench (socket protocol) and wrk (nginx). Only loopback addresses are used.

Environment: BENCH_DURATION (seconds per scenario, default 5), BENCH_WARMUP (default 1),
BENCH_OUT (results file, default .build/bench/results.json, so a run never rewrites the tracked
bench/results.json: copy it there, or set BENCH_OUT=bench/results.json, to publish), BENCH_ONLY (comma-separated scenario
names, for trying one out; the results file is then not written).
"""
import json
import os
import platform
import resource
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import jwt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build", "release")
AUTHZD = os.path.join(BIN, "authzd")
BENCH = os.path.join(BIN, "authzd-bench")
SHIM = os.path.join(BIN, "authzd-nginx")
JWKS_TOOL = os.path.join(ROOT, "Tests", "support", "jwks_server.py")
SIDECAR = os.path.join(ROOT, "bench", "pysidecar.py")

DURATION = float(os.environ.get("BENCH_DURATION", "5"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "1"))
OUT = os.environ.get("BENCH_OUT", os.path.join(ROOT, ".build", "bench", "results.json"))
# Each scenario runs this many times and the best run is kept (the others' rates are recorded):
# on a shared machine the best run is the one least disturbed by other work.
REPEAT = max(1, int(os.environ.get("BENCH_REPEAT", "1")))
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))

SECRET = "bench-secret-0123456789abcdef-0123456789"  # 40 bytes: enough for HS256
WRONG_SECRET = "another-secret-0123456789abcdef-012345678"
ISSUER = "https://idp.bench.invalid/"
AUDIENCE = "bench-api"
DISTINCT_TOKENS = 4000
# Each JWT step of the bench apps caches at most this many verified tokens. The distinct-token
# runs cycle through DISTINCT_TOKENS (4x as many), so with the cache's FIFO eviction every one
# of their requests is a miss: lookup, full verification, insertion, eviction.
TOKEN_CACHE = 1000
APPS = 1000
# The standard load: 16 connections x 16 pipelined requests.
CONNS, DEPTH = 16, 16

children = []


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, **kw):
    p = subprocess.Popen(args, **kw)
    children.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in children:
        children.remove(p)


def line_request(sock_path, obj, timeout=10):
    """One request line to a socket speaking authzd's protocol; returns the parsed answer."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(json.dumps(obj).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


def wait_for_socket(sock_path, proc, what):
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            if line_request(sock_path, {"op": "ping"}, timeout=2).get("ok"):
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"{what} did not answer on {sock_path}")


def wait_for_port(port, proc, what):
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not listen on {port}")


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break

    def version(args):
        try:
            out = subprocess.run(args, capture_output=True, text=True, timeout=30)
            return (out.stdout + out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None

    def git(*args):
        try:
            return subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True, text=True,
                                  timeout=30).stdout.strip() or None
        except (OSError, subprocess.TimeoutExpired):
            return None

    return {
        # What was measured: the release build of this tree (uncommitted changes listed).
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_sources": [l[3:] for l in (git("status", "--porcelain", "--", "Sources", "plugins") or "").splitlines()],
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "swift": version(["swift", "--version"]),
        "openssl": version(["openssl", "version"]),
        "nginx": version(["nginx", "-v"]),
        "njs": version(["dpkg-query", "-W", "-f", "${Package} ${Version}", "libnginx-mod-http-js"]),
        "wrk": version(["wrk", "--version"]),
        "python": platform.python_version(),
        "pyjwt": jwt.__version__,
    }


def cpu_times():
    """System-wide CPU jiffies from /proc/stat: (busy, idle, steal)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    steal = v[7] if len(v) > 7 else 0
    return sum(v[:8]) - idle - steal, idle, steal


def background_busy(seconds=2.0):
    """Fraction of the machine busy while this script runs nothing: other people's work."""
    a = cpu_times()
    time.sleep(seconds)
    b = cpu_times()
    busy, idle, steal = (y - x for x, y in zip(a, b))
    return round((busy + steal) / max(1, busy + idle + steal), 3)


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (all its threads)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def children_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def proc_status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])  # kB
    return None


# ---------------------------------------------------------------- configuration and tokens

def hs_token(secret, n=None, exp_in=7200):
    claims = {"sub": f"user-{n if n is not None else 0}", "exp": int(time.time()) + exp_in}
    if n is not None:
        claims["jti"] = f"t{n}"
    return jwt.encode(claims, secret, algorithm="HS256")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def hmac_app(cache=None):
    extra = f"token_cache_size = {cache}\n" if cache is not None else ""
    return ('[[chain]]\nplugin = "ip_allowlist"\nallow = ["127.0.0.1", "::1"]\n\n'
            f'[[chain]]\nplugin = "jwt_hmac"\nsecret = "{SECRET}"\nalgorithms = ["HS256"]\n{extra}')


def jwks_app(url, alg, ca_file):
    return ('[[chain]]\nplugin = "ip_allowlist"\nallow = ["127.0.0.1", "::1"]\n\n'
            f'[[chain]]\nplugin = "jwks"\nurl = "{url}"\nalgorithms = ["{alg}"]\n'
            f'issuer = "{ISSUER}"\naudience = "{AUDIENCE}"\nca_file = "{ca_file}"\n'
            f'token_cache_size = {TOKEN_CACHE}\n')


def main_config(tmp, sock):
    return (f'[server]\nsocket = "{sock}"\nsocket_mode = "0600"\nmax_connections = 4096\n'
            f'apps_dir = "apps.d"\n\n[log]\ntarget = "stderr"\nlevel = "warning"\ndecisions = "none"\n')


def jwks_supported(tmp):
    """Whether this build of authzd has the jwks plugin registered."""
    d = os.path.join(tmp, "probe")
    os.makedirs(os.path.join(d, "apps.d"))
    write(os.path.join(d, "authzd.toml"), main_config(d, os.path.join(d, "s.sock")))
    write(os.path.join(d, "apps.d", "p.toml"), jwks_app("https://127.0.0.1:1/jwks.json", "RS256", ""))
    r = subprocess.run([AUTHZD, "check-config", "--config", os.path.join(d, "authzd.toml")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        log("jwks plugin unavailable in this build: " + r.stderr.strip())
    return r.returncode == 0


JWKS_ALGS = [("rs256", "RS256", 2048), ("es256", "ES256", None), ("eddsa", "EdDSA", None)]


def mint_jwks(tmp, jwks_dir):
    """Keys, the served key set and tokens for the asymmetric algorithms, via the test suite's
    JWKS tool. Returns {name: [repeated token, distinct tokens...]}."""
    now = int(time.time())
    keys, tokens = [], []
    for name, alg, bits in JWKS_ALGS:
        keys.append({"kid": f"bench-{name}", "alg": alg, "bits": bits})
        for n in range(DISTINCT_TOKENS + 1):
            tokens.append({"key": f"bench-{name}", "alg": alg,
                           "claims": {"iss": ISSUER, "aud": AUDIENCE, "sub": f"user-{n}",
                                      "jti": f"{name}-{n}", "iat": now, "exp": now + 7200}})
    req = json.dumps({"dir": jwks_dir, "keys": keys, "tokens": tokens})
    r = subprocess.run([sys.executable, JWKS_TOOL, "batch"], input=req, capture_output=True, text=True,
                       check=True)
    out = json.loads(r.stdout)
    write(os.path.join(jwks_dir, "jwks.json"), json.dumps({"keys": list(out["jwks"].values())}))
    per = DISTINCT_TOKENS + 1
    return {name: out["tokens"][i * per:(i + 1) * per] for i, (name, _, _) in enumerate(JWKS_ALGS)}


# ---------------------------------------------------------------- load

def bench(label, sock, *args, expect="allow", server_pid=None, latency=False):
    """The best of REPEAT runs: the highest rate, or with latency=True (paced runs, whose rate
    is fixed) the lowest p99."""
    runs = [bench_once(label, sock, *args, expect=expect, server_pid=server_pid) for _ in range(REPEAT)]
    ok = [r for r in runs if r.get("ok")] or runs
    if latency:
        best = min(ok, key=lambda r: r.get("p99_us", float("inf")))
    else:
        best = max(ok, key=lambda r: r.get("decisions_per_sec", 0))
    if REPEAT > 1:
        best["runs_decisions_per_sec"] = [r.get("decisions_per_sec") for r in runs]
        best["runs_p99_us"] = [r.get("p99_us") for r in runs]
    return best


def bench_once(label, sock, *args, expect="allow", server_pid=None):
    """One authzd-bench run. With server_pid, also the server's CPU time per decision, which is
    steadier than throughput on a machine that other work shares."""
    cmd = [BENCH, "--socket", sock, "--duration", str(DURATION), "--warmup", str(WARMUP), "--json",
           "--label", label] + [str(a) for a in args]
    log(f"-- {label}")
    server_before = cpu_seconds(server_pid) if server_pid else 0.0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(cmd, capture_output=True, text=True)
    kids_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = cpu_seconds(server_pid) - server_before if server_pid else None
    client_cpu = (kids_after.ru_utime + kids_after.ru_stime) - (kids.ru_utime + kids.ru_stime)
    if r.returncode != 0:
        log(r.stderr)
        return {"label": label, "ok": False, "failure": r.stderr.strip()[-500:]}
    res = json.loads(r.stdout.strip().splitlines()[-1])
    if expect == "allow":
        res["ok"] = res["errors"] == 0 and res["denied"] == 0 and res["allowed"] > 0
    else:
        res["ok"] = res["errors"] == 0 and res["allowed"] == 0 and res["denied"] > 0
    # CPU is measured over warmup + window; requests are counted in the window only, so the
    # estimate scales them to the whole run at the window's rate.
    total = res["decisions_per_sec"] * (DURATION + WARMUP)
    if total > 0:
        res["client_cpu_us_per_decision"] = round(client_cpu / total * 1e6, 2)
        if server_cpu is not None:
            res["server_cpu_us_per_decision"] = round(server_cpu / total * 1e6, 2)
            res["server_cpu_cores"] = round(server_cpu / (DURATION + WARMUP), 2)
    res["command"] = "authzd-bench " + " ".join(
        a if not a.startswith("/") else os.path.basename(a) for a in cmd[1:])
    log(f"   {res['decisions_per_sec']:>10.0f}/s  p50 {res['p50_us']} us  p99 {res['p99_us']} us"
        f"  server {res.get('server_cpu_us_per_decision')} us CPU/decision"
        f"  allowed {res['allowed']} denied {res['denied']} errors {res['errors']}"
        + ("" if res["ok"] else "  << NOT AS EXPECTED"))
    return res


def parse_wrk(text):
    def dur(s):
        m = re.match(r"([\d.]+)(us|ms|s)", s)
        v = float(m.group(1))
        return v * {"us": 1, "ms": 1000, "s": 1e6}[m.group(2)]

    out = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    out["requests_per_sec"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        if m:
            out[f"p{pct}_us"] = round(dur(m.group(1)))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    out["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", text)
    out["socket_errors"] = m.group(1).strip() if m else None
    return out


def wrk(label, url, token, conns=64, processes=None):
    runs = [wrk_once(label, url, token, conns, processes) for _ in range(REPEAT)]
    ok = [r for r in runs if r.get("ok")]
    best = max(ok or runs, key=lambda r: r.get("requests_per_sec", 0))
    if REPEAT > 1:
        best["runs_requests_per_sec"] = [r.get("requests_per_sec") for r in runs]
    return best


def wrk_once(label, url, token, conns=64, processes=None):
    """One wrk run; processes ({name: [pid...]}) get their CPU time per request recorded."""
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{int(DURATION)}s", "--latency",
           "-H", f"Authorization: Bearer {token}", url]
    log(f"-- {label}")
    subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{max(1, int(WARMUP))}s",
                    "-H", f"Authorization: Bearer {token}", url], capture_output=True)
    before = {n: sum(cpu_seconds(p) for p in pids) for n, pids in (processes or {}).items()}
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(cmd, capture_output=True, text=True)
    kids_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = parse_wrk(r.stdout)
    res["label"] = label
    total = res["requests_per_sec"] * int(DURATION)
    if total > 0:
        cpu = {n: round((sum(cpu_seconds(p) for p in pids) - before[n]) / total * 1e6, 2)
               for n, pids in (processes or {}).items()}
        cpu["wrk"] = round(((kids_after.ru_utime + kids_after.ru_stime) - (kids.ru_utime + kids.ru_stime))
                           / total * 1e6, 2)
        res["cpu_us_per_request"] = cpu
    res["ok"] = r.returncode == 0 and res["non_2xx"] == 0 and res["socket_errors"] is None \
        and res["requests_per_sec"] > 0
    res["command"] = "wrk -t1 -c%d -d%ds --latency -H 'Authorization: Bearer $TOKEN' %s" % (
        conns, int(DURATION), re.sub(r":\d+/", ":PORT/", url))
    log(f"   {res['requests_per_sec']:>10.0f}/s  p50 {res.get('p50_us')} us  p99 {res.get('p99_us')} us"
        f"  CPU us/request {res.get('cpu_us_per_request')}"
        + ("" if res["ok"] else "  << NOT AS EXPECTED: " + r.stdout[-400:]))
    return res


NJS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"
NJS_SCRIPT = os.path.join(ROOT, "bench", "njs_hs256.js")
NGINX_SCENARIOS = ("nginx_floor", "nginx_proxied", "nginx_chain", "nginx_cached", "nginx_njs")


def nginx_conf(tmp, ports, shim_port, njs):
    """nginx with one server per scenario, each protecting /api/ with auth_request and serving a
    small static file. They differ only in who answers /_authz: authzd through the shipped
    snippets and authzd-nginx (chain), the same with nginx's decision cache (cached), nginx itself
    with `return 200` (floor, what any auth_request setup pays), a keep-alive proxy to a trivial
    server that answers 200 (proxied: the floor of any sidecar design, a hop that decides
    nothing), or an njs script verifying the HS256 token inside nginx (njs)."""
    www = os.path.join(tmp, "www", "api")
    os.makedirs(www, exist_ok=True)
    write(os.path.join(www, "ok"), "ok\n")
    # The shipped snippets include each other as authzd/NAME, relative to the configuration's
    # folder, as they would from /etc/nginx.
    snippets = os.path.join(tmp, "authzd")
    shutil.copytree(os.path.join(ROOT, "deploy", "nginx"), snippets, dirs_exist_ok=True)
    temp = "".join(f"    {k}_temp_path {tmp}/nginx-{k};\n"
                   for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    protected = """        location /api/ {
            set $authz_app hs;
            auth_request /_authz;
            auth_request_set $authz_reason $upstream_http_x_authz_reason;
        }
"""
    njs_server = ""
    if njs:
        njs_server = f"""    server {{
        listen 127.0.0.1:{ports["nginx_njs"]};
        root {tmp}/www;
        location = /_authz {{
            internal;
            set $njs_jwt_secret "{SECRET}";
            js_content njs_hs256.verify;
        }}
{protected}    }}
"""
    return f"""{"load_module " + NJS_MODULE + ";" if njs else ""}
worker_processes 1;
error_log {tmp}/nginx-error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temp}
    {"js_import njs_hs256 from " + NJS_SCRIPT + ";" if njs else ""}
    include authzd/authzd-maps.conf;
    proxy_cache_path {tmp}/authz-cache levels=1:2 keys_zone=authz:10m max_size=64m inactive=60s;
    upstream authzd_nginx {{
        server 127.0.0.1:{shim_port};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{ports["nginx_chain"]};
        root {tmp}/www;
        include authzd/authzd.conf;
{protected}    }}
    server {{
        listen 127.0.0.1:{ports["nginx_cached"]};
        root {tmp}/www;
        include authzd/authzd-cached.conf;
{protected}    }}
    upstream trivial_authz {{
        server 127.0.0.1:{ports["trivial"]};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{ports["trivial"]};
        location / {{
            return 200;
        }}
    }}
    server {{
        listen 127.0.0.1:{ports["nginx_proxied"]};
        root {tmp}/www;
        location = /_authz {{
            internal;
            proxy_pass http://trivial_authz;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
        }}
{protected}    }}
    server {{
        listen 127.0.0.1:{ports["nginx_floor"]};
        root {tmp}/www;
        location = /_authz {{
            internal;
            return 200;
        }}
{protected}    }}
{njs_server}}}
"""


def openssl_verify(alg, pattern):
    """Verifications per second on one core, from `openssl speed -seconds 3 -multi 1 ALG`."""
    r = subprocess.run(["openssl", "speed", "-seconds", "3", "-multi", "1", alg], capture_output=True, text=True)
    for line in (r.stdout + r.stderr).splitlines():
        m = re.match(pattern + r"\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", line.strip())
        if m:
            return float(m.group(2))
    return None


# ---------------------------------------------------------------- the run

def want(name):
    return not ONLY or name in ONLY


def main():
    for path in (AUTHZD, BENCH, SHIM):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"{path} missing: run `swift build -c release` first")
    tmp = tempfile.mkdtemp(prefix="authzd-bench-")
    os.chmod(tmp, 0o755)  # nginx workers (another user) read the static file
    results = {"machine": machine(), "duration_s": DURATION, "warmup_s": WARMUP, "repeat": REPEAT,
               "load_average_before": loadavg(), "background_busy_before": background_busy(),
               "scenarios": {}}
    sc = results["scenarios"]
    notes = results.setdefault("notes", [])
    t0 = time.time()
    cpu0 = cpu_times()
    try:
        run(tmp, results, sc, notes)
    finally:
        for p in list(children):
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
    results["load_average_after"] = loadavg()
    results["background_busy_after"] = background_busy()
    # How much of the machine was busy (ours and anyone else's) and stolen by a hypervisor.
    busy, idle, steal = (b - a for a, b in zip(cpu0, cpu_times()))
    total = max(1, busy + idle + steal)
    results["machine_busy_fraction"] = round(busy / total, 3)
    results["machine_steal_fraction"] = round(steal / total, 3)
    results["wall_seconds"] = round(time.time() - t0, 1)
    results["targets"] = targets(results)
    print_table(results)
    if ONLY:
        log("BENCH_ONLY set: results not written")
        return
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    log(f"wrote {os.path.relpath(OUT, ROOT)}")


def run(tmp, results, sc, notes):
    sock = os.path.join(tmp, "authzd.sock")
    apps = os.path.join(tmp, "apps.d")
    os.makedirs(apps)
    write(os.path.join(tmp, "authzd.toml"), main_config(tmp, sock))
    write(os.path.join(apps, "hs.toml"), hmac_app(cache=TOKEN_CACHE))
    write(os.path.join(apps, "ip.toml"), '[[chain]]\nplugin = "ip_allowlist"\nallow = ["127.0.0.1", "::1"]\n')
    for i in range(APPS):
        write(os.path.join(apps, f"multi{i}.toml"), hmac_app())

    log("minting tokens")
    hs_one = hs_token(SECRET)
    hs_file = os.path.join(tmp, "hs-tokens.txt")
    write(hs_file, "\n".join(hs_token(SECRET, n) for n in range(DISTINCT_TOKENS)) + "\n")
    bad = hs_token(WRONG_SECRET)

    jwks_tokens = {}
    if jwks_supported(tmp):
        jwks_dir = os.path.join(tmp, "jwks")
        os.makedirs(jwks_dir)
        jwks_tokens = mint_jwks(tmp, jwks_dir)
        server = start([sys.executable, JWKS_TOOL, "serve", "--dir", jwks_dir], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, text=True)
        port = int(server.stdout.readline().split()[1])
        url = f"https://127.0.0.1:{port}/jwks.json"
        for name, alg, _ in JWKS_ALGS:
            write(os.path.join(apps, f"{name}.toml"), jwks_app(url, alg, os.path.join(jwks_dir, "cert.pem")))
            tf = os.path.join(tmp, f"{name}-tokens.txt")
            write(tf, "\n".join(jwks_tokens[name][1:]) + "\n")
    else:
        notes.append("RS256, ES256 and EdDSA scenarios skipped: the jwks plugin is not registered in this build")

    cfg = os.path.join(tmp, "authzd.toml")
    subprocess.run([AUTHZD, "check-config", "--config", cfg], check=True, capture_output=True)
    daemon_log = open(os.path.join(tmp, "authzd.log"), "w")
    daemon = start([AUTHZD, "serve", "--config", cfg], stdout=daemon_log, stderr=subprocess.STDOUT)
    wait_for_socket(sock, daemon, "authzd")
    results["authzd_rss_kib_idle"] = proc_status(daemon.pid, "VmRSS")

    # Every JWKS app answers once before it is measured, so the timed runs see a loaded key set.
    for name, _, _ in JWKS_ALGS:
        if name in jwks_tokens:
            a = line_request(sock, {"app": name, "remote_addr": "127.0.0.1",
                                    "headers": {"authorization": "Bearer " + jwks_tokens[name][0]}})
            if not a.get("allow"):
                notes.append(f"{name}: first check was not allowed: {a}")
                log(f"{name}: first check not allowed: {a}")

    std = ["--connections", CONNS, "--depth", DEPTH]

    def add(name, *args, expect="allow"):
        if want(name):
            sc[name] = bench(name, sock, *args, expect=expect, server_pid=daemon.pid)

    add("hs256_repeated", "--app", "hs", "--token", hs_one, *std)
    add("hs256_distinct", "--app", "hs", "--token-file", hs_file, *std)
    add("ip_only", "--app", "ip", *std)
    for name, _, _ in JWKS_ALGS:
        if name in jwks_tokens:
            add(f"{name}_distinct", "--app", name, "--token-file", os.path.join(tmp, f"{name}-tokens.txt"), *std)
            add(f"{name}_repeated", "--app", name, "--token", jwks_tokens[name][0], *std)
    add("deny_bad_signature", "--app", "hs", "--token", bad, *std, expect="deny")
    add("deny_ip", "--app", "hs", "--token", hs_one, "--ip", "192.0.2.7", *std, expect="deny")
    add("apps_1", "--app", "multi0", "--token", hs_one, *std)
    add("apps_1000", "--apps-prefix", "multi", "--apps-count", APPS, "--token", hs_one, *std)
    # 1 vs 1000 connections with the same 1000 requests in flight, and the single request
    # round trip (1 x 1) for the unloaded latency.
    add("conns_1", "--app", "hs", "--token", hs_one, "--connections", 1, "--depth", 1000)
    add("conns_1000", "--app", "hs", "--token", hs_one, "--connections", 1000, "--depth", 1)
    # The same one-request-per-connection pattern with fewer connections: what 1000 costs beyond
    # the per-request system calls that depth 1 brings.
    add("conns_64", "--app", "hs", "--token", hs_one, "--connections", 64, "--depth", 1)
    add("round_trip_1x1", "--app", "hs", "--token", hs_one, "--connections", 1, "--depth", 1)

    # p99 at half the best HS256 rate, paced (open loop, timed from when each request was due).
    if want("half_rate") and sc.get("hs256_repeated", {}).get("ok"):
        half = round(sc["hs256_repeated"]["decisions_per_sec"] / 2)
        sc["half_rate"] = bench("half_rate", sock, "--app", "hs", "--token", hs_one, *std, "--rate", half,
                                server_pid=daemon.pid, latency=True)

    if any(want(n) for n in NGINX_SCENARIOS):
        shim_port = free_port()
        ports = {n: free_port() for n in NGINX_SCENARIOS}
        ports["trivial"] = free_port()
        njs = os.path.exists(NJS_MODULE)
        if not njs and want("nginx_njs"):
            notes.append(f"nginx_njs skipped: {NJS_MODULE} is missing (apt-get install libnginx-mod-http-js)")
        shim = start([SHIM, "--upstream", sock, "--listen", f"127.0.0.1:{shim_port}", "--log-level", "warning"],
                     stdout=daemon_log, stderr=subprocess.STDOUT)
        wait_for_port(shim_port, shim, "authzd-nginx")
        conf = os.path.join(tmp, "nginx.conf")
        write(conf, nginx_conf(tmp, ports, shim_port, njs))
        nginx = start(["nginx", "-p", tmp, "-c", conf, "-g", "daemon off;"],
                      stdout=daemon_log, stderr=subprocess.STDOUT)
        wait_for_port(ports["nginx_chain"], nginx, "nginx")
        procs = {"nginx": [nginx.pid] + children_of(nginx.pid), "authzd-nginx": [shim.pid], "authzd": [daemon.pid]}
        for name in NGINX_SCENARIOS:
            if not want(name) or (name == "nginx_njs" and not njs):
                continue
            url = f"http://127.0.0.1:{ports[name]}/api/ok"
            sc[name] = wrk(name, url, hs_one, processes=procs)
            if name in ("nginx_floor", "nginx_proxied"):
                continue
            # Every scenario but the floor must really decide: a bad token is refused.
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                                f"Authorization: Bearer {bad}", url], capture_output=True, text=True)
            sc[name]["bad_token_status"] = r.stdout.strip()
            if r.stdout.strip() != "401":
                log(f"   << {name} answered {r.stdout.strip()} to a bad token, not 401")
                sc[name]["ok"] = False
        stop(nginx)
        stop(shim)

    results["authzd_peak_rss_kib"] = proc_status(daemon.pid, "VmHWM")
    results["authzd_rss_kib_end"] = proc_status(daemon.pid, "VmRSS")
    stop(daemon)
    daemon_log.close()

    if want("pyjwt_sidecar"):
        py_sock = os.path.join(tmp, "py.sock")
        side = start([sys.executable, SIDECAR, "--socket", py_sock, "--app", "hs", "--secret", SECRET,
                      "--allow", "127.0.0.1", "--allow", "::1"])
        wait_for_socket(py_sock, side, "pysidecar")
        sc["pyjwt_sidecar"] = bench("pyjwt_sidecar", py_sock, "--app", "hs", "--token", hs_one, *std,
                                    server_pid=side.pid)
        stop(side)

    if want("openssl"):
        log("-- openssl speed -seconds 3 -multi 1 rsa2048")
        results["openssl_rsa2048_verify_per_sec_1core"] = openssl_verify("rsa2048", r"rsa\s+2048 bits")
        # For the other algorithms' per-verification cost (not a target, a reference).
        log("-- openssl speed -seconds 3 -multi 1 ecdsap256 / ed25519")
        results["openssl_ecdsap256_verify_per_sec_1core"] = openssl_verify("ecdsap256", r"256 bits ecdsa \(nistp256\)")
        results["openssl_ed25519_verify_per_sec_1core"] = openssl_verify("ed25519", r"253 bits EdDSA \(Ed25519\)")


# ---------------------------------------------------------------- targets and the table

def targets(results):
    sc = results["scenarios"]

    def rate(name):
        s = sc.get(name)
        if not s or not s.get("ok"):
            return None
        return s.get("decisions_per_sec", s.get("requests_per_sec"))

    out = []

    def target(name, value, goal, met, detail):
        out.append({"target": name, "goal": goal, "value": value,
                    "met": None if value is None else bool(met), "detail": detail})

    hs, py = rate("hs256_repeated"), rate("pyjwt_sidecar")
    hsd = rate("hs256_distinct")
    cpu = lambda n: (sc.get(n) or {}).get("server_cpu_us_per_decision")
    target("HS256 vs PyJWT sidecar", round(hs / py, 1) if hs and py else None, ">= 10x",
           hs and py and hs >= 10 * py,
           f"authzd {hs} /s (repeated token; {hsd} /s distinct) vs sidecar {py} /s; server CPU per "
           f"decision {cpu('hs256_repeated')} us (distinct {cpu('hs256_distinct')} us) vs {cpu('pyjwt_sidecar')} us")
    osl, rs = results.get("openssl_rsa2048_verify_per_sec_1core"), rate("rs256_distinct")
    target("RS256 distinct vs openssl verify/s (1 core)", round(rs / osl, 2) if rs and osl else None,
           ">= 0.7x", rs and osl and rs >= 0.7 * osl, f"authzd {rs} /s vs openssl {osl} /s")
    # "Cached >= HS256 rate" read both ways: against HS256 that verifies its HMAC on every
    # request (distinct tokens), and against HS256 answered from its own cache (one token).
    for name in ("rs256", "es256", "eddsa"):
        cached = rate(f"{name}_repeated")
        target(f"{name} cached >= HS256 verifying", round(cached / hsd, 2) if cached and hsd else None,
               ">= 1.0x", cached and hsd and cached >= hsd, f"{cached} /s vs HS256 distinct {hsd} /s")
        target(f"{name} cached >= HS256 cached", round(cached / hs, 2) if cached and hs else None, ">= 1.0x",
               cached and hs and cached >= hs, f"{cached} /s vs HS256 repeated {hs} /s")
    floor, chain = rate("nginx_floor"), rate("nginx_chain")
    target("nginx chain vs nginx floor", round(chain / floor, 2) if chain and floor else None, ">= 0.6x",
           chain and floor and chain >= 0.6 * floor, f"chain {chain} req/s vs floor {floor} req/s")
    proxied, cached, njs = rate("nginx_proxied"), rate("nginx_cached"), rate("nginx_njs")
    target("nginx chain vs proxied floor", round(chain / proxied, 2) if chain and proxied else None, ">= 0.9x",
           chain and proxied and chain >= 0.9 * proxied,
           f"chain {chain} req/s vs a keep-alive proxy to a trivial server {proxied} req/s")
    target("nginx cached chain vs njs", round(cached / njs, 2) if cached and njs else None, ">= 1.2x",
           cached and njs and cached >= 1.2 * njs,
           f"decision cache, repeated token {cached} req/s vs njs verifying in nginx {njs} req/s")
    rss = results.get("authzd_peak_rss_kib")
    target("authzd peak RSS", round(rss / 1024, 1) if rss else None, "<= 64 MiB", rss and rss <= 64 * 1024,
           "VmHWM after every scenario (1000 apps, 1000 connections, nginx)")
    half = sc.get("half_rate")
    p99 = half.get("p99_us") if half and half.get("ok") else None
    target("p99 at half the max rate", p99, "<= 1000 us", p99 is not None and p99 <= 1000,
           f"paced to {half.get('rate') if half else None} /s")
    a1, a1000 = rate("apps_1"), rate("apps_1000")
    target("1 -> 1000 apps", round(a1000 / a1, 2) if a1 and a1000 else None, "flat (>= 0.9x)",
           a1 and a1000 and a1000 >= 0.9 * a1, f"{a1} /s -> {a1000} /s")
    c1, c1000 = rate("conns_1"), rate("conns_1000")
    target("1 -> 1000 connections", round(c1000 / c1, 2) if c1 and c1000 else None, "flat (>= 0.9x)",
           c1 and c1000 and c1000 >= 0.9 * c1,
           f"1 x 1000 in flight {c1} /s -> 1000 x 1 {c1000} /s (64 x 1: {rate('conns_64')} /s); server CPU "
           f"per decision {cpu('conns_1')} / {cpu('conns_1000')} / {cpu('conns_64')} us")
    c64 = rate("conns_64")
    target("64 -> 1000 connections, 1 request each", round(c1000 / c64, 2) if c64 and c1000 else None,
           "flat (>= 0.9x)", c64 and c1000 and c1000 >= 0.9 * c64,
           f"{c64} /s -> {c1000} /s: the same request pattern, 16x the connections")
    return out


def print_table(results):
    sc = results["scenarios"]
    print()
    print(f"{'scenario':<22} {'rate /s':>10} {'p50 us':>8} {'p99 us':>8} {'p99.9 us':>9} {'allow':>9} {'deny':>9} {'err':>4}"
          f" {'srv CPU us/dec':>15}")
    for name, s in sc.items():
        if "failure" in s:
            print(f"{name:<22} FAILED: {s['failure'][:60]}")
            continue
        r = s.get("decisions_per_sec", s.get("requests_per_sec", 0))
        print(f"{name:<22} {r:>10.0f} {s.get('p50_us', ''):>8} {s.get('p99_us', ''):>8} {s.get('p999_us', ''):>9}"
              f" {s.get('allowed', ''):>9} {s.get('denied', ''):>9} {s.get('errors', ''):>4}"
              f" {s.get('server_cpu_us_per_decision', ''):>15}"
              + ("" if s.get("ok") else "  NOT AS EXPECTED"))
    osl = results.get("openssl_rsa2048_verify_per_sec_1core")
    if osl:
        print(f"{'openssl rsa2048 verify':<22} {osl:>10.0f}")
    rss = results.get("authzd_peak_rss_kib")
    if rss:
        print(f"authzd peak RSS {rss / 1024:.1f} MiB")
    print()
    for t in results["targets"]:
        mark = {True: "met", False: "NOT met", None: "n/a"}[t["met"]]
        print(f"{t['target']:<44} {str(t['value']):>8} (goal {t['goal']}): {mark}  [{t['detail']}]")
    for n in results.get("notes", []):
        print("note: " + n)
    print(f"load average before {results['load_average_before']} after {results.get('load_average_after')}; "
          f"machine busy with other work: {results['background_busy_before']:.0%} before, "
          f"{results.get('background_busy_after', 0):.0%} after")


if __name__ == "__main__":
    main()
