#!/usr/bin/env bash
# Validation throughput of a 3-certificate EC P-256 chain, in one run, one thread each:
#   etrust's library (one Validator reused: anchors, intermediates and CRLs parsed once),
#   a direct X509_verify_cert loop in C (Tools/verify-loop.c), and one `openssl verify` process
#   per chain; with and without CRL checking. Then a 5-certificate path (root, A, B, C, leaf) that
#   the path builder finds only after backtracking: a decoy B (same name and key, issued by A, but
#   excluding the leaf's domain) is given first, so OpenSSL's own chain fails its name constraints
#   and the builder tries the other B.
# Usage: Tools/bench-verify.sh [N]   (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n=${1:-20000}
# ETRUST_BENCH_BIN=DIR measures prebuilt binaries (e.g. an earlier commit's, for a before/after run).
[ -n "${ETRUST_BENCH_BIN:-}" ] || swift build -c release --product etrust >/dev/null
etrust="${ETRUST_BENCH_BIN:-$root/.build/release}/etrust"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ETRUST_PASSPHRASE=bench-passphrase
cc -O2 -o "$work/verify-loop" Tools/verify-loop.c -lcrypto
h="$work/home"
"$etrust" init --home "$h" --public-url http://pki.bench.tg >/dev/null
"$etrust" ca create root --home "$h" --subject "CN=Bench Root,O=etrust,C=TG" >/dev/null
"$etrust" ca create issuing --home "$h" --parent root --subject "CN=Bench Issuing,O=etrust,C=TG" >/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=Ama Mensah/C=TG" -keyout "$work/k" -out "$work/r" 2>/dev/null
"$etrust" issue --home "$h" --ca issuing --profile citizen-authentication --csr "$work/r" --out "$work/leaf.pem" >/dev/null
"$etrust" crl --home "$h" --ca issuing >/dev/null
"$etrust" crl --home "$h" --ca root >/dev/null
cat "$h/certs/root.pem" > "$work/root.pem"; cat "$h/certs/issuing.pem" > "$work/issuing.pem"
for c in issuing root; do openssl crl -inform DER -in "$h/pub/crl/$c.crl" >> "$work/crls.pem"; done
rate() { sed -n 's/.*: \([0-9]*\)\/s$/\1/p'; }
lib=$("$etrust" verify "$work/leaf.pem" --anchor "$work/root.pem" --intermediate "$work/issuing.pem" --benchmark-repeat "$n" | rate)
direct=$("$work/verify-loop" "$work/root.pem" "$work/issuing.pem" "$work/leaf.pem" "$n" | rate)
libcrl=$("$etrust" verify "$work/leaf.pem" --anchor "$work/root.pem" --intermediate "$work/issuing.pem" --crl "$work/crls.pem" --revocation crl --benchmark-repeat "$n" | rate)
directcrl=$("$work/verify-loop" "$work/root.pem" "$work/issuing.pem" "$work/leaf.pem" "$n" "$work/crls.pem" | rate)
# The 5-certificate path found only after backtracking (built with the openssl CLI).
b="$work/five"; mkdir -p "$b"
cat > "$b/ext.cnf" <<'CNF'
[ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[decoy]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = critical,excluded;DNS:example.com
[leaf]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:www.example.com
CNF
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$b/$1.key" 2>/dev/null; }
sign() { # name subject issuer section [keyname]
  openssl req -new -key "$b/${5:-$1}.key" -subj "$2" -out "$b/$1.csr" 2>/dev/null
  openssl x509 -req -in "$b/$1.csr" -CA "$b/$3.pem" -CAkey "$b/$3.key" -CAcreateserial -days 30 \
    -extfile "$b/ext.cnf" -extensions "$4" -out "$b/$1.pem" 2>/dev/null
}
for k in root a b c leaf; do key "$k"; done
openssl req -x509 -new -key "$b/root.key" -subj "/CN=Five Root" -days 30 -addext "basicConstraints=critical,CA:true" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$b/root.pem" 2>/dev/null
sign a "/CN=Five A" root ca
sign decoy "/CN=Five B" a decoy b
sign b "/CN=Five B" a ca
sign c "/CN=Five C" b ca
sign leaf "/CN=www.example.com" c leaf
cat "$b/c.pem" "$b/decoy.pem" "$b/b.pem" "$b/a.pem" > "$b/intermediates.pem"
backtrack=$("$etrust" verify "$b/leaf.pem" --anchor "$b/root.pem" --intermediate "$b/intermediates.pem" --benchmark-repeat "$n" | rate)
"$etrust" verify "$b/leaf.pem" --anchor "$b/root.pem" --intermediate "$b/intermediates.pem" --benchmark-repeat 1 | grep -q '^1/1 valid' \
  || { echo "the 5-certificate path did not validate" >&2; exit 1; }
m=200
start=$(date +%s.%N)
for i in $(seq $m); do openssl verify -CAfile "$work/root.pem" -untrusted "$work/issuing.pem" "$work/leaf.pem" >/dev/null; done
end=$(date +%s.%N)
proc=$(awk "BEGIN { printf \"%d\", $m / ($end - $start) }")
printf '\n%-52s %12s\n' "3-certificate EC P-256 chain, one thread" "verifications/s"
printf '%-52s %12s\n' "etrust library (Validator reused), no CRL" "$lib"
printf '%-52s %12s\n' "direct X509_verify_cert loop, no CRL" "$direct"
printf '%-52s %12s\n' "etrust library, CRL checking (both levels)" "$libcrl"
printf '%-52s %12s\n' "direct X509_verify_cert loop, CRL_CHECK_ALL" "$directcrl"
printf '%-52s %12s\n' "one openssl verify process per chain" "$proc"
printf '%-52s %12s\n' "etrust library, 5-cert path after backtracking" "$backtrack"
printf '\nratios: library/direct = %.0f%% without CRLs, %.0f%% with CRLs; library/openssl-verify-process = %.0fx\n' \
  "$(awk "BEGIN { print 100 * $lib / $direct }")" "$(awk "BEGIN { print 100 * $libcrl / $directcrl }")" "$(awk "BEGIN { print $lib / $proc }")"
