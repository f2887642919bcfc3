// coordinate-crash: kill -9 coordinated under load, restart it, check every acknowledged change.
// See runner.h for the loop, checker.h for what is checked and docs/testing.md for how to run it.
#include <CLI/CLI.hpp>
#include <random>
#include <string>

#include "runner.h"

int main(int argc, char** argv) {
  crashtest::RunOptions o;
  std::string sync = "on";
  uint64_t seed = 0;
  CLI::App app{"coordinate-crash: SIGKILL coordinated under load, restart it, check the history"};
  app.add_option("--daemon", o.daemon, "path of coordinated")->required();
  app.add_option("--admin", o.admin, "path of coordinate-admin (offline check on round 1)");
  app.add_option("--iterations,-n", o.iterations, "kill / restart cycles")->capture_default_str();
  app.add_option("--seed", seed, "random seed (0: pick one and print it)");
  app.add_option("--sync", sync, "on: acknowledge after fsync (default); off: --no-sync")
      ->check(CLI::IsMember({"on", "off"}));
  app.add_flag("--crash-points", o.crash_points,
               "every second round dies at a whitebox crash point (test-hook builds)");
  app.add_flag("--require-all-points", o.require_all_points,
               "fail unless every crash point fired at least once");
  app.add_option("--min-run", o.min_run, "shortest run before a kill (s)")->capture_default_str();
  app.add_option("--max-run", o.max_run, "longest run before a kill (s)")->capture_default_str();
  app.add_option("--point-run", o.point_run, "longest wait for an armed crash point (s)")
      ->capture_default_str();
  app.add_option("--producers", o.workload.producers, "producer threads")->capture_default_str();
  app.add_option("--workers", o.workload.workers, "worker threads")->capture_default_str();
  app.add_option("--lease", o.workload.lease_seconds, "get_work lease (s, >= 1)")
      ->capture_default_str();
  app.add_option("--lock-timeout", o.workload.lock_timeout, "lock timeout (whole s)")
      ->capture_default_str();
  app.add_option("--margin", o.check.margin, "clock margin for lease and lock checks (s)")
      ->capture_default_str();
  app.add_option("--offline-check-every", o.offline_check_every,
                 "also run the offline check every N rounds (0: round 1 only)");
  app.add_option("--work-dir", o.work_dir, "data dir, logs and history go here (default: temp)");
  app.add_flag("--keep", o.keep, "keep the work directory on success");
  app.add_option("--report", o.report, "write the figures as JSON here");
  CLI11_PARSE(app, argc, argv);
  o.sync = sync == "on";
  o.seed = seed != 0 ? seed : (std::random_device{}() | 1);
  o.workload.seed = o.seed;
  return crashtest::RunCrashTest(o);
}
