# Sourced by scripts that start coordinated with --ready-file (soak.sh, instructions.sh).
#
#   wait_ready PID READY_FILE LOG SECONDS
#
# Waits until the daemon PID has written its address to READY_FILE and prints the address.
# When the daemon exits first, or SECONDS pass, prints LOG to stderr and returns 1.
wait_ready() {
  local pid="$1" ready="$2" log="$3" deadline=$((SECONDS + $4))
  while [ ! -s "$ready" ]; do
    if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "coordinated (pid $pid) did not become ready; its log:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.05
  done
  cat "$ready"
}
