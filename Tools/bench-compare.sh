#!/usr/bin/env bash
# Before/after in one run: every benchmark of BENCHMARKS.md (issuance, CRL, validation, OCSP
# responder) against two sets of release binaries, alternating, on the same machine.
# Usage: Tools/bench-compare.sh BEFORE_BIN_DIR [AFTER_BIN_DIR]
#   (AFTER defaults to this checkout's release build; build BEFORE from an earlier commit with
#    `git worktree add /tmp/base REV && (cd /tmp/base && swift build -c release)`.)
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:?usage: Tools/bench-compare.sh BEFORE_BIN_DIR [AFTER_BIN_DIR]}
if [ -z "${2:-}" ]; then
  swift build -c release --product etrust >/dev/null
  swift build -c release --product etrust-ocspd >/dev/null
fi
after=${2:-$PWD/.build/release}
for which in before after before after; do
  dir=$before; [ "$which" = after ] && dir=$after
  echo "=== $which: issuance ($dir)"
  ETRUST_BENCH_BIN=$dir Tools/bench-issuance.sh 2000 | grep -E "etrust|openssl ca" | head -4
done
for which in before after; do
  dir=$before; [ "$which" = after ] && dir=$after
  echo "=== $which: CRL"
  ETRUST_BENCH_BIN=$dir Tools/bench-crl.sh 100000 1000000
  echo "=== $which: validation"
  ETRUST_BENCH_BIN=$dir Tools/bench-verify.sh 20000
  echo "=== $which: OCSP responder"
  ETRUST_BENCH_BIN=$dir Tools/bench-ocsp.sh 5
done
