#!/usr/bin/env bash
# Several machines on one: a private PostgreSQL (Tools/postgres.sh), two issuing homes sharing its
# database and the CA keys (host-a, and host-b copied from it, as a second issuing host would get
# the same key store), and an etrust-ocspd for each home on its own port.
#
#   Tools/multinode.sh            demo: issue on both hosts, revoke through one, time how long each
#                                 responder takes to answer "revoked" (must be under 5 s)
#   Tools/multinode.sh load [N]   four issuers (two per host) of N certificates each (default
#                                 1000) while a fifth process revokes 100 of them and publishes
#                                 CRLs; then checks serials, events, CRL numbers and the audit log
#   Tools/multinode.sh fault [N]  PostgreSQL stopped (pg_ctl stop -m immediate) in the middle of a
#                                 batch of N: the batch fails with exit 3 and one line, nothing is
#                                 half-written, the audit log verifies, and rerunning the batch
#                                 with --resume issues the rest (nothing twice)
# Everything runs on 127.0.0.1 and is removed at the end (KEEP=1 keeps the work folder). Needs a
# built tree (swift build). Exit status 1 when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mode=${1:-demo}
count=${2:-1000}
bin=${ETRUST_BIN_DIR:-$(swift build --show-bin-path)}   # ETRUST_BIN_DIR: the tests name their build
for b in etrust etrust-ocspd; do [ -x "$bin/$b" ] || { echo "$bin/$b missing: run swift build"; exit 2; }; done
. "$root/Tools/postgres.sh"

