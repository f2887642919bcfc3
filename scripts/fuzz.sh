#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang + ASan/UBSan and fuzzes them. Every
# project library is built with coverage instrumentation (-fsanitize=fuzzer-no-link), so the
# fuzzer is guided by the code under test, not only by the target file.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET]   (runnable from any directory)
#   SECONDS  time per target (default 60)
#   TARGET   one of: cbor_decode_fuzz frame_reader_fuzz record_decode_fuzz dispatcher_fuzz
#            config_fuzz (default: all, one after the other)
#
# The seed corpus tests/fuzz/corpus/<target> is only read; inputs the fuzzer finds go to
# build/fuzz/corpus/<target> and crash reproducers to build/fuzz/artifacts/<target>/. Each
# target's libFuzzer output goes to build/fuzz/logs/<target>.log; the script prints one line per
# target (runs, coverage, corpus size) and the end of the log when the target failed.
# Exits non-zero if any target found a crash.
set -euo pipefail

targets=(cbor_decode_fuzz frame_reader_fuzz record_decode_fuzz dispatcher_fuzz config_fuzz)

usage() {
  echo "usage: $0 [SECONDS] [TARGET]   TARGET: ${targets[*]}" >&2
  exit 2
}

seconds="${1:-60}"
[[ "${seconds}" =~ ^[0-9]+$ ]] || usage
if [[ $# -ge 2 ]]; then
  found=0
  for t in "${targets[@]}"; do [[ "$t" == "$2" ]] && found=1; done
  [[ ${found} -eq 1 ]] || usage
  targets=("$2")
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${root}/build/fuzz"

launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="${root}"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S "${root}" -B "${build}" -G Ninja \
  -DCMAKE_CXX_COMPILER=clang++ \
  -DCOORD_FUZZ=ON \
  -DCOORD_BUILD_BENCH=OFF \
  -DCOORD_BUILD_TESTS=ON \
  -DCOORD_SANITIZE=address,undefined \
  -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link \
  -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link \
  "${launcher[@]}"
cmake --build "${build}" -j "$(nproc)" --target "${targets[@]}"

# The cbor target's seeds predate the corpus/<target> naming.
seed_dir() {
  if [[ "$1" == cbor_decode_fuzz ]]; then echo "${root}/tests/fuzz/corpus/cbor"; else
    echo "${root}/tests/fuzz/corpus/$1"; fi
}

failed=()
mkdir -p "${build}/logs"
for t in "${targets[@]}"; do
  work_corpus="${build}/corpus/${t}"
  artifacts="${build}/artifacts/${t}"
  log="${build}/logs/${t}.log"
  mkdir -p "${work_corpus}" "${artifacts}"
  if "${build}/tests/fuzz/${t}" \
      -max_total_time="${seconds}" \
      -timeout=10 \
      -rss_limit_mb=2048 \
      -print_final_stats=1 \
      -artifact_prefix="${artifacts}/" \
      "${work_corpus}" "$(seed_dir "${t}")" >"${log}" 2>&1; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "${log}")"
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "${log}" | tail -1)"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"${done_line}")"
    corp="$(sed -n 's/.* corp: \([0-9]*\/[^ ]*\).*/\1/p' <<<"${done_line}")"
    echo "${t}: ok, ${seconds} s, ${runs:-?} runs, ${cov:-?} edges, corpus ${corp:-?} (${log})"
  else
    echo "${t}: FAILED (${log}):"
    tail -60 "${log}"
    failed+=("${t}")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "crashes found in: ${failed[*]} (reproducers in ${build}/artifacts/)" >&2
  exit 1
fi
