#!/usr/bin/env bash
# Long crash test: builds coordinated, coordinate-admin and coordinate-crash (release preset by
# default) and runs N SIGKILL / restart / check cycles, every second one dying at a whitebox
# crash point (docs/testing.md).
#
# Usage: scripts/crash-test.sh [--iterations N] [--sync on|off] [--seed S] [--no-crash-points]
#                              [--build-dir DIR] [-- EXTRA coordinate-crash FLAGS]
#   --iterations N     kill cycles (default 100)
#   --sync on|off      acknowledge after fsync (default on) or run the daemon with --no-sync
#   --seed S           reproduce a run (default: a fresh seed, printed at the start)
#   --no-crash-points  blackbox kills only
#   --build-dir DIR    build tree to use (default build/release, configured with the release
#                      preset when missing; another DIR is configured as a Release build)
# The figures are printed and written as JSON to DIR/reports/crash-<time>.json. Exit status 0
# when every check passed; on a failure the work directory (data, daemon.log, history.log) is
# kept and its path printed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
iterations=100
sync=on
seed=0
points=1
build="${root}/build/release"
extra=()

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --iterations) iterations="${2:?}"; shift 2 ;;
    --sync) sync="${2:?}"; shift 2 ;;
    --seed) seed="${2:?}"; shift 2 ;;
    --no-crash-points) points=0; shift ;;
    --build-dir) build="$(cd "$(dirname "${2:?}")" && pwd)/$(basename "$2")"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done
[[ "${iterations}" =~ ^[0-9]+$ ]] || { echo "--iterations must be a number" >&2; exit 2; }
[[ "${sync}" == on || "${sync}" == off ]] || { echo "--sync must be on or off" >&2; exit 2; }

if [[ ! -f "${build}/CMakeCache.txt" ]]; then
  if [[ "${build}" == "${root}/build/release" ]]; then
    cmake --preset release -S "${root}"
  else
    cmake -S "${root}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release
  fi
fi
cmake --build "${build}" --target coordinated coordinate-admin coordinate-crash

args=(--daemon "${build}/src/daemon/coordinated" --admin "${build}/client/coordinate-admin"
      --iterations "${iterations}" --sync "${sync}" --seed "${seed}" --offline-check-every 25)
# Crash points exist only in builds with COORD_TEST_HOOKS (on by default).
if [[ "${points}" == 1 ]] && grep -q '^COORD_TEST_HOOKS:BOOL=ON' "${build}/CMakeCache.txt"; then
  args+=(--crash-points)
  if (( iterations >= 12 )); then args+=(--require-all-points); fi
fi
mkdir -p "${build}/reports"
args+=(--report "${build}/reports/crash-$(date +%Y%m%d-%H%M%S).json")
exec "${build}/tests/crash/coordinate-crash" "${args[@]}" "${extra[@]}"
