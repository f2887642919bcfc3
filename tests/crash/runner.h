// CrashRun: the kill / restart / check loop of coordinate-crash.
//
// Each round: the actors run against the daemon; the daemon dies (SIGKILL after a random delay,
// or at an armed crash point); the actors stop (calls in flight end unknown); on chosen rounds
// `coordinate-admin check --data-dir` runs on the dead daemon's store; the daemon restarts on
// the same data directory (time to the ready file and to the first served call is measured);
// the state is read back, the daemon's `check` RPC runs, and the checker compares the state
// with the whole history. A round with violations ends the run: its history is written to
// history.log in the work directory, which is kept.
#pragma once

#include <cstdint>
#include <string>

#include "checker.h"
#include "crash_plan.h"
#include "daemon_process.h"
#include "figures.h"
#include "history.h"
#include "workload.h"

namespace crashtest {

struct RunOptions {
  std::string daemon;    // coordinated
  std::string admin;     // coordinate-admin ("" skips the offline check)
  std::string work_dir;  // "" -> a fresh directory under $TMPDIR
  int iterations = 20;
  uint64_t seed = 1;
  bool sync = true;
  bool crash_points = false;
  bool require_all_points = false;
  double min_run = 0.2;  // seconds before a blackbox kill: uniform in [min_run, max_run]
  double max_run = 2.0;
  double point_run = 5.0;       // longest wait for an armed crash point
  int offline_check_every = 0;  // also every Nth round (round 1 always)
  bool keep = false;            // keep the work directory even on success
  std::string report;           // JSON report path
  CheckOptions check;
  WorkloadOptions workload;
};

// Runs the whole thing; returns the process exit code (0: every check passed).
int RunCrashTest(RunOptions options);

}  // namespace crashtest
