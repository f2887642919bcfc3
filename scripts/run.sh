#!/usr/bin/env bash
# Builds coordinated (release) and runs it in the foreground: data in ./coordinate-data,
# listening on 127.0.0.1:5932, logging to stderr. Extra arguments go to coordinated
# (e.g. scripts/run.sh --port 6000 --log-level debug).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
cmake --preset release -S "$root" >/dev/null
cmake --build "$root/build/release" --target coordinated
exec "$root/build/release/src/daemon/coordinated" "$@"
