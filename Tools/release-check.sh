#!/usr/bin/env bash
# Runs a release binary with an empty environment (env -i, PATH=/usr/bin:/bin, no Swift):
# --version, init, ca create (root and issuing), issue (a key generated for the subscriber),
# verify, and the audit log (which records the version). Exits non-zero on the first failure.
#   Tools/release-check.sh path/to/etrust [EXPECTED-VERSION]
set -euo pipefail
etrust=$(realpath "$1")
expected=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { env -i PATH=/usr/bin:/bin ETRUST_PASSPHRASE=release-check "$etrust" "$@"; }
fail() { echo "release check: $*" >&2; exit 1; }

if ldd "$etrust" | grep -qi swift; then fail "$etrust links a Swift runtime library"; fi
version=$(run --version)
[ -z "$expected" ] || [ "$version" = "$expected" ] || fail "--version says '$version', expected '$expected'"
run init --home "$work/home" --public-url http://pki.release.tg >/dev/null
sed -i 's/pbkdf2Iterations: 600000/pbkdf2Iterations: 1000/' "$work/home/etrust.yaml"
run ca create root --home "$work/home" --subject "CN=Release Root,O=Test,C=TG" >/dev/null
run ca create issuing --home "$work/home" --parent root --subject "CN=Release Issuing,O=Test,C=TG" >/dev/null
printf 'p12-pass\n' > "$work/p12pass"
run issue --home "$work/home" --ca issuing --profile tls-client --generate-key --subject "CN=release.example.tg,O=Test,C=TG" \
  --p12 "$work/leaf.p12" --p12-password-file "$work/p12pass" --out "$work/leaf.pem" >/dev/null
run verify "$work/leaf.pem" --anchor "$work/home/certs/root.pem" --intermediate "$work/home/certs/issuing.pem" --purpose tls-client --json \
  | grep -q '"valid":true' || fail "verify did not find the leaf valid"
run audit log --home "$work/home" --event issue --json | grep -q "\"etrustVersion\":\"$version\"" || fail "the audit log does not record $version"
run audit verify --home "$work/home" >/dev/null || fail "audit verify"
echo "release check: $etrust $version runs without Swift: init, ca create, issue, verify, audit: OK"
