#!/usr/bin/env bash
# Regenerates the seed corpora of Tools/Fuzz/Corpus/TARGET/ (committed; run only to refresh them):
# a few valid samples made by openssl and etrust, and a few invalid ones (truncated, garbage).
# Usage: Tools/Fuzz/make-corpus.sh [ETRUST_BINARY]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
etrust=${1:-$root/.build/debug/etrust}
corpus=$root/Tools/Fuzz/Corpus
work=$(mktemp -d "${TMPDIR:-/tmp}/etrust-corpus.XXXXXX")
trap 'rm -rf "$work"' EXIT
export ETRUST_PASSPHRASE=corpus-passphrase ETRUST_SIGNER_PASSPHRASE=corpus-responder
home=$work/home
seed() { mkdir -p "$corpus/$1"; cp "$2" "$corpus/$1/$3"; }
truncated() { mkdir -p "$corpus/$1"; head -c "$(( $(stat -c %s "$2") / 2 ))" "$2" > "$corpus/$1/$3"; }
rm -rf "$corpus"; mkdir -p "$corpus"

"$etrust" init --home "$home" >/dev/null
"$etrust" ca create root --home "$home" --subject "CN=Fuzz Root CA,O=etrust fuzz,C=TG" >/dev/null
"$etrust" ca create issuing --home "$home" --parent root --key rsa-2048 --subject "CN=Fuzz Issuing CA,O=etrust fuzz,C=TG" >/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/leaf.key" \
  -subj "/CN=fuzz.etrust.tg" -addext "subjectAltName=DNS:fuzz.etrust.tg" -out "$work/leaf.csr" 2>/dev/null
"$etrust" issue --home "$home" --ca issuing --profile tls-server --csr "$work/leaf.csr" --out "$work/leaf.pem" >/dev/null
serial=$(openssl x509 -in "$work/leaf.pem" -noout -serial | cut -d= -f2)
"$etrust" revoke --home "$home" --ca issuing --serial "$serial" --reason keyCompromise >/dev/null
"$etrust" crl --home "$home" --ca issuing >/dev/null
"$etrust" crl --home "$home" --ca root >/dev/null

