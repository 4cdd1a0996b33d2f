#!/usr/bin/env bash
# Runs every test of etrust on a fresh Debian 12 machine: installs what is missing (Debian packages
# with apt-get, PostgreSQL among them, pkilint and pyca/cryptography into a virtual environment
# under .build/), builds, starts a private PostgreSQL cluster (Tools/postgres.sh), then runs the
# whole suite, every store test on SQLite and on PostgreSQL, and last builds and checks the release
# binaries (Tools/release.sh). Nothing is skipped; a missing tool fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

need_apt=()
# softhsm2 (a software PKCS#11 token for the HSM tests), opensc (pkcs11-tool, their judge),
# libp11-dev + libp11-kit-dev (etrust's PKCS#11 route), libengine-pkcs11-openssl (the same route
# for the openssl CLI), systemd (systemd-analyze verify of Tools/systemd), graphviz (dot reads ca tree),
# man-db + groff-base (man pages render), libxml2-dev (etrust parses ETSI TS 119 612 lists),
# xmlsec1 (signs and verifies them: XMLDSig, XAdES), python3-yaml (the validation API test reads
# docs/openapi.yaml), chromium + chromium-driver (the console's browser tests, driven by Selenium
# from the venv).
for pkg in libssl-dev libsqlite3-dev openssl python3-venv sqlite3 curl man-db groff-base \
           softhsm2 opensc libp11-dev libp11-kit-dev libengine-pkcs11-openssl systemd graphviz libxml2-dev xmlsec1 python3-yaml \
           chromium chromium-driver; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

venv="$root/.build/venv"
if [ ! -x "$venv/bin/lint_pkix_cert" ] || ! "$venv/bin/python" -c "import cryptography, cryptography_vectors, signxml, selenium" 2>/dev/null; then
  echo "== creating $venv (pkilint, cryptography, cryptography-vectors for PKITS, signxml for XAdES, selenium for the console's browser tests)"
  mkdir -p "$root/.build"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check pkilint cryptography cryptography-vectors signxml selenium
fi
export ETRUST_VENV="$venv"

echo "== building"
set +e
swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Wrapping)'
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "build failed"; exit "$status"; }
export ETRUST_BIN="$(swift build --show-bin-path)/etrust"

# A private PostgreSQL for the store tests on both engines, stopped however the run ends.
. "$root/Tools/postgres.sh"
trap pg_stop EXIT
trap 'exit 130' INT TERM   # the EXIT trap then stops the cluster
pg_start

echo "== testing"
swift test --skip-build "$@"

# The release binaries, as operators install them: built with the Swift runtime linked in
# statically, every man page rendered by man -l without a warning, and the binary run under
# env -i (no Swift on PATH or LD_LIBRARY_PATH) through init, ca create, issue, verify and the
# audit log (Tools/release.sh, Tools/release-check.sh). Only on the whole run, not a --filter.
if [ $# -eq 0 ]; then
  echo "== release binaries: static Swift runtime, man pages, env -i"
  Tools/release.sh "$root/.build/dist"
fi
