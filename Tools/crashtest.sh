#!/usr/bin/env bash
# Crash storm: SIGKILL at random points of issuance (a batch), revocation, CRL publication and the
# responder, N times each (default 50) on one SQLite home. After every kill:
#   - every certificate file on disk is in the database (nothing left the process uncommitted),
#   - serials are unique and every CA's CRL numbers strictly increase in the order they were made,
#   - every published CRL is whole (openssl crl reads it) and the published checkpoint parses,
#   - the database passes PRAGMA integrity_check,
#   - `etrust audit verify` exits 0 (an unsigned-tail warning is allowed until the next command
#     recovers it), and after the storm `audit verify --strict` passes once a command has run.
#   Tools/crashtest.sh [N]      (ETRUST_BIN_DIR: the binaries to use; default: swift build's)
# Bounded: loopback only, random delays under 0.6 s. Exit 1 when any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}
bin=${ETRUST_BIN_DIR:-$(swift build --show-bin-path)}
for b in etrust etrust-ocspd; do [ -x "$bin/$b" ] || { echo "$bin/$b missing: run swift build"; exit 2; }; done
work=$(mktemp -d /tmp/etrust-crashtest.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "work folder kept: $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export ETRUST_PASSPHRASE=crashtest ETRUST_SIGNER_PASSPHRASE=crashtest-responder
h="$work/home"
et() { "$bin/etrust" "$@" --home "$h"; }
sql() { sqlite3 -bail "$h/etrust.db" "$1"; }
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
# A random delay in seconds, 0.00 to 0.59.
delay() { printf '0.%02d' $((RANDOM % 60)); }

"$bin/etrust" init --home "$h" --public-url http://pki.crashtest.tg >/dev/null
sed -i 's/pbkdf2Iterations: 600000/pbkdf2Iterations: 1000/; s/batchCommitSize: 500/batchCommitSize: 5/' "$h/etrust.yaml"
et ca create root --subject "CN=Crash Root,O=etrust,C=TG" >/dev/null
et ca create issuing --parent root --subject "CN=Crash Issuing,O=etrust,C=TG" >/dev/null
et ocsp provision --ca issuing >/dev/null
et ocsp provision --ca root >/dev/null
et crl --ca root >/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=Citizen/C=TG" -keyout "$work/k" -out "$work/citizen.csr" 2>/dev/null
{ echo csr; for _ in $(seq 20); do echo citizen.csr; done; } >"$work/batch.csv"
mkdir -p "$work/out"

# Runs "$@" in the background and kills it with SIGKILL after a random delay (it may finish first).
kill_randomly() {
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$(delay)"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

checks() {   # checks LABEL
  local label=$1 f serial
  for f in "$work"/out/*/*.pem; do
    [ -e "$f" ] || continue
    serial=$(basename "$f" .pem)
    [ "$(sql "SELECT count(*) FROM certificates WHERE serial = '$serial'")" = 1 ] || fail "$label: $f is not in the database"
  done
  [ "$(sql "SELECT count(*) - count(DISTINCT ca_id || '/' || serial) FROM certificates")" = 0 ] || fail "$label: duplicate serials"
  [ "$(sql "SELECT count(*) FROM crls a JOIN crls b ON a.ca_id = b.ca_id AND a.id < b.id AND a.number >= b.number")" = 0 ] \
    || fail "$label: CRL numbers do not strictly increase"
  for f in "$h"/pub/crl/*.crl; do
    [ -e "$f" ] || continue
    openssl crl -inform DER -in "$f" -noout 2>/dev/null || fail "$label: $f is not a whole CRL"
  done
  [ ! -e "$h/pub/audit/checkpoint" ] || grep -q '^— ' "$h/pub/audit/checkpoint" || fail "$label: the published checkpoint is not a signed note"
  [ "$(sql "PRAGMA integrity_check")" = ok ] || fail "$label: integrity_check"
  "$bin/etrust" audit verify --home "$h" >/dev/null 2>"$work/verify.err" || fail "$label: audit verify: $(cat "$work/verify.err")"
}

echo "== $n kills each: issuance, revocation, CRL publication, responder"
for i in $(seq "$n"); do
  kill_randomly "$bin/etrust" issue --home "$h" --ca issuing --profile citizen-authentication --batch "$work/batch.csv" --out "$work/out/$i"
  checks "issue #$i"
done
et issue --ca issuing --profile citizen-authentication --batch "$work/batch.csv" --out "$work/out/valid" >/dev/null
for i in $(seq "$n"); do
  serial=$(sql "SELECT serial FROM certificates WHERE status = 'valid' AND profile = 'citizen-authentication' LIMIT 1")
  [ -n "$serial" ] || { et issue --ca issuing --profile citizen-authentication --batch "$work/batch.csv" --out "$work/out/more$i" >/dev/null; continue; }
  kill_randomly "$bin/etrust" revoke --home "$h" --ca issuing --serial "$serial" --reason keyCompromise
  checks "revoke #$i"
done
for i in $(seq "$n"); do
  kill_randomly "$bin/etrust" crl --home "$h" --ca issuing
  checks "crl #$i"
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for i in $(seq "$n"); do
  kill_randomly "$bin/etrust-ocspd" --home "$h" --listen "127.0.0.1:$port"
  checks "responder #$i"
done
# The responder still starts and answers after the storm.
"$bin/etrust-ocspd" --home "$h" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pids+=($!)
ready=0
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && { ready=1; break; }; sleep 0.1; done
[ "$ready" = 1 ] || fail "the responder does not become ready after the storm"
leaf=$(ls "$work"/out/valid/*.pem | head -1)
status=$(openssl ocsp -issuer "$h/certs/issuing.pem" -cert "$leaf" -url "http://127.0.0.1:$port/ocsp" -CAfile "$h/certs/root.pem" -no_nonce 2>/dev/null \
  | awk -v c="$leaf" '$1 == c":" { print $2 }')
[ "$status" = good ] || [ "$status" = revoked ] || fail "the responder answers '$status' for an issued certificate"
# One more changing command recovers any unsigned tail; then the log verifies strictly.
et crl --ca issuing >/dev/null
"$bin/etrust" audit verify --home "$h" --strict >/dev/null || fail "audit verify --strict after recovery"
echo "   $(sql "SELECT count(*) FROM certificates") certificates, $(sql "SELECT count(*) FROM certificates WHERE status = 'revoked'") revoked, $(sql "SELECT count(*) FROM crls") CRLs, $(sql "SELECT count(*) FROM events WHERE type = 'recovered'") recovered tail(s), $(sql "SELECT count(*) FROM issuance_intents WHERE state = 'abandoned'") abandoned intent(s)"
[ "$failures" -eq 0 ] && echo "== all checks passed after $((4 * n)) kills" || { echo "== $failures check(s) failed"; exit 1; }
