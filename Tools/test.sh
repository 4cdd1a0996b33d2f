#!/usr/bin/env bash
# Runs every test of etrust on a fresh Debian 12 machine, as CI does (.ci/run): installs what is
# missing (Debian packages with apt-get, PostgreSQL among them, pkilint and pyca/cryptography into a
# virtual environment under .build/), starts a private PostgreSQL cluster (Tools/postgres.sh), and
# runs, in one release build folder whose compiled dependencies every step shares:
#   1. the whole suite once under AddressSanitizer (every store test on SQLite and on PostgreSQL,
#      the 10-iteration crash storm; every etrust and etrust-ocspd the tests start is that build),
#   2. every fuzz target for 60 s (libFuzzer, two at a time), from the same build,
#   3. the concurrency suites under ThreadSanitizer,
#   4. the release binaries and their checks (Tools/release.sh), then Tools/abuse.sh against them.
# Nothing is skipped; a missing tool, a failed test, a sanitizer report, a fuzz finding or a missed
# abuse target fails the run. Under 40 minutes on two cores.
#   Tools/test.sh                 everything
#   Tools/test.sh --filter SUITE  the AddressSanitizer build and the named tests only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Each phase prints "== NAME (N s)" when it ends, and the run ends with the list, so a CI log
# shows where the time goes.
phases=()
t0=$SECONDS
phase_start=$SECONDS
phase_done() {   # phase_done NAME
  local took=$((SECONDS - phase_start))
  echo "== $1 ($took s)"
  phases+=("$(printf '%-44s %5d s' "$1" "$took")")
  phase_start=$SECONDS
}

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

phase_done "packages"

