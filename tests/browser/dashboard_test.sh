#!/usr/bin/env bash
# End-to-end test of the status page in a real browser (headless Chromium).
#
#   tests/browser/dashboard_test.sh PATH/TO/coordinated
#
# Starts coordinated on ephemeral ports (127.0.0.1 only) with a fresh data directory, loads a
# known state through CBOR-RPC with a tiny Python client (python3-cbor2), lets Chromium render
# http://127.0.0.1:PORT/ (the page's JavaScript fetches /api and builds the DOM), and checks the
# rendered DOM for the right numbers: counts per spec and status, paused state, the worker and
# its lease, the failure with its traceback, the version, and that action buttons appear only
# with http.allow_actions. Saves a screenshot to $DASHBOARD_SCREENSHOT (default:
# <build dir>/dashboard.png, the build dir being the one that holds the binary).
#
# Exit codes: 0 pass, 1 fail, 77 skipped (no chromium, or no python3-cbor2). Installed by
# scripts/install-deps.sh (package `chromium`).
set -euo pipefail

bin="${1:?usage: dashboard_test.sh PATH/TO/coordinated}"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
build_dir="$(cd "$(dirname "$bin")/../.." && pwd)"
screenshot="${DASHBOARD_SCREENSHOT:-$build_dir/dashboard.png}"
python=/usr/bin/python3

chromium=""
for c in chromium chromium-browser google-chrome; do
  if command -v "$c" >/dev/null 2>&1; then chromium="$(command -v "$c")"; break; fi
done
if [ -z "$chromium" ]; then
  echo "SKIP: chromium is not installed (apt-get install chromium)" >&2
  exit 77
fi
if ! "$python" -c 'import cbor2' 2>/dev/null; then
  echo "SKIP: python3-cbor2 is not installed" >&2
  exit 77
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/dashboard-test.XXXXXX")"
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [ -f "$work/daemon.log" ]; then
    echo "--- daemon log ---" >&2
    tail -n 30 "$work/daemon.log" >&2
  fi
  exit 1
}

# start_daemon EXTRA_ARGS...: starts coordinated and sets rpc_addr and http_addr.
start_daemon() {
  rm -f "$work/ready" "$work/ready.http"
  "$bin" --host 127.0.0.1 --port 0 --http-host 127.0.0.1 --http-port 0 \
    --data-dir "$work/data" --ready-file "$work/ready" --no-sync --enable-test-hooks "$@" \
    >>"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 1 500); do
    if [ -s "$work/ready" ]; then break; fi
    kill -0 "$daemon_pid" 2>/dev/null || fail "coordinated exited during start-up"
    sleep 0.02
  done
  [ -s "$work/ready" ] || fail "coordinated did not become ready"
  [ -s "$work/ready.http" ] || fail "no HTTP ready file $work/ready.http"
  rpc_addr="$(cat "$work/ready")"
  http_addr="$(cat "$work/ready.http")"
}

stop_daemon() {
  kill -TERM "$daemon_pid"
  wait "$daemon_pid" || fail "coordinated did not stop cleanly"
  daemon_pid=""
}

# chrome ARGS...: one headless run with a throw-away profile.
chrome() {
  local profile
  profile="$(mktemp -d "$work/profile.XXXXXX")"
  timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --disable-dev-shm-usage \
    --user-data-dir="$profile" "$@" 2>>"$work/chromium.log"
}

# The state the page must show:
#   ingest: 6 units; worker-1 leases 3: finishes one, fails one (with a traceback), holds one.
#           -> available 3, pending 1, finished 1, failed 1
#   render: 4 units, paused -> available 4
load_data() {
  "$python" - "$rpc_addr" <<'PY'
import socket
import sys

import cbor2

host, port = sys.argv[1].rsplit(":", 1)
sock = socket.create_connection((host, int(port)), timeout=10)
reader = sock.makefile("rb")
next_id = 0


def call(method, *params):
    global next_id
    next_id += 1
    msg = {b"id": next_id, b"method": method.encode(), b"params": list(params)}
    sock.sendall(cbor2.dumps(cbor2.CBORTag(24, cbor2.dumps(msg))))
    reply = cbor2.load(reader)
    if isinstance(reply, cbor2.CBORTag) and reply.tag == 24:
        reply = cbor2.loads(reply.value)
    if b"error" in reply:
        raise SystemExit("%s failed: %r" % (method, reply[b"error"]))
    return reply[b"result"]


call("set_work_spec", {b"name": b"ingest"})
call("set_work_spec", {b"name": b"render"})
call("add_work_units", b"ingest", [[b"file-%02d" % i, {b"n": i}] for i in range(6)])
call("add_work_units", b"render", [[b"frame-%02d" % i, {b"n": i}] for i in range(4)])
call("control_work_spec", b"render", {b"status": 2})
call("worker_heartbeat", b"worker-1", b"RUN", 600, {b"host": b"build-box"}, None)
got = call("get_work", b"worker-1", {b"max_jobs": 3, b"lease_time": 900, b"work_spec_names": [b"ingest"]})
call("update_work_unit", b"ingest", b"file-00", {b"status": 4})
tb = (b"Traceback (most recent call last):\n  File \"job.py\", line 7, in run\n"
      b"    parse(unit)\nValueError: bad input in file-01")
call("update_work_unit", b"ingest", b"file-01", {b"status": 5, b"data": {b"traceback": tb}})
# The daemon's clock moves 90 s on: every available unit has waited that long.
call("_test_advance_clock", 90)
PY
}

