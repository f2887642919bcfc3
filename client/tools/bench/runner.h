// Runner: carries out one RunConfig from start to finish and collects every figure of it.
//
// For a run against a daemon it: measures the floor for the run's W first (once per W, unless
// floors are off), starts a fresh daemon (unless an external address is given), creates the
// specs, pre-loads the backlog plus a reserve the run is expected to consume (see
// Environment::reserve_rate; so the queue never holds fewer than `backlog` units while it is
// measured; if a run consumes faster, a top-up adds more and the result says how many), opens the
// idle connections (a settled run first waits until the daemon is idle: RunConfig::settle),
// runs the workload while sampling the daemon's RSS, then measures the data
// directory and, when asked, the restart time after kill -9. Every result, floors included, goes to
// the `emit` callback as soon as it exists.
//
// Not thread-safe; one Runner per process.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "run_config.h"
#include "workload.h"

namespace coordinate::bench {

struct Environment {
  std::string external_address;  // non-empty: use this daemon, launch nothing
  std::string daemon_binary;     // the coordinated to launch
  std::vector<std::string> daemon_args;
  int floor_threads = 2;  // io threads of the floor server (daemon default: 2)
  bool floors = true;     // measure the floor for each W and print ratios to it
  // Units/s a do run may consume, pre-loaded beyond the backlog. 0: 30,000 (K=1) or 60,000
  // (K>1), or 1.5 x the fastest do run of this invocation with the same kind of K if higher.
  double reserve_rate = 0;
  int loaders = 4;  // connections that pre-load the backlog
};

struct RunResult {
  RunConfig config;
  std::string label;
  coordinated::Status status;  // set when the run could not be carried out
  WorkloadResult work;
  uint64_t preloaded = 0;  // units queued before the measurement
  uint64_t topped_up = 0;  // units added during the measurement to keep the backlog
  std::optional<double> floor_rt_per_second;  // the floor for the same W
  std::optional<uint64_t> rss_max_bytes;      // launched daemon only
  std::optional<uint64_t> disk_bytes;         // data directory, as found (no compaction)
  uint64_t raw_bytes = 0;                     // key + encoded data bytes of every unit added
  std::optional<double> restart_seconds;      // kill -9 until ready and a first call answered
  std::optional<double> settle_seconds;       // waited for the daemon to go idle (settle)

  // Round trips per second and its ratio to the floor (nullopt without a floor).
  double rt_per_second() const;
  std::optional<double> ratio_to_floor() const;
};

class Runner {
 public:
  Runner(Environment env, std::function<void(const RunResult&)> emit);

  // Runs one configuration (and the floor for its W first, if not yet measured).
  RunResult Run(const RunConfig& config);

 private:
  // The floor's round trips per second for `workers`, measuring and emitting it on first use.
  std::optional<double> FloorFor(int workers, double duration);
  RunResult RunFloor(const RunConfig& config);
  RunResult RunAgainstDaemon(const RunConfig& config);
  uint64_t Reserve(const RunConfig& config) const;

  Environment env_;
  std::function<void(const RunResult&)> emit_;
  std::map<int, double> floors_;  // W -> round trips per second
  double fastest_[2] = {0, 0};    // units/s of the fastest do run so far: K=1, K>1
};

}  // namespace coordinate::bench
