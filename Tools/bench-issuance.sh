#!/usr/bin/env bash
# Issuance throughput, side by side with OpenSSL in one run:
#   etrust:      `etrust issue --batch` of N EC P-256 CSRs (parse, proof of possession, policy,
#                lint, sign, durable commit), rate as printed by etrust and wall time of the command;
#   openssl ca:  one `openssl ca -batch` process per CSR (the usual scripted CA), same CSRs;
#   limit:       one ECDSA P-256 verify + one sign per certificate on one core, from `openssl speed`.
# Usage: Tools/bench-issuance.sh [N]   (default 2000). Needs a release build and the test venv.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n=${1:-2000}
venv=${ETRUST_VENV:-$root/.build/venv}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q cryptography pkilint; }
# ETRUST_BENCH_BIN=DIR measures prebuilt binaries (e.g. an earlier commit's, for a before/after run).
[ -n "${ETRUST_BENCH_BIN:-}" ] || swift build -c release --product etrust >/dev/null
etrust="${ETRUST_BENCH_BIN:-$root/.build/release}/etrust"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ETRUST_PASSPHRASE=bench-passphrase
calc() { awk "BEGIN { print $1 }"; }

"$venv/bin/python" Tools/gen-csrs.py "$n" "$work/csrs"

# etrust
"$etrust" init --home "$work/home" --public-url http://pki.bench.tg >/dev/null
"$etrust" ca create root --home "$work/home" --subject "CN=Bench Root,O=etrust,C=TG" >/dev/null
"$etrust" ca create issuing --home "$work/home" --parent root --subject "CN=Bench Issuing,O=etrust,C=TG" >/dev/null
start=$(date +%s.%N)
summary=$("$etrust" issue --home "$work/home" --ca issuing --profile citizen-authentication --batch "$work/csrs/batch.csv")
end=$(date +%s.%N)
etrust_rate=$(echo "$summary" | sed -n 's/.*(\([0-9]*\)\/s).*/\1/p')
etrust_wall=$(calc "$end - $start")
etrust_wall_rate=$(calc "$n / $etrust_wall")

# openssl ca, one process per CSR
ca="$work/openssl-ca"; mkdir -p "$ca/new"; touch "$ca/index.txt"; echo 1000 > "$ca/serial"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$ca/ca.key" -out "$ca/ca.pem" \
  -subj "/CN=OpenSSL Bench CA/O=etrust/C=TG" -days 3650 2>/dev/null
cat > "$ca/ca.cnf" <<CNF
[ ca ]
default_ca = bench
[ bench ]
dir = $ca
database = \$dir/index.txt
new_certs_dir = \$dir/new
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
serial = \$dir/serial
default_md = sha256
default_days = 730
policy = anything
x509_extensions = leaf
unique_subject = no
copy_extensions = copy
[ anything ]
commonName = supplied
countryName = optional
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth,emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
start=$(date +%s.%N)
for i in $(seq 0 $((n - 1))); do
  openssl ca -batch -config "$ca/ca.cnf" -in "$work/csrs/csr-$i.pem" -out /dev/null 2>/dev/null
done
end=$(date +%s.%N)
openssl_wall=$(calc "$end - $start")
openssl_rate=$(calc "$n / $openssl_wall")

# physical limit from openssl speed
speed=$(openssl speed -seconds 3 ecdsap256 2>/dev/null | awk '/nistp256/ {print $(NF-1), $NF}')
sign=$(echo "$speed" | cut -d' ' -f1); verify=$(echo "$speed" | cut -d' ' -f2)
limit=$(calc "1 / (1 / $sign + 1 / $verify)")

printf '\n%-44s %10s\n' "measure ($n EC P-256 CSRs)" "certs/s"
printf '%-44s %10.0f\n' "etrust issue --batch (issuance, as printed)" "$etrust_rate"
printf '%-44s %10.0f\n' "etrust issue --batch (whole command, wall)" "$etrust_wall_rate"
printf '%-44s %10.0f\n' "openssl ca -batch, one process per CSR" "$openssl_rate"
printf '%-44s %10.0f   (sign %.0f/s, verify %.0f/s)\n' "limit: 1 verify + 1 sign, one core" "$limit" "$sign" "$verify"
printf '\nratios: etrust/openssl-ca = %.1fx (whole command %.1fx); etrust/limit = %.0f%% (whole command %.0f%%)\n' \
  "$(calc "$etrust_rate / $openssl_rate")" "$(calc "$etrust_wall_rate / $openssl_rate")" \
  "$(calc "100 * $etrust_rate / $limit")" "$(calc "100 * $etrust_wall_rate / $limit")"
