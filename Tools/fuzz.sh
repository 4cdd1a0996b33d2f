#!/usr/bin/env bash
# Fuzzes etrust's parsers of outside input with libFuzzer and AddressSanitizer (Linux).
#   Tools/fuzz.sh TARGET SECONDS     one harness for SECONDS, from its seeds in Tools/Fuzz/Corpus/TARGET/
#   Tools/fuzz.sh all SECONDS        every harness in turn, SECONDS each
#   Tools/fuzz.sh list               the harness names
#   Tools/fuzz.sh build              only build the harnesses
#   ... --no-build                   (after TARGET|all SECONDS) use the harnesses already built
#   FUZZ_JOBS=N Tools/fuzz.sh all ...  N harnesses at a time (one core each; default 1)
# Builds the `etrust-fuzz` executable (declared in Package.swift only when ETRUST_FUZZ is set) as
# the fuzzer flavour of the release build folder (ETRUST_SANITIZE=fuzzer: etrust's own code
# optimised, with libFuzzer's coverage and AddressSanitizer; the dependencies it shares with the
# other flavours are not instrumented). Exits non-zero on any crash, leak, timeout, out-of-memory
# or sanitizer finding; the input that caused it is saved under .build/fuzz/findings/ and its path
# printed. Reproduce one with: ETRUST_FUZZ_TARGET=TARGET .build/release/etrust-fuzz FILE
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
targets="certificate csr crl ocsp-request ocsp-response cms pkcs12 trust-list policy-yaml dn audit-bundle http"
usage() { echo "usage: Tools/fuzz.sh TARGET|all|list|build SECONDS [--no-build]  (targets: $targets)" >&2; exit 2; }
[ "${1:-}" = list ] && { echo "$targets" | tr ' ' '\n'; exit 0; }
build=$root/.build/fuzz
binary=$root/.build/release/etrust-fuzz
mkdir -p "$build"
build_harnesses() {
    echo "== building etrust-fuzz (release, -sanitize=fuzzer,address)"
    mkdir -p "$build"
    if ! ETRUST_FUZZ=1 ETRUST_SANITIZE=fuzzer swift build -c release --product etrust-fuzz > "$build/build.log" 2>&1; then
        grep -E "error:" "$build/build.log" | head -20 >&2
        echo "fuzz build failed (log: $build/build.log)" >&2
        exit 3
    fi
}
if [ "${1:-}" = build ]; then [ $# -eq 1 ] || usage; build_harnesses; exit 0; fi
[ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$3" = --no-build ]; } || usage
target=$1 seconds=$2
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || usage
[ "$target" = all ] || [[ " $targets " == *" $target "* ]] || usage
if [ "${3:-}" = --no-build ]; then
    [ -x "$binary" ] || { echo "$binary missing: run Tools/fuzz.sh build" >&2; exit 3; }
else
    build_harnesses
fi

run() {
    local t=$1 work=$build/corpus/$1 findings=$build/findings/$1 tmp
    mkdir -p "$work" "$findings"
    tmp=$(mktemp -d "$build/tmp.XXXXXX")
    echo "== $t: ${seconds}s from $(ls "Tools/Fuzz/Corpus/$t" | wc -l) seeds"
    # New inputs go to the scratch corpus (first directory); the committed seeds are only read.
    # The harness's own files (a fixture home, a scratch bundle) live in $tmp, removed after.
    TMPDIR=$tmp ETRUST_FUZZ_TARGET=$t LSAN_OPTIONS=suppressions=$root/Tools/Fuzz/lsan-suppressions.txt:print_suppressions=0 "$binary" "$work" "Tools/Fuzz/Corpus/$t" \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 -max_len=65536 -detect_leaks=1 \
        -artifact_prefix="$findings/" -print_final_stats=1 > "$build/$t.log" 2>&1
    local rc=$?
    rm -rf "$tmp"
    grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)" "$build/$t.log" | tr '\n' ' '; echo
    if [ $rc -ne 0 ]; then
        echo "!! $t: libFuzzer exit $rc; log $build/$t.log" >&2
        grep -E "ERROR: |SUMMARY: |Test unit written to|Fatal error" "$build/$t.log" | head -8 >&2
        return 1
    fi
}

failed=""
jobs=${FUZZ_JOBS:-1}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || usage
if [ "$target" = all ] && [ "$jobs" -gt 1 ]; then
    # FUZZ_JOBS harnesses at a time (libFuzzer uses one core each); reports in target order.
    rm -f "$build"/*.summary "$build"/*.failed
    for t in $targets; do
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
        { run "$t" || touch "$build/$t.failed"; } > "$build/$t.summary" 2>&1 &
    done
    wait
    # A harness without a summary did not run: that fails too.
    for t in $targets; do
        cat "$build/$t.summary" 2>/dev/null || failed="$failed $t"
        [ ! -e "$build/$t.failed" ] || failed="$failed $t"
    done
elif [ "$target" = all ]; then
    for t in $targets; do run "$t" || failed="$failed $t"; done
else
    run "$target" || failed=$target
fi
[ -z "$failed" ] || { echo "fuzzing found problems in:$failed" >&2; exit 1; }
echo "no finding"
