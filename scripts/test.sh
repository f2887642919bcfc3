#!/usr/bin/env bash
# The README's test command, and what CI runs (.ci/run). Installs dependencies, builds from
# scratch and runs these stages in order:
#
#   release  release build with tests; every suite in CTest (prints CTest's summary)
#   asan     unit and integration suites under ASan + UBSan   (scripts/sanitize.sh asan)
#   tsan     the unit suites but storage, and the integration suites that exercise the
#            daemon's threads, under ThreadSanitizer (scripts/sanitize.sh tsan, see below)
#   fuzz     each libFuzzer target for 10 s on its seed corpus  (scripts/fuzz.sh 10)
#
# Under TSan the suites run several times slower than under ASan (the unit suites with the
# leases, restart, hostile, wire and HTTP suites took 16 min on 2 shared cores), so to keep CI
# within its time budget TSan runs only: the restart suites (kill -9 and recovery with clients
# connected), batched updates (one sequencer job for a whole batch), the HTTP status server
# (its own thread) and hostile load (pipelining, slow readers, 10,000 concurrent connections). The storage unit suite is left out under TSan too:
# it exercises RocksDB, which is not instrumented. Every suite runs under ASan + UBSan and in the
# release build; the sequencer (group commit) and power-loss tests run under both sanitizers.
#
# Every stage runs even when an earlier one failed. Each ends with one line
# "[test] STAGE: passed in N s" (or "FAILED"); the run ends with CTest's summary of the release
# suites and all stage lines again, and exits non-zero when any stage failed.
#
#   scripts/test.sh           all stages (CI)
#   scripts/test.sh --quick   release stage only; so does COORD_CI_SANITIZERS=0
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

TSAN_INTEGRATION='RestartTest.*:UpdateBatchTest.*:RestartStream/RestartStreamTest.*:HttpTest.*:HostileLoadTest.*'
TSAN_UNITS='common scheduler rpc daemon'

extra_stages="${COORD_CI_SANITIZERS:-1}"
for arg in "$@"; do
  case "$arg" in
    --quick) extra_stages=0 ;;
    *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
  esac
done

results=()
failed=0
# stage NAME COMMAND...: runs COMMAND with errexit on, prints and records its result line.
stage() {
  local name="$1"
  shift
  echo "[test] ===== $name"
  local t0=$SECONDS rc line
  set +e
  (set -e; "$@")
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    line="$name: passed in $((SECONDS - t0)) s"
  else
    line="$name: FAILED (exit $rc) in $((SECONDS - t0)) s"
    failed=1
  fi
  echo "[test] $line"
  results+=("$line")
}

ctest_log="$root/build/release/ctest.log"
release() {
  cmake --preset release -S "$root"
  cmake --build "$root/build/release" -j "$(nproc)"
  cd "$root/build/release"
  ctest --output-on-failure -j "$(nproc)" --timeout 600 2>&1 | tee "$ctest_log"
}

stage deps "$root/scripts/install-deps.sh"
rm -f "$ctest_log"
stage release release
if [ "$extra_stages" != 0 ]; then
  stage asan "$root/scripts/sanitize.sh" asan
  stage tsan env COORD_SANITIZE_UNITS="$TSAN_UNITS" "$root/scripts/sanitize.sh" tsan \
    "$TSAN_INTEGRATION"
  stage fuzz "$root/scripts/fuzz.sh" 10
fi

echo "[test] ===== summary"
if [ -f "$ctest_log" ]; then
  sed -n '/tests passed, /,$p' "$ctest_log"
fi
for line in "${results[@]}"; do echo "[test] $line"; done
exit "$failed"
