#!/usr/bin/env bash
# Attacks etrust-ocspd (release build) on loopback while a good client measures its latency and
# the daemon's RSS is sampled (issue #15): pipelining without reading, an idle connection flood,
# a keep-alive trickle, slow loris, a header flood. Each is bounded in time (SECONDS, default 10).
# Targets: RSS flat within 20 MiB, the good client's p99 < 20 ms, served again < 1 s after.
# Usage: Tools/abuse.sh [SECONDS]     (ETRUST_BENCH_BIN=DIR for prebuilt binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${1:-10}
if [ -z "${ETRUST_BENCH_BIN:-}" ]; then
  swift build -c release --product etrust >/dev/null && swift build -c release --product etrust-ocspd >/dev/null
fi
bin="${ETRUST_BENCH_BIN:-$root/.build/release}"
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export ETRUST_PASSPHRASE=abuse-passphrase ETRUST_SIGNER_PASSPHRASE=abuse-responder-passphrase
h="$work/home"
"$bin/etrust" init --home "$h" --public-url http://pki.abuse.test >/dev/null
sed -i 's/pbkdf2Iterations: 600000/pbkdf2Iterations: 1000/' "$h/etrust.yaml"
"$bin/etrust" ca create root --home "$h" --subject "CN=Abuse Root,O=etrust,C=TG" >/dev/null
"$bin/etrust" ca create issuing --home "$h" --parent root --subject "CN=Abuse Issuing,O=etrust,C=TG" >/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=Ama Mensah/C=TG" -keyout "$work/k" -out "$work/r" 2>/dev/null
"$bin/etrust" issue --home "$h" --ca issuing --profile citizen-authentication --csr "$work/r" --out "$work/leaf.pem" >/dev/null
for ca in root issuing; do "$bin/etrust" ocsp provision --home "$h" --ca "$ca" >/dev/null; done
openssl ocsp -issuer "$h/certs/issuing.pem" -cert "$work/leaf.pem" -no_nonce -reqout "$work/req.der" >/dev/null 2>&1
ulimit -n 16384 2>/dev/null || true
port=$(( 20000 + RANDOM % 20000 ))
"$bin/etrust-ocspd" --home "$h" --listen "127.0.0.1:$port" 2>"$work/ocspd.log" &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
python3 "$root/Tools/abuse.py" "$port" "$pid" "$work/req.der" "$secs"
