#!/usr/bin/env bash
# SQLite against PostgreSQL, in one run on the same machine:
#   issuance: one `etrust issue --batch` of N EC P-256 CSRs (the rate etrust prints, and the wall
#             time of the command), then four such processes at once on the same home, N/4 each
#             (N over the wall time of all four: the aggregate rate);
#   responder: etrust-ocspd's pre-signed answers (wrk, 16 connections, D seconds, one RFC 5019
#             request), which come from memory whatever the engine.
# PostgreSQL is a private cluster on loopback (Tools/postgres.sh), fsync on.
# Usage: Tools/bench-postgres.sh [N] [D]   (default 4000 and 5). Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n=${1:-4000}
d=${2:-5}
command -v wrk >/dev/null || { echo "missing wrk: apt-get install wrk"; exit 2; }
venv=${ETRUST_VENV:-$root/.build/venv}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q cryptography; }
if [ -z "${ETRUST_BENCH_BIN:-}" ]; then
  swift build -c release --product etrust >/dev/null
  swift build -c release --product etrust-ocspd >/dev/null
fi
bin="${ETRUST_BENCH_BIN:-$root/.build/release}"
. "$root/Tools/postgres.sh"
work=$(mktemp -d)
ocspd=""
cleanup() { [ -n "$ocspd" ] && kill "$ocspd" 2>/dev/null; pg_stop; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
pg_start >/dev/null
export ETRUST_PASSPHRASE=bench-passphrase
calc() { awk "BEGIN { print $1 }"; }
now() { date +%s.%N; }

"$venv/bin/python" Tools/gen-csrs.py "$n" "$work/csrs" >/dev/null
quarter=$((n / 4))
for q in 0 1 2 3; do
  { echo csr; tail -n +2 "$work/csrs/batch.csv" | sed -n "$((q * quarter + 1)),$(((q + 1) * quarter))p"; } >"$work/csrs/q$q.csv"
done
PGPASSWORD=$ETRUST_DB_PASSWORD psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U etrust -d postgres -c "CREATE DATABASE bench1" -c "CREATE DATABASE bench4"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=Ama Mensah/C=TG" -keyout "$work/k" -out "$work/r" 2>/dev/null

home() {   # home DIR [URL]: a home with a root and an issuing CA
  if [ -n "${2:-}" ]; then "$bin/etrust" init --home "$1" --database "$2" >/dev/null; else "$bin/etrust" init --home "$1" >/dev/null; fi
  "$bin/etrust" ca create root --home "$1" --subject "CN=Bench Root,O=etrust,C=TG" >/dev/null
  "$bin/etrust" ca create issuing --home "$1" --parent root --subject "CN=Bench Issuing,O=etrust,C=TG" >/dev/null
}
issue() { "$bin/etrust" issue --home "$1" --ca issuing --profile citizen-authentication --batch "$2"; }

echo "| engine | 1 issuer (etrust's rate) | 1 issuer (whole command) | 4 issuers at once (aggregate) | responder, pre-signed, 16 connections |"
echo "|---|---|---|---|---|"
for engine in sqlite postgres; do
  url=""; [ "$engine" = postgres ] && url="postgres://etrust@127.0.0.1:$PG_PORT/bench1"
  home "$work/$engine-1" "$url"
  t0=$(now); summary=$(issue "$work/$engine-1" "$work/csrs/batch.csv"); t1=$(now)
  rate1=$(echo "$summary" | sed -n 's/.*(\([0-9]*\)\/s).*/\1/p')
  wall1=$(calc "$n / ($t1 - $t0)")
  url4=""; [ "$engine" = postgres ] && url4="postgres://etrust@127.0.0.1:$PG_PORT/bench4"
  home "$work/$engine-4" "$url4"
  t0=$(now)
  for q in 0 1 2 3; do issue "$work/$engine-4" "$work/csrs/q$q.csv" >"$work/$engine-q$q.log" 2>&1 & done
  wait
  t1=$(now)
  for q in 0 1 2 3; do grep -q "issued $quarter, refused 0" "$work/$engine-q$q.log" || { echo "issuer $q on $engine failed:"; cat "$work/$engine-q$q.log"; exit 1; }; done
  rate4=$(calc "4 * $quarter / ($t1 - $t0)")
  # The responder on the first home: one certificate, provisioned and pre-signed.
  "$bin/etrust" issue --home "$work/$engine-1" --ca issuing --profile citizen-authentication --csr "$work/r" --out "$work/$engine-leaf.pem" >/dev/null
  for ca in root issuing; do ETRUST_SIGNER_PASSPHRASE=bench-passphrase "$bin/etrust" ocsp provision --home "$work/$engine-1" --ca "$ca" >/dev/null; done
  ETRUST_SIGNER_PASSPHRASE=bench-passphrase "$bin/etrust-ocspd" --home "$work/$engine-1" --listen 127.0.0.1:18490 --log-level error &
  ocspd=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:18490/healthz >/dev/null && break; sleep 0.1; done
  openssl ocsp -issuer "$work/$engine-1/certs/issuing.pem" -cert "$work/$engine-leaf.pem" -no_nonce -reqout "$work/req.der" >/dev/null 2>&1
  cat >"$work/post.lua" <<LUA
function wrk.resolve(host, service) wrk.addrs = wrk.lookup(host, service) end
local f = io.open("$work/req.der", "rb"); local body = f:read("*all"); f:close()
wrk.method = "POST"; wrk.body = body; wrk.headers["Content-Type"] = "application/ocsp-request"
LUA
  wrk -t 2 -c 16 -d 1s -s "$work/post.lua" http://127.0.0.1:18490/ocsp >/dev/null 2>&1   # warm: the first answer is signed and kept
  ocsp_rate=$(wrk -t 2 -c 16 -d "${d}s" -s "$work/post.lua" http://127.0.0.1:18490/ocsp 2>&1 | awk '/Requests\/sec/ { printf "%d", $2 }')
  kill "$ocspd"; wait "$ocspd" 2>/dev/null || true; ocspd=""
  printf '| %s | %s/s | %.0f/s | %.0f/s | %s/s |\n' "$engine" "$rate1" "$wall1" "$rate4" "$ocsp_rate"
done

# db migrate of a home with M revoked certificates (Tools/synth-revoked.py), M more audit entries
# (Tools/synth-audit.py) and a CRL of them; then one row changed in PostgreSQL, caught by audit verify.
m=${3:-100000}
h="$work/migrate"
home "$h"
"$venv/bin/python" Tools/synth-revoked.py "$h" issuing "$m" "$work/index.txt" >/dev/null
"$venv/bin/python" Tools/synth-audit.py "$h" "$m" "$ETRUST_PASSPHRASE" >/dev/null
"$bin/etrust" crl --home "$h" --ca issuing >/dev/null
PGPASSWORD=$ETRUST_DB_PASSWORD psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U etrust -d postgres -c "CREATE DATABASE migrated"
t0=$(now)
proof=$("$bin/etrust" db migrate --home "$h" --to "postgres://etrust@127.0.0.1:$PG_PORT/migrated" --json)
t1=$(now)
echo
echo "db migrate of $m certificates, $(echo "$proof" | python3 -c 'import json,sys; print(json.load(sys.stdin)["auditSize"])') audit entries and a CRL: $(calc "$t1 - $t0") s, proven: $(echo "$proof" | python3 -c 'import json,sys; print(json.load(sys.stdin)["proven"])')"
PGPASSWORD=$ETRUST_DB_PASSWORD psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U etrust -d migrated \
  -c "UPDATE events SET payload = replace(payload, '\"index\":', '\"index\": ') WHERE id = $((m / 2))"
set +e; verdict=$("$bin/etrust" audit verify --home "$h" 2>&1); status=$?; set -e
echo "one event changed in PostgreSQL: audit verify exits $status: $verdict"
