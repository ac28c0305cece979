#!/usr/bin/env bash
# Instructions per signature verification, counted by callgrind (repeatable on a busy machine,
# unlike wall-clock time). For each algorithm, runs authzd-verify-bench (the path of a
# cache-missing jwks decision, and the raw PublicKey.verify) and the C floor (openssl_verify.c)
# for N iterations, counting only inside the measured loop (key generation and signing vary
# from run to run and stay out), and divides by N.
#
#   Benchmarks/callgrind.sh [N]        (default N=2000; needs `swift build -c release` first)
#
# Callgrind output files stay in .build/verify-bench/ for callgrind_annotate.
set -euo pipefail -f  # no globbing: the toggle patterns hold stars
cd "$(dirname "$0")/.."
n=${1:-2000}
out=.build/verify-bench
mkdir -p "$out"
swift build -c release --product authzd-verify-bench >/dev/null
cc -O2 -Wall -o "$out/openssl_verify" Benchmarks/openssl_verify.c -lcrypto

count() { # label toggle-function command...
    local label=$1 toggle=$2; shift 2
    valgrind --tool=callgrind --collect-atstart=no --toggle-collect="$toggle" \
        --callgrind-out-file="$out/$label.out" "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '%-6s %-8s %14s\n' alg path instructions/verification
for alg in ${ALGS:-RS256 ES256 EdDSA}; do
    for path in "jose *measuredLoop* .build/release/authzd-verify-bench jose" \
                "raw *measuredLoop* .build/release/authzd-verify-bench raw" \
                "c-naive measured_loop $out/openssl_verify naive" "c-floor measured_loop $out/openssl_verify floor"; do
        set -- $path
        total=$(count "$alg-$1" "$2" "$3" "$alg" "$n" "$4")
        printf '%-6s %-8s %14d\n' "$alg" "$1" $(( total / n ))
    done
done
