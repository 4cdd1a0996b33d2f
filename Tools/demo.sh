#!/usr/bin/env bash
# The main job on a fresh machine: build etrust, create a CA home with embedded SQLite, a national
# root and an issuing CA, issue one certificate of every end-entity profile, check each with the
# openssl CLI, revoke one and publish CRLs, validate as a relying party, answer OCSP from a
# responder that holds no CA key, verify the audit log.
#   Tools/demo.sh [HOME]        (default ./demo-home; an existing demo home is replaced)
#   Tools/demo.sh --update-certs  also copies the CA certificates into Certs/
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
update_certs=no
home="$root/demo-home"
for a in "$@"; do
  case "$a" in
    --update-certs) update_certs=yes ;;
    *) home=$a ;;
  esac
done

need_apt=()
for pkg in libssl-dev libsqlite3-dev openssl libp11-dev libp11-kit-dev; do dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg"); done
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "== building etrust (release)"
swift build -c release --product etrust 2>&1 | grep -E "error|warning: unre|Compiling etrust|Build" || true
swift build -c release --product etrust-ocspd 2>&1 | grep -E "error|Build" || true
etrust="$root/.build/release/etrust"
ocspd="$root/.build/release/etrust-ocspd"
[ -x "$etrust" ] && [ -x "$ocspd" ] || { echo "build failed"; exit 1; }

# The demo's CA keys are encrypted with this passphrase (a real CA uses --passphrase-file or a prompt).
export ETRUST_PASSPHRASE=${ETRUST_PASSPHRASE:-demo-passphrase-change-me}
if [ -e "$home" ]; then
  [ -f "$home/etrust.yaml" ] || { echo "$home exists and is not an etrust home; choose another path"; exit 2; }
  rm -rf "$home"
fi
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "1. A new CA home with embedded SQLite: $home"
"$etrust" init --home "$home" --public-url http://pki.demo.tg --documents-url https://pki.demo.tg

say "2. The national root (EC P-384, profile root-ca) and an issuing CA (EC P-256, profile sub-ca)"
"$etrust" ca create root --home "$home" --key ec-p384 --subject "CN=Demo National Root CA,O=Demo e-Trust Authority,C=TG"
"$etrust" ca create citizens --home "$home" --parent root --subject "CN=Demo Citizen Issuing CA,O=Demo e-Trust Authority,C=TG"
"$etrust" ca list --home "$home"

say "3. One certificate of every end-entity profile (requests made with openssl req)"
work="$home/demo-requests"
mkdir -p "$work"
issue() { # profile subject [extra flags...]
  local profile=$1 subject=$2; shift 2
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$subject" \
    -keyout "$work/$profile.key" -out "$work/$profile.csr" 2>/dev/null
  chmod 600 "$work/$profile.key"
  "$etrust" issue --home "$home" --ca citizens --profile "$profile" --csr "$work/$profile.csr" --out "$work/$profile.pem" "$@"
}
issue citizen-authentication "/CN=Ama Mensah/GN=Ama/SN=Mensah/C=TG" --san email:ama.mensah@example.org
issue citizen-signing "/CN=Ama Mensah/GN=Ama/SN=Mensah/serialNumber=IDCTG-1234567/C=TG"
issue organisation-seal "/CN=Demo Market Seal/O=Demo Market SARL/organizationIdentifier=VATTG-7654321/C=TG"
issue tls-server "/CN=shop.example.org" --san dns:shop.example.org,dns:www.shop.example.org
issue tls-client "/CN=tax-service/O=Demo Revenue Office/C=TG"
issue ocsp-signing "/CN=Demo OCSP Responder/O=Demo e-Trust Authority/C=TG"
issue timestamping "/CN=Demo Time-Stamping Unit/O=Demo e-Trust Authority/C=TG"

say "4. A refusal: a TLS server certificate asked for 1000 days (the CA/B Forum allows 200 since 2026-03-15)"
"$etrust" issue --home "$home" --ca citizens --profile tls-server --csr "$work/tls-server.csr" \
  --san dns:shop.example.org --validity 1000d || echo "(exit $? as expected: refused by the profile)"

