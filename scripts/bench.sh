#!/usr/bin/env bash
# Runs the standard benchmark matrix (coordinate-bench matrix, docs/performance.md) against a
# release build and writes bench-results.txt in the repository root: a header (date, uname -a,
# CPU model, nproc, git commit), then one line per run.
#
#   scripts/bench.sh                    # the standard matrix (about 5 minutes on 2 cores)
#   scripts/bench.sh --duration 3       # shorter runs
#   scripts/bench.sh --big              # also the 10-million-unit backlog
#   scripts/bench.sh --only sync=on --only w=64   # a part of the matrix
#
# Every argument is passed to `coordinate-bench matrix`. BUILD_DIR overrides the build tree
# (default build/release, configured with `cmake --preset release` when missing); OUT overrides
# the output file. The bench's exit status is the script's.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build/release}"
out="${OUT:-$root/bench-results.txt}"

if [ ! -f "$build/build.ninja" ] && [ ! -f "$build/Makefile" ]; then
  if [ -n "${BUILD_DIR:-}" ]; then
    echo "bench.sh: $build is not a configured build tree" >&2
    exit 2
  fi
  (cd "$root" && cmake --preset release)
fi
cmake --build "$build" --target coordinated coordinate-bench

cpu="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)"
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit (with uncommitted changes)"
fi
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null)"

tmp="$(mktemp "${out}.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
{
  echo "# coordinate-bench matrix $*"
  echo "# date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "# uname:   $(uname -a)"
  echo "# cpu:     ${cpu:-unknown}"
  echo "# nproc:   $(nproc)"
  echo "# commit:  $commit"
  echo "# build:   ${build_type:-unknown} ($build)"
} > "$tmp"
cat "$tmp"
status=0
"$build/client/coordinate-bench" matrix "$@" | tee -a "$tmp" || status=$?
mv "$tmp" "$out"
trap - EXIT
echo "bench.sh: wrote $out" >&2
exit "$status"
