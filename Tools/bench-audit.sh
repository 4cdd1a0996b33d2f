#!/usr/bin/env bash
# Audit log cost, in one run:
#   1. issuance throughput of a 2,000-CSR batch with the Merkle audit log on and off
#      (etrust.yaml `audit.enabled: false`), five alternating runs each, medians;
#   2. `etrust audit verify` of a home with 1,000,000 entries (synthetic issue events appended
#      with Tools/synth-audit.py, which hashes and signs exactly as etrust does), and of its
#      exported bundle.
# Usage: Tools/bench-audit.sh [ENTRIES]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
entries=${1:-1000000}
venv=${ETRUST_VENV:-$root/.build/venv}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q cryptography pkilint; }
# ETRUST_BENCH_BIN=DIR measures prebuilt binaries (e.g. an earlier commit's, for a before/after run).
[ -n "${ETRUST_BENCH_BIN:-}" ] || swift build -c release --product etrust >/dev/null
etrust="${ETRUST_BENCH_BIN:-$root/.build/release}/etrust"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ETRUST_PASSPHRASE=bench-passphrase
"$venv/bin/python" Tools/gen-csrs.py 2000 "$work/csrs"

for mode in on off; do
  h="$work/home-$mode"
  "$etrust" init --home "$h" --public-url http://pki.bench.tg >/dev/null
  if [ "$mode" = off ]; then printf '  enabled: false\n' >> "$h/etrust.yaml"; fi
  "$etrust" ca create root --home "$h" --subject "CN=Bench Root,O=etrust,C=TG" >/dev/null
  "$etrust" ca create issuing --home "$h" --parent root --subject "CN=Bench Issuing,O=etrust,C=TG" >/dev/null
done
declare -A rates
for run in 1 2 3 4 5; do
  for mode in on off; do
    r=$("$etrust" issue --home "$work/home-$mode" --ca issuing --profile citizen-authentication --batch "$work/csrs/batch.csv" \
        | sed -n 's/.*(\([0-9]*\)\/s).*/\1/p')
    rates[$mode]="${rates[$mode]:-} $r"
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
on=$(echo "${rates[on]}" | median); off=$(echo "${rates[off]}" | median)
printf '\nissuance, 2,000 EC P-256 CSRs (5 runs each, median):\n'
printf '  audit log on:  %6d certs/s   (runs:%s)\n' "$on" "${rates[on]}"
printf '  audit log off: %6d certs/s   (runs:%s)\n' "$off" "${rates[off]}"
printf '  cost of the log: %.1f%%\n' "$(awk "BEGIN { print 100 * (1 - $on / $off) }")"

h="$work/home-on"
"$etrust" audit verify --home "$h" >/dev/null
"$venv/bin/python" Tools/synth-audit.py "$h" "$entries" "$ETRUST_PASSPHRASE" >/dev/null
size=$("$etrust" audit verify --home "$h" --json | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["entries"])')
t0=$(date +%s.%N); /usr/bin/time -f "%M" -o "$work/mem" "$etrust" audit verify --home "$h" >/dev/null; t1=$(date +%s.%N)
"$etrust" audit export --home "$h" --out "$work/bundle" >/dev/null
t2=$(date +%s.%N); "$etrust" audit verify --bundle "$work/bundle" >/dev/null; t3=$(date +%s.%N)
printf '\naudit verify of %s entries:\n' "$size"
printf '  from the home (SQLite): %.2f s, peak %d MiB\n' "$(awk "BEGIN { print $t1 - $t0 }")" "$(( $(cat "$work/mem") / 1024 ))"
printf '  from the exported bundle (%d MiB): %.2f s\n' "$(( $(stat -c %s "$work/bundle") / 1048576 ))" "$(awk "BEGIN { print $t3 - $t2 }")"
