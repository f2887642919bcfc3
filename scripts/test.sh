#!/usr/bin/env bash
# Installs dependencies, builds everything from scratch (release build with tests) and runs
# every test suite with CTest. Prints CTest's summary; exits non-zero when anything fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
cmake --preset release -S "$root"
cmake --build "$root/build/release" -j "$(nproc)"
cd "$root/build/release"
ctest --output-on-failure -j "$(nproc)" --timeout 600
