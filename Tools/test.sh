#!/usr/bin/env bash
# Runs every test of etrust on a fresh Debian 12 machine, as CI does (.ci/run): installs what is
# missing (Debian packages with apt-get, PostgreSQL among them, pkilint and pyca/cryptography into a
# virtual environment under .build/), builds with AddressSanitizer, starts a private PostgreSQL
# cluster (Tools/postgres.sh), runs the whole suite under ASan (every store test on SQLite and on
# PostgreSQL, the 10-iteration crash storm), the concurrency suites under ThreadSanitizer, every
# fuzz target for 60 s, builds and checks the release binaries (Tools/release.sh) and attacks them
# (Tools/abuse.sh). Nothing is skipped; a missing tool, a failed test, a sanitizer report, a fuzz
# finding or a missed abuse target fails the run. Under 40 minutes on two cores.
#   Tools/test.sh                 everything
#   Tools/test.sh --filter SUITE  the ASan build and the named tests only
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
# from the venv), procps (pgrep: the background builds are kept at idle priority).
for pkg in libssl-dev libsqlite3-dev openssl python3-venv sqlite3 curl man-db groff-base \
           softhsm2 opensc libp11-dev libp11-kit-dev libengine-pkcs11-openssl systemd graphviz libxml2-dev xmlsec1 python3-yaml \
           chromium chromium-driver procps; do
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
quiet_build() {   # swift build ARGS...: the errors and warnings, not the progress lines
  set +e
  swift build "$@" 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Wrapping|Linking|Planning)'
  local status=${PIPESTATUS[0]}
  set -e
  [ "$status" -eq 0 ] || { echo "build failed: swift build $*"; exit "$status"; }
}