say "5. Independent check: openssl verify of every certificate against the root"
for f in "$work"/*.pem; do
  openssl verify -CAfile "$home/certs/root.pem" -untrusted "$home/certs/citizens.pem" "$f"
done

say "6. The certificate database"
"$etrust" list --home "$home"

say "7. Revocation: the tls-client certificate is revoked, CRLs are published, and a relying party checks"
serial=$(openssl x509 -in "$work/tls-client.pem" -noout -serial | cut -d= -f2)
"$etrust" revoke --home "$home" --ca citizens --serial "$serial" --reason keyCompromise
"$etrust" crl --home "$home" --ca citizens
"$etrust" crl --home "$home" --ca root
"$etrust" verify "$work/tls-client.pem" --home "$home" --intermediate "$home/certs/citizens.pem" \
  --crl "$home/pub/crl/citizens.crl" --crl "$home/pub/crl/root.crl" --revocation crl || echo "(exit $? as expected: revoked)"
"$etrust" verify "$work/citizen-signing.pem" --home "$home" --intermediate "$home/certs/citizens.pem" \
  --crl "$home/pub/crl/citizens.crl" --crl "$home/pub/crl/root.crl" --revocation crl --purpose document-signing --min-assurance high

say "8. The OCSP responder and time-stamping authority, holding no CA key: provisioned on the CA host, then started with the signers' passphrase only"
export ETRUST_SIGNER_PASSPHRASE=${ETRUST_SIGNER_PASSPHRASE:-demo-responder-passphrase}
for ca in root citizens; do "$etrust" ocsp provision --home "$home" --ca "$ca"; done
"$etrust" tsa provision --home "$home" --ca citizens
port=$(( 20000 + RANDOM % 20000 ))
env -u ETRUST_PASSPHRASE "$ocspd" --home "$home" --listen "127.0.0.1:$port" --log-level warning --tsa --verify-api &
ocspd_pid=$!
trap 'kill $ocspd_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  openssl ocsp -issuer "$home/certs/citizens.pem" -cert "$work/citizen-signing.pem" -url "http://127.0.0.1:$port/ocsp" \
    -CAfile "$home/certs/root.pem" -timeout 2 >/dev/null 2>&1 && break
  sleep 0.2
done
for leaf in citizen-signing tls-client; do
  openssl ocsp -issuer "$home/certs/citizens.pem" -cert "$work/$leaf.pem" -url "http://127.0.0.1:$port/ocsp" \
    -CAfile "$home/certs/root.pem" -timeout 5 2>&1 | grep -E "Response verify|$leaf.pem|Reason" || true
done
echo "-- A citizen signs a contract with a signature time-stamp from /tsa (CAdES-B-T); the verdict is judged at its time:"
echo "I, Ama Mensah, agree." > "$work/contract.txt"
cat "$work/citizen-signing.pem" "$home/certs/citizens.pem" > "$work/citizen-signing-chain.pem"
"$etrust" sign --cert "$work/citizen-signing-chain.pem" --key "$work/citizen-signing.key" --in "$work/contract.txt" \
  --out "$work/contract.p7s" --detached --timestamp-url "http://127.0.0.1:$port/tsa"
"$etrust" verify-signature --signature "$work/contract.p7s" --content "$work/contract.txt" --home "$home" \
  --ocsp-url "http://127.0.0.1:$port/ocsp"
echo "-- Over HTTP (POST /verify/signature; revocation none here: the API asks only the certificates' own OCSP URL, pki.demo.tg):"
printf '{"signature": "%s", "content": "%s", "revocation": "none"}' "$(base64 -w0 "$work/contract.p7s")" "$(base64 -w0 "$work/contract.txt")" \
  | curl -s "http://127.0.0.1:$port/verify/signature" -H 'Content-Type: application/json' --data-binary @- | head -c 400; echo
echo "-- CRLs published by the timer's command (every CA whose CRL is due), then what /readyz says:"
"$etrust" crl --all --if-due --home "$home"
sleep 1.5
curl -s "http://127.0.0.1:$port/readyz"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^etrust_(ocsp_requests_total|ocsp_signer_ready|crl_next_update_seconds|build_info)' | head -8
kill $ocspd_pid; wait $ocspd_pid 2>/dev/null || true
trap - EXIT

say "9. The audit log: every act above, in a Merkle tree with signed checkpoints; what an auditor reads"
"$etrust" audit report --home "$home"
"$etrust" audit verify --home "$home"
"$etrust" ca tree --home "$home"
"$etrust" audit report --home "$home" --format html --out "$home/audit-report.html"
"$etrust" ca tree --home "$home" --format svg --out "$home/ca-tree.svg"
echo "open $home/audit-report.html and $home/ca-tree.svg in a browser (self-contained, no network)"
"$etrust" audit log --home "$home" --event ca
# The auditors' console: checked here (it binds, says how auditors get in, and exits); run it
# without --check and open the URL it prints.
head -c 24 /dev/urandom | base64 > "$work/console.token"
chmod 600 "$work/console.token"
"$etrust" console --home "$home" --listen 127.0.0.1:0 --token-file "$work/console.token" --check

say "10. Across borders: the framework's ETSI TS 119 612 trusted list names this root at level high; another country's relying party verifies with the list alone"
"$etrust" trustlist create --out "$work/tl.json" --name "West Africa e-Trust"
"$etrust" trustlist add --list "$work/tl.json" --ca-cert "$home/certs/root.pem" --country TG --level high \
  --policy "$(openssl x509 -in "$work/citizen-signing.pem" -noout -ext certificatePolicies | awk '/Policy:/ { print $2; exit }')"
"$etrust" trustlist export-etsi --home "$home" --list "$work/tl.json" --out "$work/TL-TG.xml" --territory TG
"$etrust" verify "$work/citizen-signing.pem" --trust-list "$work/TL-TG.xml" --trust-list-signer "$home/certs/root.pem" \
  --intermediate "$home/certs/citizens.pem" --purpose document-signing --min-assurance high

say "11. The certificate policy / CPS skeleton (RFC 3647) written from the profiles and configuration"
"$etrust" policy document --home "$home" --format md --out "$home/cps.md"
grep -c '^#' "$home/cps.md" | xargs echo "sections:"

if [ "$update_certs" = yes ]; then
  cp "$home/certs/root.pem" Certs/demo-root.pem
  cp "$home/certs/citizens.pem" Certs/demo-citizens.pem
  cp "$work/tls-server.pem" Certs/demo-tls-server.pem
  cp "$work/citizen-signing.pem" Certs/demo-citizen-signing.pem
  echo "updated Certs/"
fi
say "Done. Home: $home (keys in $home/keys, encrypted, mode 0600; database $home/etrust.db)"