# Certificates, CSRs, CRLs: PEM, DER, truncated DER.
seed certificate "$work/leaf.pem" leaf.pem
seed certificate "$home/certs/root.pem" root.pem
openssl x509 -in "$work/leaf.pem" -outform DER -out "$work/leaf.der"; seed certificate "$work/leaf.der" leaf.der
truncated certificate "$work/leaf.der" truncated.der
seed csr "$work/leaf.csr" leaf.csr
openssl req -in "$work/leaf.csr" -outform DER -out "$work/leaf.csr.der"; seed csr "$work/leaf.csr.der" leaf.der
openssl req -new -newkey rsa:2048 -nodes -keyout /dev/null -subj "/CN=rsa/C=TG" -out "$work/rsa.csr" 2>/dev/null; seed csr "$work/rsa.csr" rsa.csr
truncated csr "$work/leaf.csr.der" truncated.der
for crl in "$home"/pub/crl/*.crl; do seed crl "$crl" "$(basename "$crl")"; done
first=$(ls "$home"/pub/crl/*.crl | head -1); truncated crl "$first" truncated.der
openssl crl -in "$first" -inform DER -out "$work/crl.pem" 2>/dev/null && seed crl "$work/crl.pem" crl.pem

# OCSP request and responses (openssl's client; etrust's responder answers are signed offline here).
openssl ocsp -issuer "$home/certs/issuing.pem" -cert "$work/leaf.pem" -reqout "$work/req.der" >/dev/null 2>&1
openssl ocsp -no_nonce -sha256 -issuer "$home/certs/issuing.pem" -cert "$work/leaf.pem" -reqout "$work/req256.der" >/dev/null 2>&1
seed ocsp-request "$work/req.der" nonce.der; seed ocsp-request "$work/req256.der" sha256.der; truncated ocsp-request "$work/req.der" truncated.der
printf 'O\xd2?\xdc\xc3\x00\x00' > "$corpus/ocsp-request/garbage.der"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/rsp.key" -subj "/CN=responder" -out "$work/rsp.pem" 2>/dev/null
printf 'R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=fuzz.etrust.tg\n' 301231000000Z 250102000000Z "$serial" > "$work/index.txt"
openssl ocsp -index "$work/index.txt" -rsigner "$work/rsp.pem" -rkey "$work/rsp.key" -CA "$home/certs/issuing.pem" \
  -reqin "$work/req.der" -respout "$work/resp.der" -ndays 1
openssl ocsp -index "$work/index.txt" -rsigner "$work/rsp.pem" -rkey "$work/rsp.key" -CA "$home/certs/issuing.pem" \
  -reqin "$work/req256.der" -respout "$work/resp256.der" -resp_no_certs -ndays 1 >/dev/null 2>&1
seed ocsp-response "$work/resp.der" revoked.der; seed ocsp-response "$work/resp256.der" nocerts.der
truncated ocsp-response "$work/resp.der" truncated.der
printf '\x30\x03\x0a\x01\x01' > "$corpus/ocsp-response/malformed-request.der"

# CMS: etrust's own signature (attached), openssl detached, truncated.
printf 'etrust fuzz content\n' > "$work/content"
openssl cms -sign -binary -in "$work/content" -signer "$work/rsp.pem" -inkey "$work/rsp.key" -outform DER -out "$work/detached.der"
openssl cms -sign -binary -nodetach -in "$work/content" -signer "$work/rsp.pem" -inkey "$work/rsp.key" -outform DER -out "$work/attached.der"
seed cms "$work/detached.der" detached.der; seed cms "$work/attached.der" attached.der; truncated cms "$work/attached.der" truncated.der

# PKCS#12: right password (AES), wrong password, legacy algorithms, truncated.
p12() { openssl pkcs12 -export -inkey "$work/leaf.key" -in "$work/leaf.pem" -certfile "$home/certs/issuing.pem" "$@" 2>/dev/null; }
p12 -passout pass:fuzz-password -out "$work/good.p12"; seed pkcs12 "$work/good.p12" good.p12
p12 -passout pass:other -out "$work/other.p12"; seed pkcs12 "$work/other.p12" wrong-password.p12
p12 -passout pass:fuzz-password -nomac -out "$work/nomac.p12"; seed pkcs12 "$work/nomac.p12" nomac.p12
truncated pkcs12 "$work/good.p12" truncated.p12

# Trust lists: plain, signed, malformed JSON.
"$etrust" trustlist create --out "$work/list.json" --name "Fuzz list" >/dev/null
"$etrust" trustlist add --list "$work/list.json" --ca-cert "$home/certs/root.pem" --country TG --level high \
  --policy 1.3.6.1.4.1.99999.1 --ocsp http://ocsp.example/ --crl http://crl.example/root.crl >/dev/null
seed trust-list "$work/list.json" list.json
if "$etrust" trustlist sign --home "$home" --list "$work/list.json" --out "$work/list.signed" --signer root >/dev/null 2>&1; then
  seed trust-list "$work/list.signed" list.signed
fi
printf '{"format":"etrust-trust-list","version":1,"name":"x","authorities":[{"name":' > "$corpus/trust-list/cut.json"

# Policy YAML: the shipped profiles and a broken one.
for p in root-ca sub-ca citizen-signing timestamping; do seed policy-yaml "$root/Policies/$p.yaml" "$p.yaml"; done
printf 'name: x\nkind: [unclosed\n  - &a *a\n' > "$corpus/policy-yaml/broken.yaml"

# DN strings.
mkdir -p "$corpus/dn"
printf 'CN=Fuzz Root CA,O=etrust fuzz,C=TG' > "$corpus/dn/simple.txt"
printf 'CN=a\\,b+UID=x\\2Cy,OU=#04024869,O=\\"q\\",2.5.4.3=\\20lead' > "$corpus/dn/escapes.txt"
printf 'CN=\xc3\xa9t\xc3\xa9,serialNumber=IDCTG-1,emailAddress=a@b.tg' > "$corpus/dn/utf8.txt"
printf 'CN=,=x,,+' > "$corpus/dn/broken.txt"

# Audit bundles: an exported one, one cut short, one without its checkpoints.
"$etrust" audit export --home "$home" --out "$work/bundle" >/dev/null
seed audit-bundle "$work/bundle" bundle.txt
head -c 1500 "$work/bundle" > "$corpus/audit-bundle/cut.txt"
grep -v '^checkpoint ' "$work/bundle" > "$corpus/audit-bundle/no-checkpoints.txt" || true

# HTTP requests as a client sends them.
mkdir -p "$corpus/http"
get=$(base64 -w0 "$work/req256.der")
printf 'GET /ocsp/%s HTTP/1.1\r\nHost: x\r\n\r\n' "$get" > "$corpus/http/get-ocsp.txt"
printf 'GET /ocsp/%s HTTP/1.1\r\nHost: x\r\n\r\n' "$(printf %s "$get" | tr '+/' '-_' | sed 's/=//g')" > "$corpus/http/get-urlsafe.txt"
{ printf 'POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nContent-Length: %d\r\n\r\n' "$(stat -c %s "$work/req.der")"; cat "$work/req.der"; } > "$corpus/http/post-ocsp.txt"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n' > "$corpus/http/pipelined.txt"
printf 'GET /crl/issuing.crl HTTP/1.1\r\nHost: x\r\n\r\nGET /ca/../etrust.db HTTP/1.0\r\n\r\n' > "$corpus/http/files.txt"
printf 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n0\x03\x02\x01\x00\r\n0\r\n\r\n' > "$corpus/http/chunked.txt"
printf 'PUT /ocsp HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n' > "$corpus/http/too-large.txt"
echo "corpora written to $corpus"
