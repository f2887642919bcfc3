#!/usr/bin/env bash
# The README's test command, and what CI runs (.ci/run). Installs dependencies, builds from
# scratch and runs these stages in order:
#
#   release  release build with tests; every suite in CTest (prints CTest's summary)
#   asan     unit and integration suites under ASan + UBSan   (scripts/sanitize.sh asan)
#   tsan     unit and integration suites under ThreadSanitizer (scripts/sanitize.sh tsan)
#   fuzz     each libFuzzer target for 10 s on its seed corpus  (scripts/fuzz.sh 10)
#
# Both sanitizer stages run every unit suite and all 352 integration tests (whose daemon is the
# instrumented build too). RocksDB comes from Debian's uninstrumented library; tests/tsan.supp
# lists the reports that only reflect that, each with its reason.
#
# Every stage runs even when an earlier one failed. Each ends with one line
# "[test] STAGE: passed in N s" (or "FAILED"); the run ends with CTest's summary of the release
# suites and all stage lines again, and exits non-zero when any stage failed.
#
#   scripts/test.sh           all stages (CI)
#   scripts/test.sh --quick   release stage only; so does COORD_CI_SANITIZERS=0
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

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
  stage tsan "$root/scripts/sanitize.sh" tsan
  stage fuzz "$root/scripts/fuzz.sh" 10
fi

echo "[test] ===== summary"
if [ -f "$ctest_log" ]; then
  sed -n '/tests passed, /,$p' "$ctest_log"
fi
for line in "${results[@]}"; do echo "[test] $line"; done
exit "$failed"
