#!/usr/bin/env bash
# Where authzd-nginx's instructions and system calls go per request: the release build of the
# shim, in front of a release authzd serving one ip_allowlist + jwt_hmac app, receives a fixed
# number of keep-alive auth_request subrequests from Benchmarks/shim_client.py.
#
#   Benchmarks/shim-profile.sh [REQUESTS] [CONNECTIONS]     (defaults 20000 and 16)
#
# 1. callgrind on the shim, counting only the measured requests (after a warm-up): instructions
#    per request and the top functions (.build/shim-profile/callgrind.out for callgrind_annotate);
# 2. strace -c -f on a shim running natively: system calls per request.
# Needs `swift build -c release` first. Everything runs in a temporary directory on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
conns=${2:-16}
bin=.build/release
out=.build/shim-profile
mkdir -p "$out"
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

secret=shim-profile-secret-0123456789abcdef
mkdir -p "$tmp/apps.d"
cat > "$tmp/authzd.toml" <<CONF
[server]
socket = "$tmp/authzd.sock"
socket_mode = "0600"
apps_dir = "apps.d"

[log]
target = "stderr"
level = "warning"
decisions = "none"
CONF
cat > "$tmp/apps.d/hs.toml" <<CONF
[[chain]]
plugin = "ip_allowlist"
allow = ["127.0.0.1"]

[[chain]]
plugin = "jwt_hmac"
secret = "$secret"
algorithms = ["HS256"]
CONF
token=$("$bin/authzd" token mint --secret "$secret" --claim sub=alice --expires-in 3600)
"$bin/authzd" serve --config "$tmp/authzd.toml" 2>"$tmp/authzd.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$tmp/authzd.sock" ] && break; sleep 0.1; done

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return; sleep 0.1; done; echo "nothing on $1" >&2; exit 1; }

# 1. Instructions, counted only between the warm-up and the end of the measured requests, in
#    authzd-nginx-profile (the same NginxShim.run with the default options, from a main thread
#    valgrind can follow), copied without DWARF (the symbol table stays, so functions keep their
#    names) since valgrind 3.19 cannot read some of the DWARF 5 in the build.
p=$(port)
swift build -c release --product authzd-nginx-profile >/dev/null
objcopy --strip-debug "$bin/authzd-nginx-profile" "$out/authzd-nginx-profile"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.out" \
    "$out/authzd-nginx-profile" "$tmp/authzd.sock" "127.0.0.1:$p" 2>"$out/valgrind.log" &
vg=$!
pids+=($vg)
wait_port "$p"
Benchmarks/shim_client.py "127.0.0.1:$p" "$token" 2000 "$conns" >/dev/null
rm -f "$out"/callgrind.out*
callgrind_control -i on "$vg" >/dev/null 2>&1
Benchmarks/shim_client.py "127.0.0.1:$p" "$token" "$n" "$conns"
# The dump (callgrind.out.1) holds exactly the measured requests.
callgrind_control -d "$vg" >/dev/null 2>&1
kill "$vg"; wait "$vg" 2>/dev/null || true
total=$(sed -n 's/^summary: \([0-9]*\).*/\1/p' "$out/callgrind.out.1" | head -n1)
echo "instructions per request (authzd-nginx, all threads): $(( total / n ))  ($out/callgrind.out.1)"

# 2. System calls per request, on a native shim.
p=$(port)
"$bin/authzd-nginx" --upstream "$tmp/authzd.sock" --listen "127.0.0.1:$p" --log-level warning &
shim=$!
pids+=($shim)
wait_port "$p"
Benchmarks/shim_client.py "127.0.0.1:$p" "$token" 2000 "$conns" >/dev/null
strace -c -f -p "$shim" -o "$out/strace.txt" &
st=$!
sleep 1
Benchmarks/shim_client.py "127.0.0.1:$p" "$token" "$n" "$conns" >/dev/null
kill -INT "$st"; wait "$st" 2>/dev/null || true
echo "system calls per request (authzd-nginx, strace -c -f):"
awk -v n="$n" '$1 ~ /^[0-9.]+$/ && NF >= 5 { name = $NF; calls = $4; printf "  %-16s %6.2f\n", name, calls / n }' "$out/strace.txt"
