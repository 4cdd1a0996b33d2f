#!/usr/bin/env bash
# CRL generation at national scale, side by side in one run: `etrust crl` (generate, sign and
# publish, reason codes and invalidity dates) against `openssl ca -gencrl` on an index.txt of
# the same revocations, for 100,000 and 1,000,000 revoked certificates. Wall time and peak memory.
# Usage: Tools/bench-crl.sh [N...]   (default: 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sizes=${*:-100000 1000000}
venv=${ETRUST_VENV:-$root/.build/venv}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q cryptography pkilint; }
# ETRUST_BENCH_BIN=DIR measures prebuilt binaries (e.g. an earlier commit's, for a before/after run).
[ -n "${ETRUST_BENCH_BIN:-}" ] || swift build -c release --product etrust >/dev/null
etrust="${ETRUST_BENCH_BIN:-$root/.build/release}/etrust"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ETRUST_PASSPHRASE=bench-passphrase
measure() { # label, command...: prints "seconds peakMiB"
  local out="$work/time.$$"
  /usr/bin/time -f "%e %M" -o "$out" "$@" >/dev/null 2>&1
  awk '{ printf "%.2f %d", $1, $2 / 1024 }' "$out"
}
printf '%-10s %-34s %10s %10s %12s\n' "entries" "tool" "seconds" "peak MiB" "CRL bytes"
for n in $sizes; do
  h="$work/home-$n"
  "$etrust" init --home "$h" --public-url http://pki.bench.tg >/dev/null
  "$etrust" ca create root --home "$h" --subject "CN=Bench Root,O=etrust,C=TG" >/dev/null
  "$etrust" ca create issuing --home "$h" --parent root --subject "CN=Bench Issuing,O=etrust,C=TG" >/dev/null
  ca="$work/ossl-$n"; mkdir -p "$ca"
  "$venv/bin/python" Tools/synth-revoked.py "$h" issuing "$n" "$ca/index.txt" >/dev/null
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$ca/ca.key" -out "$ca/ca.pem" \
    -subj "/CN=OpenSSL Bench CA/O=etrust/C=TG" -days 3650 2>/dev/null
  echo 1000 > "$ca/crlnumber"
  cat > "$ca/ca.cnf" <<CNF
[ ca ]
default_ca = bench
[ bench ]
dir = $ca
database = \$dir/index.txt
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
crlnumber = \$dir/crlnumber
default_md = sha256
default_crl_days = 7
crl_extensions = crlext
[ crlext ]
authorityKeyIdentifier = keyid:always
CNF
  # etrust: unlock, stream the rows, sign, record, publish (fsync, rename).
  r=$(measure "$etrust" crl --home "$h" --ca issuing)
  size=$(stat -c %s "$h/pub/crl/issuing.crl")
  printf '%-10s %-34s %10s %10s %12s\n' "$n" "etrust crl" $r "$size"
  r=$(measure openssl ca -gencrl -config "$ca/ca.cnf" -out "$ca/crl.pem")
  size=$(openssl crl -in "$ca/crl.pem" -outform DER | wc -c)
  printf '%-10s %-34s %10s %10s %12s\n' "$n" "openssl ca -gencrl" $r "$size"
  # Independent checks of the large CRL.
  openssl crl -inform DER -in "$h/pub/crl/issuing.crl" -CAfile "$h/certs/issuing.pem" -noout -verify 2>&1 | grep -q "verify OK" \
    && echo "           openssl crl -verify: OK" || echo "           openssl crl -verify: FAILED"
  "$venv/bin/lint_crl" lint -t CRL -p PKIX -s ERROR "$h/pub/crl/issuing.crl" | grep -Eq '\((ERROR|FATAL)\)' \
    && echo "           pkilint lint_crl: ERROR findings" || echo "           pkilint lint_crl: no ERROR or FATAL"
done