version="$("$bin" --version | tr -d '[:space:]')"
[ -n "$version" ] || fail "coordinated --version printed nothing"

# ---- read-only (the default) ----------------------------------------------------------------
start_daemon
load_data || fail "loading data over CBOR-RPC failed"
url="http://$http_addr/"
chrome --virtual-time-budget=5000 --dump-dom "$url" >"$work/dom.html" || fail "chromium failed: $(tail -5 "$work/chromium.log")"
[ -s "$work/dom.html" ] || fail "chromium produced an empty DOM"

errors=0
expect() {  # expect DESCRIPTION REGEX
  if ! grep -Eq -- "$2" "$work/dom.html"; then
    echo "FAIL: the page does not show $1 (pattern: $2)" >&2
    errors=$((errors + 1))
  fi
}
expect_not() {
  if grep -Eq -- "$2" "$work/dom.html"; then
    echo "FAIL: the page shows $1 (pattern: $2)" >&2
    errors=$((errors + 1))
  fi
}
expect "the live connection state" 'id="conn" class="meta ok">live<'
expect "the version" "id=\"version\">${version//./\\.}"
expect "ingest available 3" 'data-spec="ingest" data-status="available">3<'
expect "ingest pending 1" 'data-spec="ingest" data-status="pending">1<'
expect "ingest finished 1" 'data-spec="ingest" data-status="finished">1<'
expect "ingest failed 1" 'data-spec="ingest" data-status="failed">1<'
expect "ingest blocked 0" 'data-spec="ingest" data-status="blocked">0<'
expect "render available 4" 'data-spec="render" data-status="available">4<'
expect "render finished 0" 'data-spec="render" data-status="finished">0<'
expect "render paused" 'data-spec="render" data-field="paused">paused<'
expect "ingest running" 'data-spec="ingest" data-field="paused">running<'
expect "a throughput figure" 'data-spec="ingest" data-field="rate">[^<]+<'
expect "a sparkline" '<svg class="spark"'
expect "total specs 2" 'id="total-specs">2<'
expect "total available 7" 'id="total-available">7<'
expect "total finished 1" 'id="total-finished">1<'
expect "total failed 1" 'id="total-failed">1<'
expect "one active worker" 'id="total-workers">1<'
expect "ingest oldest waiting 1m 30s" 'data-spec="ingest" data-field="oldest">1m 3[0-9]s<'
expect "oldest waiting overall" 'id="total-oldest">1m 3[0-9]s<'
expect "worker-1 with its lease" 'data-worker="worker-1" data-field="leases">1<'
expect "the leased unit" 'ingest / file-02'
expect "the failed unit" 'data-failure="ingest/file-01"'
expect "the traceback" 'ValueError: bad input in file-01'
expect "uptime" 'id="uptime">[0-9]+[smhd]'
expect "storage" 'id="storage">[0-9.]+ (B|KiB|MiB|GiB)<'
expect_not "action buttons in read-only mode" 'data-action='
expect_not "an error banner" 'id="error" style="display: block'

# The screenshot, for people (and the report).
chrome --virtual-time-budget=5000 --hide-scrollbars --window-size=1280,900 \
  --screenshot="$screenshot" "$url" >/dev/null || fail "chromium could not take a screenshot"
[ -s "$screenshot" ] || fail "no screenshot written to $screenshot"
echo "screenshot: $screenshot"
stop_daemon

# ---- with actions enabled --------------------------------------------------------------------
start_daemon --set http.allow_actions=true
chrome --virtual-time-budget=5000 --dump-dom "http://$http_addr/" >"$work/dom.html" || fail "chromium failed"
expect "pause/resume buttons" 'data-action="(pause|resume)"'
expect "a retry button for the failure" 'data-action="retry"'
expect "the same counts after a restart" 'data-spec="ingest" data-status="finished">1<'
actions_shot="${screenshot%.png}-actions.png"
chrome --virtual-time-budget=5000 --hide-scrollbars --window-size=1280,900 \
  --screenshot="$actions_shot" "http://$http_addr/" >/dev/null || true
stop_daemon

if [ "$errors" -ne 0 ]; then
  cp "$work/dom.html" "$build_dir/dashboard-dom.html" 2>/dev/null || true
  fail "$errors check(s) failed; DOM saved to $build_dir/dashboard-dom.html"
fi
echo "PASS: dashboard renders the daemon's state"
