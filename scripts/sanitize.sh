#!/usr/bin/env bash
# Builds the unit and integration suites under a sanitizer and runs them.
#
#   scripts/sanitize.sh asan [GTEST_FILTER]   # ASan + UBSan (build/asan)
#   scripts/sanitize.sh tsan [GTEST_FILTER]   # ThreadSanitizer (build/tsan)
#
# GTEST_FILTER narrows the integration tests (default: all of them); COORD_SANITIZE_UNITS
# names the unit suites to run (default: "common storage scheduler rpc daemon"). The daemon the
# integration tests start is the instrumented one, so a report from it fails the run too:
# every sanitizer report is written under build/<preset>/sanitizer-logs/ and any file there
# fails the script. RocksDB comes from Debian's uninstrumented library; tests/tsan.supp lists
# the reports that only reflect that. Uses ccache when it is installed. The last line says
# whether everything passed and how long the build and the run took.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
preset="${1:-}"
filter="${2:-*}"
case "$preset" in
  asan | tsan) ;;
  *) echo "usage: $0 asan|tsan [GTEST_FILTER]" >&2; exit 2 ;;
esac
build="$root/build/$preset"
logs="$build/sanitizer-logs"

launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$root"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
t0=$SECONDS
cmake --preset "$preset" -S "$root" "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)" --target common_tests storage_tests scheduler_tests \
  rpc_tests daemon_tests integration_tests coordinated coordinate-admin
build_s=$((SECONDS - t0))
rm -rf "$logs"
mkdir -p "$logs"
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1"
export TSAN_OPTIONS="log_path=$logs/tsan:suppressions=$root/tests/tsan.supp:second_deadlock_stack=1"

t0=$SECONDS
status=0
failed=()
for t in ${COORD_SANITIZE_UNITS:-common storage scheduler rpc daemon}; do
  echo "== ${t}_tests ($preset)"
  (cd "$build/tests" && "./${t}_tests" --gtest_brief=1) || { status=1; failed+=("${t}_tests"); }
done
echo "== integration_tests ($preset, filter $filter)"
(cd "$build/tests" && ./integration_tests --gtest_brief=1 --gtest_filter="$filter") ||
  { status=1; failed+=(integration_tests); }

if compgen -G "$logs/*" >/dev/null; then
  echo "sanitizer reports:" >&2
  for f in "$logs"/*; do
    echo "--- $f" >&2
    head -40 "$f" >&2
  done
  status=1
  failed+=("$(find "$logs" -type f | wc -l) sanitizer report(s)")
fi
run_s=$((SECONDS - t0))
if [ "$status" -eq 0 ]; then
  echo "$preset: all suites passed, no sanitizer reports (build ${build_s} s, run ${run_s} s)"
else
  echo "$preset: FAILED: ${failed[*]} (build ${build_s} s, run ${run_s} s)"
fi
exit "$status"
