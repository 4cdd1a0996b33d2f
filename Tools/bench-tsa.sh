#!/usr/bin/env bash
# Time-stamping and validation API throughput on loopback, in one run:
#   tokens/s from etrust-ocspd's POST /tsa (wrk, CONNS connections, D seconds; every token is
#   recorded in the database before its reply) vs one `openssl ts -reply` process per request
#   (2 at a time, the same unit key and certificate);
#   requests/s of POST /verify/certificate (a 3-certificate EC P-256 chain, no revocation) vs the
#   library rate `etrust verify --benchmark-repeat` reaches on one thread.
# Usage: Tools/bench-tsa.sh [SECONDS]   (default 10). Needs wrk (apt-get install wrk).
# ETRUST_BENCH_BIN=DIR measures prebuilt binaries (e.g. .build/debug when a release build is too dear).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
d=${1:-10}
conns=${CONNS:-16}
command -v wrk >/dev/null || { echo "missing wrk: apt-get install wrk"; exit 2; }
if [ -z "${ETRUST_BENCH_BIN:-}" ]; then
  swift build -c release --product etrust >/dev/null; swift build -c release --product etrust-ocspd >/dev/null
fi
bin="${ETRUST_BENCH_BIN:-$root/.build/release}"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export ETRUST_PASSPHRASE=bench-passphrase ETRUST_SIGNER_PASSPHRASE=bench-signer-passphrase
h="$work/home"
"$bin/etrust" init --home "$h" --public-url http://pki.bench.tg >/dev/null
"$bin/etrust" ca create root --home "$h" --subject "CN=Bench Root,O=etrust,C=TG" >/dev/null
"$bin/etrust" ca create issuing --home "$h" --parent root --subject "CN=Bench Issuing,O=etrust,C=TG" >/dev/null
"$bin/etrust" tsa provision --home "$h" --ca issuing --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["certificate"], end="")' > "$work/unit.pem"
openssl pkey -in "$(ls "$h"/keys/issuing-tsa-*.key.pem)" -passin env:ETRUST_SIGNER_PASSPHRASE -out "$work/unit.key"
cat "$h/certs/issuing.pem" "$h/certs/root.pem" > "$work/chain.pem"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=Ama Mensah/C=TG" -keyout "$work/k" -out "$work/r" 2>/dev/null
"$bin/etrust" issue --home "$h" --ca issuing --profile citizen-authentication --csr "$work/r" --out "$work/leaf.pem" >/dev/null
echo "the document" > "$work/doc.txt"
openssl ts -query -data "$work/doc.txt" -sha256 -cert -out "$work/req.tsq" 2>/dev/null
"$bin/etrust-ocspd" --home "$h" --listen 127.0.0.1:18490 --tsa --verify-api --log-level error 2>"$work/ocspd.log" &
pids+=($!)
for _ in $(seq 50); do curl -sf http://127.0.0.1:18490/healthz >/dev/null && break; sleep 0.2; done
python3 - "$work/leaf.pem" > "$work/verify.json" <<'PY'
import base64, json, ssl, sys
print(json.dumps({"certificate": base64.b64encode(ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read())).decode()}))
PY
cat > "$work/tsa.lua" <<LUA
function wrk.resolve(host, service) wrk.addrs = wrk.lookup(host, service) end
local f = io.open("$work/req.tsq", "rb"); local body = f:read("*all"); f:close()
wrk.method = "POST"; wrk.body = body; wrk.headers["Content-Type"] = "application/timestamp-query"
LUA
cat > "$work/verify.lua" <<LUA
function wrk.resolve(host, service) wrk.addrs = wrk.lookup(host, service) end
local f = io.open("$work/verify.json", "rb"); local body = f:read("*all"); f:close()
wrk.method = "POST"; wrk.body = body; wrk.headers["Content-Type"] = "application/json"
LUA
rps() { wrk -t 2 -c "$conns" -d "${d}s" -s "$2" "$1" 2>&1 | tee "$work/wrk.out" | awk '/Requests\/sec/ {print int($2)}'; }
tsa=$(rps http://127.0.0.1:18490/tsa "$work/tsa.lua")
errors=$(awk '/Non-2xx|Socket errors/' "$work/wrk.out")
recorded=$(sqlite3 "$h/etrust.db" 'SELECT COUNT(*) FROM timestamp_tokens')
verify=$(rps http://127.0.0.1:18490/verify/certificate "$work/verify.lua")
# openssl ts -reply: one process per request, 2 at a time, for about D seconds.
cat > "$work/ts.cnf" <<CNF
[ tsa ]
default_tsa = tsa1
[ tsa1 ]
serial = $work/serial
crypto_device = builtin
signer_cert = $work/unit.pem
certs = $work/chain.pem
signer_key = $work/unit.key
signer_digest = sha256
default_policy = 0.4.0.2023.1.1
digests = sha256, sha384, sha512
accuracy = secs:1
ess_cert_id_alg = sha256
CNF
echo 01 > "$work/serial"
one() { openssl ts -reply -config "$work/ts.cnf" -queryfile "$work/req.tsq" -out "$work/o$1.tsr" 2>/dev/null; }
export -f one; export work
start=$(date +%s.%N); n=0
while [ "$(echo "$(date +%s.%N) - $start < $d" | bc)" = 1 ]; do seq $((n + 1)) $((n + 20)) | xargs -P 2 -I{} bash -c 'one {}'; n=$((n + 20)); done
openssl_rate=$(echo "$n / ($(date +%s.%N) - $start)" | bc -l)
lib=$("$bin/etrust" verify "$work/leaf.pem" --anchor "$h/certs/root.pem" --intermediate "$h/certs/issuing.pem" --benchmark-repeat 5000 \
      | sed -n 's/.*: \([0-9]*\)\/s$/\1/p')
printf '%-44s %10s\n' "measure ($conns connections, ${d}s)" "per second"
printf '%-44s %10s\n' "etrust-ocspd POST /tsa (tokens)" "$tsa"
printf '%-44s %10.0f\n' "openssl ts -reply, one process per request" "$openssl_rate"
printf '%-44s %10s\n' "etrust-ocspd POST /verify/certificate" "$verify"
printf '%-44s %10s\n' "library (etrust verify --benchmark-repeat)" "$lib"
awk -v t="$tsa" -v o="$openssl_rate" -v v="$verify" -v l="$lib" \
  'BEGIN { printf "\n/tsa vs openssl ts -reply: %.1fx; /verify/certificate vs the library on one thread: %.2fx\n", t/o, v/l }'
printf 'tokens recorded in the database: %s (wrk errors: %s)\n' "$recorded" "${errors:-none}"