work=$(mktemp -d /tmp/etrust-multinode.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pg_stop
  [ -n "${KEEP:-}" ] && echo "work folder kept: $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # the EXIT trap then cleans up
failures=0
check() {   # check DESCRIPTION COMMAND...: prints PASS/FAIL
  if "${@:2}"; then echo "PASS $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}

pg_start
export ETRUST_PASSPHRASE=multinode-demo ETRUST_SIGNER_PASSPHRASE=multinode-responder
sql() { PGPASSWORD=$ETRUST_DB_PASSWORD "$(command -v psql || echo "$PG_BIN/psql")" -X -q -tA -h 127.0.0.1 -p "$PG_PORT" -U etrust -d "${DB:-etrust}" -c "$1"; }
DB=postgres sql "CREATE DATABASE etrust"
url="postgres://etrust@127.0.0.1:$PG_PORT/etrust"
et() { "$bin/etrust" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port_a=$(free_port); port_b=$(free_port)

echo "== host-a: a new home on $url"
et init --home "$work/host-a" --database "$url" --public-url "http://127.0.0.1:$port_a" >/dev/null
sed -i 's/pbkdf2Iterations: 600000/pbkdf2Iterations: 10000/' "$work/host-a/etrust.yaml"
et ca create root --home "$work/host-a" --subject "CN=Multinode Root,O=etrust,C=TG" --key ec-p384 >/dev/null
et ca create issuing --home "$work/host-a" --parent root --subject "CN=Multinode Issuing,O=etrust,C=TG" >/dev/null
for ca in root issuing; do et ocsp provision --home "$work/host-a" --ca "$ca" >/dev/null; done
echo "== host-b: the same key store and configuration, the same database"
cp -a "$work/host-a" "$work/host-b"

start_responder() {   # start_responder HOME PORT
  "$bin/etrust-ocspd" --home "$1" --listen "127.0.0.1:$2" --log-level warning >"$1.ocspd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "etrust-ocspd on port $2 did not become ready:"; cat "$1.ocspd.log"; return 1
}
start_responder "$work/host-a" "$port_a"
start_responder "$work/host-b" "$port_b"
echo "== responders: host-a on 127.0.0.1:$port_a, host-b on 127.0.0.1:$port_b"

certs="$work/host-a/certs"
ocsp() {   # ocsp PORT CERT -> good|revoked|unknown|error
  openssl ocsp -issuer "$certs/issuing.pem" -cert "$2" -url "http://127.0.0.1:$1/ocsp" -CAfile "$certs/root.pem" -no_nonce 2>/dev/null \
    | awk -v c="$2" '$1 == c":" { print $2 }' | head -1
}
csr() {   # csr NAME SUBJECT
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$1.key" -subj "$2" -out "$work/$1.csr" 2>/dev/null
}
batch() {   # batch NAME ROWS [CSR-FILE]: a CSV of ROWS requests
  { echo csr; for _ in $(seq "$2"); do echo "${3:-citizen.csr}"; done; } >"$work/$1.csv"
}
issue_batch() {   # issue_batch HOME CSV OUT
  et issue --home "$1" --ca issuing --profile citizen-authentication --batch "$2" --out "$3"
}
csr citizen "/CN=Citizen/C=TG"

wait_revoked() {   # wait_revoked PORT CERT: seconds until the responder says revoked (or 99)
  local start=$(date +%s.%N)
  while true; do
    [ "$(ocsp "$1" "$2")" = revoked ] && { python3 -c "print(round($(date +%s.%N) - $start, 2))"; return; }
    python3 -c "import sys; sys.exit(0 if $(date +%s.%N) - $start < 10 else 1)" || { echo 99; return; }
    sleep 0.1
  done
}

demo() {
  batch one 1
  issue_batch "$work/host-a" "$work/one.csv" "$work/from-a" >/dev/null
  issue_batch "$work/host-b" "$work/one.csv" "$work/from-b" >/dev/null
  a=$(ls "$work/from-a"/*.pem); b=$(ls "$work/from-b"/*.pem)
  sleep 2   # the responders pick up new certificates by polling
  check "host-a's certificate is good on both responders" test "$(ocsp "$port_a" "$a") $(ocsp "$port_b" "$a")" = "good good"
  check "host-b's certificate is good on both responders" test "$(ocsp "$port_a" "$b") $(ocsp "$port_b" "$b")" = "good good"
  serial=$(basename "$a" .pem)
  et revoke --home "$work/host-b" --ca issuing --serial "$serial" --reason keyCompromise >/dev/null
  ta=$(wait_revoked "$port_a" "$a"); tb=$(wait_revoked "$port_b" "$a")
  echo "   revoked through host-b: responder a answered revoked after ${ta}s, responder b after ${tb}s"
  check "both responders answer revoked within 5 s" python3 -c "import sys; sys.exit(0 if max($ta, $tb) <= 5 else 1)"
}

load() {
  batch early 100
  issue_batch "$work/host-a" "$work/early.csv" "$work/early" >/dev/null
  local revoke_list=("$work"/early/*.pem)
  local t0=$(date +%s.%N) issuer_pids=()
  for w in 0 1 2 3; do
    batch "w$w" "$count"
    host=$([ $((w % 2)) -eq 0 ] && echo host-a || echo host-b)
    (issue_batch "$work/$host" "$work/w$w.csv" "$work/out$w" >"$work/w$w.log" 2>&1; echo $? >"$work/w$w.status") &
    issuer_pids+=($!)
  done
  (
    i=0
    for pem in "${revoke_list[@]}"; do
      host=$([ $((i % 2)) -eq 0 ] && echo host-b || echo host-a)
      et revoke --home "$work/$host" --ca issuing --serial "$(basename "$pem" .pem)" >/dev/null || echo "revoke failed: $pem"
      [ $((i % 20)) -eq 19 ] && { et crl --home "$work/$host" --ca issuing >/dev/null || echo "crl failed"; }
      i=$((i + 1))
    done
  ) >"$work/revoker.log" 2>&1 &
  local revoker=$!
  for p in "${issuer_pids[@]}"; do wait "$p"; done
  wait "$revoker"
  local seconds=$(python3 -c "print(round($(date +%s.%N) - $t0, 1))")
  echo "   4 x $count certificates and 100 revocations in ${seconds}s"
  for w in 0 1 2 3; do check "issuer $w exited 0" test "$(cat "$work/w$w.status")" = 0; done
  check "the revoker saw no failure" test ! -s "$work/revoker.log"
  local expected=$((4 * count + 100))
  check "$expected distinct serials" test "$(sql "SELECT count(DISTINCT serial) FROM certificates WHERE profile = 'citizen-authentication'")" = "$expected"
  check "every certificate has its issue event" test "$(sql "SELECT count(*) FROM certificates c WHERE c.ca_id = (SELECT id FROM cas WHERE name = 'issuing') AND NOT EXISTS (SELECT 1 FROM events e WHERE e.type = 'issue' AND e.serial = c.serial)")" = 0
  check "every issue event has its certificate" test "$(sql "SELECT count(*) FROM events e WHERE e.type = 'issue' AND e.ca = 'issuing' AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.serial = e.serial)")" = 0
  check "100 revoked" test "$(sql "SELECT count(*) FROM certificates WHERE status = 'revoked'")" = 100
  check "CRL numbers strictly increase in the order they were recorded" test "$(sql "SELECT bool_and(number > prev) FROM (SELECT number, lag(number, 1, 0) OVER (ORDER BY id) AS prev FROM crls) x")" = t
  check "audit verify on host-a" et audit verify --home "$work/host-a"
  check "audit verify on host-b" et audit verify --home "$work/host-b"
  local sample=$(ls "$work"/early/*.pem | head -1)
  et revoke --home "$work/host-a" --ca issuing --serial "$(basename "$(ls "$work"/out0/*.pem | head -1)" .pem)" >/dev/null
  local late=$(ls "$work"/out0/*.pem | head -1)
  ta=$(wait_revoked "$port_a" "$late"); tb=$(wait_revoked "$port_b" "$late")
  echo "   a revocation through host-a: responder a after ${ta}s, responder b after ${tb}s"
  check "both responders answer revoked within 5 s" python3 -c "import sys; sys.exit(0 if max($ta, $tb) <= 5 else 1)"
  check "an early revocation is revoked on responder b" test "$(ocsp "$port_b" "$sample")" = revoked
}

fault() {
  batch warm 1
  issue_batch "$work/host-a" "$work/warm.csv" "$work/warm" >/dev/null
  local warm=$(ls "$work"/warm/*.pem)
  sleep 2
  check "before the fault, responder b answers good" test "$(ocsp "$port_b" "$warm")" = good
  sed -i 's/batchCommitSize: 500/batchCommitSize: 50/' "$work/host-a/etrust.yaml"
  batch big "$count"
  issue_batch "$work/host-a" "$work/big.csv" "$work/big" >"$work/big.out" 2>"$work/big.err" &
  local batch_pid=$!
  for _ in $(seq 600); do
    [ "$(sql "SELECT count(*) FROM certificates WHERE profile = 'citizen-authentication'" 2>/dev/null || echo 0)" -gt 60 ] && break
    sleep 0.05
  done
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null
  local status=0
  wait "$batch_pid" || status=$?
  echo "   the batch: exit $status: $(cat "$work/big.err")"
  check "the batch exits 3" test "$status" = 3
  check "with one line on stderr" test "$(wc -l <"$work/big.err")" = 1
  check "responder b still answers its pre-signed response from memory" test "$(ocsp "$port_b" "$warm")" = good
  for _ in $(seq 50); do curl -s "http://127.0.0.1:$port_b/readyz" | grep -q '"check":"store"' && break; sleep 0.1; done
  echo "   /readyz with the database down: $(curl -s "http://127.0.0.1:$port_b/readyz")"
  check "/readyz is 503 and names the store" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port_b/readyz")" = 503
  check "responder b still answers from memory while /readyz says not ready" test "$(ocsp "$port_b" "$warm")" = good
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR" start >/dev/null
  for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port_b/readyz")" = 200 ] && break; sleep 0.1; done
  check "/readyz is 200 again once the database is back" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port_b/readyz")" = 200
  local issued=$(sql "SELECT count(*) FROM certificates WHERE profile = 'citizen-authentication'")
  echo "   after restart: $issued certificates of the issuing CA in the database"
  check "no certificate without its event" test "$(sql "SELECT count(*) FROM certificates c WHERE c.ca_id = (SELECT id FROM cas WHERE name = 'issuing') AND NOT EXISTS (SELECT 1 FROM events e WHERE e.type = 'issue' AND e.serial = c.serial)")" = 0
  check "no event without its certificate" test "$(sql "SELECT count(*) FROM events e WHERE e.type = 'issue' AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.serial = e.serial)")" = 0
  # What the failed batch committed after its last checkpoint is an unsigned tail (a warning),
  # not a tamper alarm; rerunning the same batch with --resume covers it with a checkpoint.
  check "audit verify right after the restart" et audit verify --home "$work/host-a"
  check "rerunning the batch with --resume issues the rest" et issue --home "$work/host-a" --ca issuing --profile citizen-authentication \
    --batch "$work/big.csv" --out "$work/big" --resume
  check "$((count + 1)) certificates in all: nothing issued twice" \
    test "$(sql "SELECT count(*) FROM certificates WHERE profile = 'citizen-authentication'")" = $((count + 1))
  check "a file for every row of the batch" test "$(ls "$work/big" | grep -c '\.pem$')" = "$count"
  check "audit verify --strict after the rerun" et audit verify --home "$work/host-a" --strict
}

case "$mode" in
  demo) demo ;;
  load) load ;;
  fault) fault ;;
  *) echo "usage: $0 [demo | load [N] | fault [N]]"; exit 2 ;;
esac
[ "$failures" -eq 0 ] && echo "== all checks passed" || { echo "== $failures check(s) failed"; exit 1; }
