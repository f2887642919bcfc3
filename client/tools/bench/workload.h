// The workloads: each drives W connections (one thread each, the same coordinate::Client the
// rest of the project uses) for a duration and reports what it measured.
//
//   floor  against the in-process FloorServer: get_work then update_work_unit, the two calls of
//          a `do` cycle, answered trivially (see floor_server.h).
//   add    add_work_units calls of `batch` units each, specs taken in turn.
//   do     get_work(max_jobs K) then one finish for what it got: update_work_unit(status 4) for
//          one unit, a batch request of K update_work_unit calls for more.
//   mixed  per cycle get_work(1), a lease renewal (update_work_unit lease_time 300), a status read
//          (get_work_unit_status), a finish; every 8th cycle also adds 8 units, so adds balance
//          what is consumed.
//
// A round trip is one request and its reply (a batch request counts once). Latencies are kept
// per call kind: "get_work", "finish", "add", "renew", "status".
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "backlog.h"
#include "run_config.h"
#include "stats.h"

namespace coordinate::bench {

struct WorkloadResult {
  double seconds = 0;
  uint64_t round_trips = 0;
  uint64_t cycles = 0;  // do/mixed/floor: claim..finish cycles that got work
  uint64_t units = 0;   // do: units finished; add: units added
  uint64_t empty = 0;   // get_work replies without work (the queue ran dry)
  uint64_t errors = 0;  // failed calls
  std::string first_error;
  std::map<std::string, LatencySummary> latencies;
};

// Thread-safe tally the worker threads add to when they stop.
class Tally {
 public:
  void Add(uint64_t round_trips, uint64_t cycles, uint64_t units, uint64_t empty);
  void Error(const std::string& what);
  void Merge(const std::string& op, const Latencies& samples) { latencies_.Merge(op, samples); }
  WorkloadResult Finish(double seconds);

 private:
  std::atomic<uint64_t> round_trips_{0}, cycles_{0}, units_{0}, empty_{0}, errors_{0};
  std::mutex mu_;
  std::string first_error_;
  OpLatencies latencies_;
};

// Everything a workload against a daemon needs.
struct WorkloadContext {
  const RunConfig* config = nullptr;
  Backlog* backlog = nullptr;
  // Units finished so far (read by the backlog top-up while the workload runs).
  std::atomic<uint64_t>* consumed = nullptr;
};

WorkloadResult RunFloor(const RunConfig& config, const std::string& floor_address);
WorkloadResult RunAdd(const WorkloadContext& ctx);
WorkloadResult RunDo(const WorkloadContext& ctx);
WorkloadResult RunMixed(const WorkloadContext& ctx);

// get_work parameters: (worker, {max_jobs, lease_time 300[, work_spec_names [spec]]}); the
// names are sent only when the run has one spec, so with more the daemon chooses among all.
coordinated::Value GetWorkParams(const Value& worker, int max_jobs, const Backlog& backlog);
// The (spec, key, data) grants in a get_work reply (empty when there was no work).
std::vector<std::vector<Value>> Grants(const Value& reply, int max_jobs);

}  // namespace coordinate::bench
