#!/usr/bin/env bash
# The cost of the PKCS#11 path, in one run: the same root + issuing CA (EC P-256) with the keys in
# encrypted files and in a SoftHSM2 token, then
#   signatures/s:    `etrust hsm check --ca issuing --repeat S` (EVP_DigestSign with the CA key);
#   certificates/s:  `etrust issue --batch` of N EC P-256 CSRs (rate as printed, and wall time).
# SoftHSM2 is software: the figures show what the libp11/PKCS#11 route costs, not an HSM's speed.
# Usage: Tools/bench-hsm.sh [N] [S]   (defaults 2000 and 5000). Needs softhsm2, libp11, the test venv.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n=${1:-2000}
s=${2:-5000}
venv=${ETRUST_VENV:-$root/.build/venv}
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q cryptography pkilint; }
command -v softhsm2-util >/dev/null || { echo "missing softhsm2-util: apt-get install softhsm2"; exit 2; }
[ -n "${ETRUST_BENCH_BIN:-}" ] || swift build -c release --product etrust >/dev/null
etrust="${ETRUST_BENCH_BIN:-$root/.build/release}/etrust"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ETRUST_PASSPHRASE=bench-passphrase ETRUST_PKCS11_PIN=1234
export SOFTHSM2_CONF="$work/softhsm2.conf"
mkdir -p "$work/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" > "$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 >/dev/null
calc() { awk "BEGIN { print $1 }"; }

"$venv/bin/python" Tools/gen-csrs.py "$n" "$work/csrs"

declare -A sig rate wall
for kind in file pkcs11; do
  home="$work/home-$kind"
  store=file; [ "$kind" = pkcs11 ] && store="pkcs11:token=bench"
  "$etrust" init --home "$home" --public-url http://pki.bench.tg >/dev/null
  "$etrust" ca create root --home "$home" --subject "CN=Bench Root $kind,O=etrust,C=TG" --key-store "$store" >/dev/null
  "$etrust" ca create issuing --home "$home" --parent root --subject "CN=Bench Issuing $kind,O=etrust,C=TG" --key-store "$store" >/dev/null
  sig[$kind]=$("$etrust" hsm check --home "$home" --ca issuing --repeat "$s" --json | sed -n 's/.*"signaturesPerSecond":\([0-9.]*\).*/\1/p')
  start=$(date +%s.%N)
  summary=$("$etrust" issue --home "$home" --ca issuing --profile citizen-authentication --batch "$work/csrs/batch.csv")
  end=$(date +%s.%N)
  rate[$kind]=$(echo "$summary" | sed -n 's/.*(\([0-9]*\)\/s).*/\1/p')
  wall[$kind]=$(calc "$n / ($end - $start)")
done

printf '\n%-40s %12s %12s %10s\n' "EC P-256, $n certificates, $s signatures" "key file" "SoftHSM2" "token/file"
printf '%-40s %12.0f %12.0f %9.0f%%\n' "signatures/s (hsm check --repeat)" "${sig[file]}" "${sig[pkcs11]}" "$(calc "100 * ${sig[pkcs11]} / ${sig[file]}")"
printf '%-40s %12.0f %12.0f %9.0f%%\n' "certificates/s (issue --batch, printed)" "${rate[file]}" "${rate[pkcs11]}" "$(calc "100 * ${rate[pkcs11]} / ${rate[file]}")"
printf '%-40s %12.0f %12.0f %9.0f%%\n' "certificates/s (whole command, wall)" "${wall[file]}" "${wall[pkcs11]}" "$(calc "100 * ${wall[pkcs11]} / ${wall[file]}")"
