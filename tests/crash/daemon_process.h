// DaemonProcess: the coordinated child process the crash harness starts, kills and restarts.
//
// Always on 127.0.0.1 port 0 with one data directory; the bound address is read from a ready
// file. Crash points (src/common/crash_point.h) are armed per spawn through the child's
// environment. Only the child this object spawned is ever signalled, by its PID.
//
// Thread-safety: not thread-safe; owned by the harness's main thread. Spawn forks, so call it
// while no other harness thread runs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace crashtest {

using coordinated::Status;
using coordinated::StatusOr;

struct DaemonConfig {
  std::string binary;    // path of coordinated
  std::string data_dir;  // kept across restarts
  std::string work_dir;  // ready file and daemon.log live here
  bool sync = true;      // false: --no-sync
};

class DaemonProcess {
 public:
  explicit DaemonProcess(DaemonConfig config);
  ~DaemonProcess();  // SIGKILLs a child still running
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Starts the daemon; `crash_points` goes to COORDINATED_CRASH_POINTS (empty: none armed).
  // Its stdout and stderr are appended to daemon.log in the work directory.
  Status Spawn(const std::string& crash_points, uint64_t crash_seed);
  // Waits until the ready file names the bound address and returns it. kUnavailable when the
  // child exits first (see last_exit()) or after `timeout_seconds`.
  StatusOr<std::string> WaitReady(double timeout_seconds);
  // SIGKILL and reap (no-op when no child runs).
  void Kill();
  // SIGTERM (a clean shutdown) and wait up to `timeout_seconds`, then SIGKILL. True when the
  // daemon exited with status 0.
  bool Terminate(double timeout_seconds);
  // Reaps the child if it has exited; true when no child runs any more.
  bool Exited();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Steady-clock seconds at the last Spawn.
  double spawned_at() const { return spawned_at_; }
  // How the last child ended, e.g. "killed by signal 9" or "exited with status 2".
  const std::string& last_exit() const { return last_exit_; }
  bool last_died_by_sigkill() const { return last_sigkill_; }
  // What the daemon wrote since the last Spawn.
  std::string LogSinceSpawn() const;
  std::string log_path() const { return config_.work_dir + "/daemon.log"; }

 private:
  void Reaped(int status);

  DaemonConfig config_;
  pid_t pid_ = -1;
  double spawned_at_ = 0;
  uint64_t log_offset_ = 0;
  std::string last_exit_;
  bool last_sigkill_ = false;
};

// Steady-clock seconds (for durations).
double SteadyNow();

}  // namespace crashtest
