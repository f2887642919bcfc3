#!/usr/bin/env bash
# Builds the libFuzzer targets with clang + ASan/UBSan and fuzzes the CBOR decoder.
#
# Usage: scripts/fuzz.sh [SECONDS]   (default 60; runnable from any directory)
#
# The seed corpus in tests/fuzz/corpus/cbor is only read; inputs the fuzzer finds go to
# build/fuzz/corpus/cbor and crash reproducers to build/fuzz/artifacts/.
set -euo pipefail

seconds="${1:-60}"
if ! [[ "${seconds}" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 [SECONDS]" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${root}/build/fuzz"

cmake -S "${root}" -B "${build}" -G Ninja \
  -DCMAKE_CXX_COMPILER=clang++ \
  -DCOORD_FUZZ=ON \
  -DCOORD_BUILD_BENCH=OFF \
  -DCOORD_BUILD_TESTS=ON \
  -DCOORD_SANITIZE=address,undefined \
  -DCMAKE_BUILD_TYPE=Debug
cmake --build "${build}" --target cbor_decode_fuzz

work_corpus="${build}/corpus/cbor"
artifacts="${build}/artifacts"
mkdir -p "${work_corpus}" "${artifacts}"

"${build}/tests/fuzz/cbor_decode_fuzz" \
  -max_total_time="${seconds}" \
  -print_final_stats=1 \
  -artifact_prefix="${artifacts}/" \
  "${work_corpus}" "${root}/tests/fuzz/corpus/cbor"
