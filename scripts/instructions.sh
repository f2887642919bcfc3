#!/usr/bin/env bash
# Instructions the daemon executes per unit of work, counted by valgrind's callgrind: a figure
# that, unlike throughput, barely moves when other work shares the machine, so two builds can
# be compared on a noisy 2-core host.
#
#   scripts/instructions.sh [--k K] [--workers W] [--seconds S] [--units N] [DAEMON...]
#
# For each DAEMON binary (default: build/release/src/daemon/coordinated) it starts the daemon
# under callgrind on 127.0.0.1 port 0 with a fresh data directory, adds N units (default 20,000)
# in batches of 1,000, then counts only while `coordinate-bench do` runs W workers (default 16)
# claiming K units per get_work (default 1) and finishing them for S seconds (default 8), and
# prints one line: units handled, user-space instructions per unit (all daemon threads: network,
# state, commit, RocksDB background) and instructions per added unit. Kernel time is not
# counted. Requires valgrind (apt-get install valgrind).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/wait-ready.sh"
k=1
workers=16
seconds=8
units=20000
daemons=()
while [ $# -gt 0 ]; do
  case "$1" in
    --k) k="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --units) units="$2"; shift 2 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) daemons+=("$1"); shift ;;
  esac
done
build="${BUILD_DIR:-$root/build/release}"
bench="$build/client/coordinate-bench"
[ ${#daemons[@]} -gt 0 ] || daemons=("$build/src/daemon/coordinated")
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
[ -x "$bench" ] || { echo "no $bench: build the release tree first" >&2; exit 2; }

# Total instructions (Ir) of a callgrind output file.
total() { awk '/^(summary|totals):/ {print $2}' "$1" | tail -1; }

for daemon in "${daemons[@]}"; do
  work="$(mktemp -d)"
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
    "$daemon" --host 127.0.0.1 --port 0 --no-http --data-dir "$work/data" \
    --ready-file "$work/ready" >"$work/daemon.log" 2>&1 &
  pid=$!
  addr="$(wait_ready "$pid" "$work/ready" "$work/daemon.log" 60)"  # slow under valgrind
  callgrind_control -z "$pid" >/dev/null 2>&1  # count from here
  "$bench" --addr "$addr" --no-floor add --count "$units" --batch 1000 >/dev/null
  callgrind_control -d "$pid" >/dev/null 2>&1  # part 1: the adds
  out="$("$bench" --addr "$addr" --no-floor do --workers "$workers" --batch "$k" \
    --duration "$seconds" | tail -1)"
  callgrind_control -d "$pid" >/dev/null 2>&1  # part 2: the claims and finishes
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  done_units="$(echo "$out" | grep -o '[0-9]* units/s' | cut -d' ' -f1)"
  add_ir="$(total "$work/cg.out.1")"
  do_ir="$(total "$work/cg.out.2")"
  python3 - "$daemon" "$k" "$workers" "$seconds" "$units" "$done_units" "$add_ir" "$do_ir" <<'PY'
import sys
daemon, k, w, secs, added, rate, add_ir, do_ir = sys.argv[1:]
done = float(rate) * float(secs)
print("%s: do W=%s K=%s: %d units, %d instructions/unit; add: %d instructions/unit" % (
    daemon, w, k, done, int(do_ir) / max(done, 1), int(add_ir) / int(added)))
PY
  rm -rf "$work"
done