# The whole run (no arguments) also fuzzes, runs the concurrency suites under ThreadSanitizer,
# builds the release binaries and attacks them with Tools/abuse.sh; a --filter run only builds and
# runs the tests it names (still under AddressSanitizer).
whole=0; [ $# -eq 0 ] && whole=1

# 1. The test build is the AddressSanitizer build: Swift and C targets instrumented, the runtime
# linked in, so the suite and every `etrust` / `etrust-ocspd` it starts (ETRUST_BIN) run checked.
# It has its own build folder, .build-asan, so that it and a developer's plain `swift build` in
# .build do not rebuild each other.
asan=(--build-path "$root/.build-asan" --sanitize=address)
echo "== building (AddressSanitizer) in .build-asan"
quiet_build "${asan[@]}" --build-tests
export ETRUST_BIN="$(swift build "${asan[@]}" --show-bin-path)/etrust"
phase_done "build (AddressSanitizer)"

# A private PostgreSQL for the store tests on both engines, stopped however the run ends; the
# background builds (step 2), when they still run, too.
. "$root/Tools/postgres.sh"
builds_pid=""
cleanup() { [ -z "$builds_pid" ] || kill -- -"$builds_pid" 2>/dev/null || true; pg_stop; }
trap cleanup EXIT
trap 'exit 130' INT TERM   # the EXIT trap then stops the cluster
pg_start

# 2. While the suite runs, the other builds run beside it at idle priority (SCHED_IDLE, in a session of their own: they only
# get the CPU the tests leave; swift build's compilers are re-marked every 2 s because swift build
# resets their priority): the fuzz harnesses (Tools/fuzz.sh build: -sanitize=fuzzer,address in
# .build-fuzz), the release binaries (Tools/release.sh: static Swift runtime, man pages, run under
# env -i), and the ThreadSanitizer test build (.build-tsan). Their output goes to
# .build/background-builds.log, shown after the suite.
tsan=(--build-path "$root/.build-tsan" --sanitize=thread)
if [ $whole -eq 1 ]; then
  setsid bash -c "set -e; cd '$root'
    echo '== fuzz harnesses'; Tools/fuzz.sh build; echo \"== fuzz harnesses built at \$SECONDS s\"
    echo '== release binaries'; Tools/release.sh '$root/.build/dist'; echo \"== release binaries built at \$SECONDS s\"
    echo '== ThreadSanitizer build'
    swift build ${tsan[*]} --build-tests 2>&1 | { grep -Ev '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Wrapping|Linking|Planning)' || true; }
    [ \${PIPESTATUS[0]} -eq 0 ]; echo \"== ThreadSanitizer build done at \$SECONDS s\"" \
    > "$root/.build/background-builds.log" 2>&1 &
  builds_pid=$!
  ( while kill -0 "$builds_pid" 2>/dev/null; do
      for p in $(pgrep -s "$builds_pid"); do chrt -i -p 0 "$p" >/dev/null 2>&1 || true; done
      sleep 2
    done ) &
fi

# 3. The whole suite once under AddressSanitizer. Its 10-iteration crash storm (CrashStormTests:
# Tools/crashtest.sh 10) SIGKILLs the ASan binaries. Leak detection is off here, deliberately:
# LeakSanitizer runs at each process's exit, and etrust-ocspd, which every responder test starts,
# exits from its shutdown path while main() still holds its parsed command, its arguments and a
# Dispatch queue: 3 blocks, 609 bytes, once per process, reported as leaks (the CLI commands tried,
# init, ca create, issue, audit verify and a usage error, report none). Leaks that could grow with
# outside input are looked for where they would be, per input, by the fuzz harnesses
# (-detect_leaks=1, step 6), and the daemon's memory under attack is measured by
# ResponderAbuseTests and by Tools/abuse.sh on the release binaries (step 7).
# The quarantine of freed blocks (where a use after free is caught) is 16 MiB instead of 256: the
# tests that bound memory (FuzzRegressionTests counts the bytes in use over 6,000 CMS verifications)
# would otherwise measure the quarantine filling up, not what the code keeps.
# The Swift runtime's own crash handler is off (SWIFT_BACKTRACE) so that a crash is reported by
# ASan, traps (SIGILL) and aborts included, with its stack, into the report folder.
echo "== testing (AddressSanitizer)"
rm -rf "$reports/asan"; mkdir -p "$reports/asan"
test_status=0
# A suite that hangs is stopped after 30 minutes (it takes about 15) and fails the run.
SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=0:quarantine_size_mb=16:handle_abort=1:handle_sigill=1:log_path=$reports/asan/report" \
  timeout --kill-after=30 1800 swift test "${asan[@]}" --skip-build "$@" || test_status=$?
phase_done "tests (AddressSanitizer)"
sanitizer_findings "$reports/asan" || test_status=1
[ "$test_status" -eq 0 ] || { echo "the suite failed under AddressSanitizer"; exit "$test_status"; }
[ $whole -eq 1 ] || exit 0

echo "== waiting for the background builds"
builds_status=0
wait "$builds_pid" || builds_status=$?
builds_pid=""
cat "$root/.build/background-builds.log"
phase_done "background builds, what was left after the tests"
[ "$builds_status" -eq 0 ] || { echo "a background build failed (log above)"; exit "$builds_status"; }

# 4. The suites that run etrust's code on several threads at once, under ThreadSanitizer; the CLI
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
tsan_suites="BatchTests|ResponderHTTPTests|ResponderLimitsTests|ResponderOperationsTests|TimeStampAuthorityTests|OwnCALibraryTests|SharedDatabaseTests"
echo "== testing (ThreadSanitizer): $tsan_suites"
rm -rf "$reports/tsan"; mkdir -p "$reports/tsan"
tsan_status=0
SWIFT_BACKTRACE=enable=no ETRUST_BIN="$(swift build "${tsan[@]}" --show-bin-path)/etrust" \
TSAN_OPTIONS="log_path=$reports/tsan/report:suppressions=$root/Tools/tsan-suppressions.txt" \
  swift test "${tsan[@]}" --skip-build --filter "$tsan_suites" || tsan_status=$?
phase_done "tests (ThreadSanitizer)"
sanitizer_findings "$reports/tsan" || tsan_status=1
[ "$tsan_status" -eq 0 ] || { echo "the concurrency suites failed under ThreadSanitizer"; exit "$tsan_status"; }

# 5. (The release binaries were built and checked in step 2.)
# 6. Every fuzz target for 60 s (libFuzzer, AddressSanitizer, LeakSanitizer), two at a time.
echo "== fuzzing: Tools/fuzz.sh all 60, two at a time"
FUZZ_JOBS=2 Tools/fuzz.sh all 60 --no-build
phase_done "fuzzing (12 targets x 60 s, 2 at a time)"

# 7. The attacks of Tools/abuse.sh on the release binaries, 5 s each; it exits 1 when the daemon's
# RSS is not flat within 20 MiB, a good client's p99 reaches 20 ms, or serving resumes after 1 s.
echo "== abuse: Tools/abuse.sh 5 on the release binaries"
ETRUST_BENCH_BIN="$root/.build/dist/bin" Tools/abuse.sh 5
phase_done "abuse (release binaries)"

echo "== all passed in $((SECONDS - t0)) s"
printf '   %s\n' "${phases[@]}"
