// DaemonProcess: runs a coordinated the bench owns, in a fresh temporary directory.
//
// Start() forks and executes `binary` with --host 127.0.0.1 --port 0 --no-http, a data
// directory and a ready file inside the temporary directory, --no-sync when sync is off, and the
// extra arguments; it returns once the ready file names the address (at most 120 s). The
// daemon's output goes to daemon.log in the temporary directory, whose tail is part of every
// start-up error.
//
// KillAndRestart() is the crash test: SIGKILL the process this object started, start it again
// on the same data directory, and time from the new start until the ready file appears and a
// first call (count_work_units of `probe_spec`) succeeds.
//
// Only the process this object started is ever signalled, by its PID. The destructor kills it
// (if still running) and removes the temporary directory; the daemon is also started with
// PR_SET_PDEATHSIG, so it dies with an interrupted bench (whose temporary directory then stays
// behind in $TMPDIR as coordinate-bench-*).
//
// Thread-safety: pid() may be read from any thread (the RSS sampler); everything else from the
// owning thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace coordinate::bench {

struct DaemonConfig {
  std::string binary;
  bool sync = true;
  std::vector<std::string> extra_args;  // passed through (e.g. --set server.threads=4)
};

class DaemonProcess {
 public:
  explicit DaemonProcess(DaemonConfig config);
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  coordinated::Status Start();
  // SIGKILL, restart on the same data directory; seconds from the restart until ready and a
  // first call answered.
  coordinated::StatusOr<double> KillAndRestart(const std::string& probe_spec);
  // SIGKILL and reap (no-op when not running).
  void Kill();

  pid_t pid() const { return pid_.load(); }
  const std::string& address() const { return address_; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  coordinated::Status Spawn();
  coordinated::Status WaitReady(double timeout_seconds);
  std::string LogTail() const;

  DaemonConfig config_;
  std::string dir_;  // the temporary directory (owned)
  std::string data_dir_, ready_file_, log_file_;
  std::atomic<pid_t> pid_{-1};
  std::string address_;
};

// Resident set size of a process (VmRSS in /proc/PID/status), in bytes; nullopt when unknown.
std::optional<uint64_t> ResidentBytes(pid_t pid);

// Samples the RSS of the process the daemon currently runs as, every `period_seconds`, from
// construction until Stop() (or destruction), and keeps the maximum.
class RssSampler {
 public:
  explicit RssSampler(const DaemonProcess* daemon, double period_seconds = 0.1);
  ~RssSampler();
  void Stop();
  uint64_t max_bytes() const { return max_.load(); }

 private:
  const DaemonProcess* daemon_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> max_{0};
  std::thread thread_;
};

// CPU seconds (user + system) the process has used so far; nullopt once it is gone.
std::optional<double> CpuSeconds(pid_t pid);

// Waits until the daemon uses less than 2% of a core over each of two consecutive one-second
// windows (its flushes and compactions done), for at most `max_seconds`. Returns the seconds
// waited; Unavailable when it was still busy at the end (or is gone).
coordinated::StatusOr<double> WaitUntilIdle(const DaemonProcess& daemon, double max_seconds);

// Bytes a directory tree occupies on disk (allocated blocks, as `du` counts them).
uint64_t DiskUsageBytes(const std::string& dir);

}  // namespace coordinate::bench