# Sanitizer reports go to files (log_path), one per process that found something, so a report
# from a CLI or daemon the tests start counts even when that process's exit status was expected to
# be non-zero. Any file there fails the run.
reports=$root/.build/sanitizer-reports
sanitizer_findings() {   # sanitizer_findings DIR: prints the reports, fails when there are any
  local d=$1
  compgen -G "$d/*" >/dev/null || return 0
  echo "!! sanitizer reports in $d:" >&2
  for f in "$d"/*; do echo "-- $f" >&2; head -60 "$f" >&2; done
  return 1
}

# The whole run (no arguments) also fuzzes, runs the concurrency suites under ThreadSanitizer,
# builds the release binaries and attacks them with Tools/abuse.sh; a --filter run only builds and
# runs the tests it names (under AddressSanitizer).
whole=0; [ $# -eq 0 ] && whole=1

# Every step builds a flavour of one release build folder, .build/release (Package.swift,
# ETRUST_SANITIZE and ETRUST_STATIC_STDLIB). The dependencies (SwiftNIO, PostgresNIO and the two
# BoringSSL copies it brings, about two thirds of a build) are compiled once, optimised and not
# instrumented; each step compiles only etrust's own targets again: its library optimised,
# instrumented with the step's sanitizer, compiled for testing and with the crash points of
# FaultInjection.swift. Four separate debug builds (ASan, TSan, fuzzer, release) did not fit in the
# 40 minutes on two cores, and the suite under ASan takes less than half as long with etrust's
# library optimised as it did with a debug build.
# A developer's debug build (.build/debug) is untouched; .build/release ends as the release build.
bin=$root/.build/release
build_flavour() {   # build_flavour SANITIZER SWIFT-BUILD-ARGS...: the errors and warnings only
  local sanitizer=$1; shift
  set +e
  ETRUST_SANITIZE=$sanitizer swift build -c release "$@" 2>&1 \
    | grep -Ev '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Wrapping|Linking|Planning)'
  local status=${PIPESTATUS[0]}
  set -e
  [ "$status" -eq 0 ] || { echo "build failed: ETRUST_SANITIZE=$sanitizer swift build -c release $*"; exit "$status"; }
}

# 1. AddressSanitizer: the suite and every `etrust` / `etrust-ocspd` it starts (ETRUST_BIN). The
# `fuzzer` flavour is AddressSanitizer with libFuzzer's coverage compiled in as well: the tests and
# executables link ASan only, and the same build links the fuzz harnesses (etrust-fuzz) for step 2.
echo "== building (release folder: the dependencies, then etrust with AddressSanitizer and libFuzzer's coverage)"
export ETRUST_FUZZ=1
build_flavour fuzzer --build-tests
export ETRUST_BIN="$bin/etrust"
phase_done "build (dependencies + AddressSanitizer)"

# A private PostgreSQL for the store tests on both engines, stopped however the run ends.
. "$root/Tools/postgres.sh"
trap pg_stop EXIT
trap 'exit 130' INT TERM   # the EXIT trap then stops the cluster
pg_start

# The whole suite once under AddressSanitizer. Its 10-iteration crash storm (CrashStormTests:
# Tools/crashtest.sh 10) SIGKILLs the ASan binaries. Leak detection is off here, deliberately:
# LeakSanitizer runs at each process's exit, and etrust-ocspd, which every responder test starts,
# exits from its shutdown path while main() still holds its parsed command, its arguments and a
# Dispatch queue: 3 blocks, 609 bytes, once per process, reported as leaks (the CLI commands tried,
# init, ca create, issue, audit verify and a usage error, report none). Leaks that could grow with
# outside input are looked for where they would be, per input, by the fuzz harnesses
# (-detect_leaks=1, step 2), and the daemon's memory under attack is measured by
# ResponderAbuseTests and by Tools/abuse.sh on the release binaries (step 4).
# The quarantine of freed blocks (where a use after free is caught) is 16 MiB instead of 256: the
# tests that bound memory (FuzzRegressionTests counts the bytes in use over 6,000 CMS verifications)
# would otherwise measure the quarantine filling up, not what the code keeps.
# The Swift runtime's own crash handler is off (SWIFT_BACKTRACE) so that a crash is reported by
# ASan, traps (SIGILL) and aborts included, with its stack, into the report folder.
echo "== testing (AddressSanitizer)"
rm -rf "$reports/asan"; mkdir -p "$reports/asan"
test_status=0
# A suite that hangs is stopped after 30 minutes (it takes about 8) and fails the run.
ETRUST_SANITIZE=fuzzer SWIFT_BACKTRACE=enable=no \
ASAN_OPTIONS="detect_leaks=0:quarantine_size_mb=16:handle_abort=1:handle_sigill=1:log_path=$reports/asan/report" \
  timeout --kill-after=30 1800 swift test -c release --skip-build "$@" || test_status=$?
phase_done "tests (AddressSanitizer)"
sanitizer_findings "$reports/asan" || test_status=1
[ "$test_status" -eq 0 ] || { echo "the suite failed under AddressSanitizer"; exit "$test_status"; }
[ $whole -eq 1 ] || exit 0

# 2. Every fuzz target for 60 s (libFuzzer, AddressSanitizer, LeakSanitizer), two at a time, from
# the build of step 1.
echo "== fuzzing: Tools/fuzz.sh all 60, two at a time"
FUZZ_JOBS=2 Tools/fuzz.sh all 60 --no-build
phase_done "fuzzing (12 targets x 60 s, 2 at a time)"
unset ETRUST_FUZZ

# 3. The suites that run etrust's code on several threads at once, under ThreadSanitizer; the CLI
# and daemon they start are the ThreadSanitizer build too.
#   BatchTests                batch issuance: parallel signing workers, groups committed in order
#                             (ETrustCATests in-process, EndToEndTests through the CLI)
#   ResponderHTTPTests        the responder (SwiftNIO event loops) in-process
#   ResponderLimitsTests      the responder under concurrent good and bad clients, connection caps
#   ResponderOperationsTests  store lock vs pre-signed answers, draining shutdown, the log writer
#   TimeStampAuthorityTests   the TSA's batching: 200 concurrent requests, distinct serials
#   OwnCALibraryTests         one Validator used from several threads
#   SharedDatabaseTests       concurrent store writers on one PostgreSQL
# (ResponderAbuseTests is not among them: it measures the daemon's RSS, which ThreadSanitizer's
# shadow memory, several times the memory it watches, would swamp; the same handler code runs
# under concurrent clients in ResponderLimitsTests.)
echo "== building (etrust with ThreadSanitizer)"
build_flavour thread --build-tests
phase_done "build (ThreadSanitizer)"
tsan_suites="BatchTests|ResponderHTTPTests|ResponderLimitsTests|ResponderOperationsTests|TimeStampAuthorityTests|OwnCALibraryTests|SharedDatabaseTests"
echo "== testing (ThreadSanitizer): $tsan_suites"
rm -rf "$reports/tsan"; mkdir -p "$reports/tsan"
tsan_status=0
ETRUST_SANITIZE=thread SWIFT_BACKTRACE=enable=no \
TSAN_OPTIONS="log_path=$reports/tsan/report:suppressions=$root/Tools/tsan-suppressions.txt" \
  timeout --kill-after=30 900 swift test -c release --skip-build --filter "$tsan_suites" || tsan_status=$?
phase_done "tests (ThreadSanitizer)"
sanitizer_findings "$reports/tsan" || tsan_status=1
[ "$tsan_status" -eq 0 ] || { echo "the concurrency suites failed under ThreadSanitizer"; exit "$tsan_status"; }

# 4. The release binaries (static Swift runtime, man pages, run under env -i), then the attacks of
# Tools/abuse.sh on them, 5 s each; it exits 1 when the daemon's RSS is not flat within 20 MiB, a
# good client's p99 reaches 20 ms, or serving resumes after 1 s.
Tools/release.sh "$root/.build/dist"
phase_done "release binaries and their checks"
echo "== abuse: Tools/abuse.sh 5 on the release binaries"
ETRUST_BENCH_BIN="$root/.build/dist/bin" Tools/abuse.sh 5
phase_done "abuse (release binaries)"

echo "== all passed in $((SECONDS - t0)) s"
printf '   %s\n' "${phases[@]}"
