#!/usr/bin/env bash
# Soak test: runs coordinated under a steady mixed load (adds, claims, renewals, status reads,
# finishes, with fresh connections every round) for --minutes N, samples the daemon's resident
# memory and open file descriptors every few seconds, and reports their slopes over the second
# half of the run (the first half is warm-up: caches and memtables fill). At the end the daemon
# is stopped with SIGTERM (it must exit 0) and `coordinate-admin check` runs on its data dir.
#
#   scripts/soak.sh --minutes 10 [--workers 64] [--round 30] [--sync on|off]
#
# Prints one line per sample and a summary; exits non-zero if the daemon dies, does not stop
# cleanly, or the store check finds a problem. Only 127.0.0.1 is used. BUILD_DIR overrides the
# build tree (default build/release).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/wait-ready.sh"
minutes=10
workers=64
round=30
sync=on
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --round) round="$2"; shift 2 ;;
    --sync) sync="$2"; shift 2 ;;
    *) echo "usage: $0 [--minutes N] [--workers W] [--round SECONDS] [--sync on|off]" >&2; exit 2 ;;
  esac
done

build="${BUILD_DIR:-$root/build/release}"
if [ ! -f "$build/CMakeCache.txt" ]; then (cd "$root" && cmake --preset release); fi
cmake --build "$build" --target coordinated coordinate-bench coordinate-admin >/dev/null
daemon="$build/src/daemon/coordinated"
bench="$build/client/coordinate-bench"
admin="$build/client/coordinate-admin"

work="$(mktemp -d)"
daemon_pid=""
sampler_pid=""
cleanup() {
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

flags=(--host 127.0.0.1 --port 0 --no-http --data-dir "$work/data" --ready-file "$work/ready")
[ "$sync" = off ] && flags+=(--no-sync)
"$daemon" "${flags[@]}" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
addr="$(wait_ready "$daemon_pid" "$work/ready" "$work/daemon.log" 10)"
echo "soak: coordinated pid $daemon_pid at $addr, $minutes min, W=$workers, sync $sync"

# Sampler: seconds since start, RSS in KiB, open fds, of which sockets, of which RocksDB table
# files (.sst: RocksDB keeps every table file of the store open, so their count follows the
# data, which grows by 20,000 units a round), data directory size in KiB.
(
  start=$(date +%s)
  while kill -0 "$daemon_pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$daemon_pid/status" 2>/dev/null || echo 0)
    links=$(find "/proc/$daemon_pid/fd" -mindepth 1 -printf '%l\n' 2>/dev/null || true)
    fds=$(printf '%s\n' "$links" | grep -c . || true)
    socks=$(printf '%s\n' "$links" | grep -c '^socket:' || true)
    ssts=$(printf '%s\n' "$links" | grep -c '\.sst$' || true)
    disk=$(du -sk "$work/data" 2>/dev/null | awk '{print $1}')
    echo "$(( $(date +%s) - start )) $rss $fds $socks $ssts ${disk:-0}" >>"$work/samples"
    sleep 5
  done
) &
sampler_pid=$!

deadline=$(( $(date +%s) + minutes * 60 ))
rounds=0
while [ "$(date +%s)" -lt "$deadline" ]; do
  kill -0 "$daemon_pid" 2>/dev/null || { echo "soak: FAIL: the daemon died" >&2; tail -20 "$work/daemon.log" >&2; exit 1; }
  "$bench" --addr "$addr" add --count 20000 --batch 1000 --payload 100 --first $((rounds * 20000)) \
    | sed 's/^/  /'
  "$bench" --addr "$addr" mixed --workers "$workers" --duration "$round" | sed 's/^/  /'
  rounds=$((rounds + 1))
  tail -1 "$work/samples" |
    awk '{printf "  t=%ss rss=%.1f MiB fds=%s (sockets %s, table files %s) data=%.0f MiB\n",
          $1, $2 / 1024, $3, $4, $5, $6 / 1024}'
done

kill "$sampler_pid" 2>/dev/null || true
sampler_pid=""
kill -TERM "$daemon_pid"
code=0
wait "$daemon_pid" || code=$?
daemon_pid=""
if [ "$code" -ne 0 ]; then
  echo "soak: FAIL: coordinated exited with $code after SIGTERM" >&2
  exit 1
fi

python3 - "$work/samples" "$rounds" <<'PY'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 6]
half = [r for r in rows if r[0] >= rows[-1][0] / 2] if rows else []
def slope(xs, ys):
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0
t = [r[0] / 60 for r in half]
print("soak: %s rounds, %d samples; RSS start %.1f MiB, max %.1f MiB, end %.1f MiB; "
      "fds start %d, max %d, end %d" % (
          sys.argv[2], len(rows), rows[0][1] / 1024, max(r[1] for r in rows) / 1024,
          rows[-1][1] / 1024, rows[0][2], max(r[2] for r in rows), rows[-1][2]))
print("soak: second half slopes: RSS %+.2f MiB/min, fds %+.2f /min (sockets %+.2f /min, "
      "table files %+.2f /min, other %+.2f /min), data %+.2f MiB/min" % (
    slope(t, [r[1] / 1024 for r in half]), slope(t, [r[2] for r in half]),
    slope(t, [r[3] for r in half]), slope(t, [r[4] for r in half]),
    slope(t, [r[2] - r[3] - r[4] for r in half]), slope(t, [r[5] / 1024 for r in half])))
PY

"$admin" --data-dir "$work/data" check
echo "soak: PASS (daemon stopped cleanly, store check clean)"
