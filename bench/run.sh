#!/usr/bin/env bash
# Runs the benchmark scenarios (bench/run.py) against the release build and writes
# .build/bench/results.json (the tracked bench/results.json is the published run). `make bench` installs wrk, builds with `swift build -c release` and calls
# this. Takes a few minutes; BENCH_DURATION=SECONDS shortens or lengthens each scenario.
set -euo pipefail
cd "$(dirname "$0")/.."

# A Python with PyJWT and cryptography (the Makefile's deps target makes `python3` one).
PY=""
for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import jwt, cryptography" 2>/dev/null; then
        PY=$candidate
        break
    fi
done
[ -n "$PY" ] || { echo "bench: no python3 with PyJWT and cryptography (run make deps)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }

# 1000 connections on each side of the socket, plus nginx's.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

exec "$PY" bench/run.py "$@"
