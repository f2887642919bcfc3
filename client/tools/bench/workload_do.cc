// The do workload: get_work(max_jobs K), then finish what was granted in one request.
#include <thread>
#include <utility>
#include <vector>

#include "worker_pool.h"
#include "workload.h"

namespace coordinate::bench {

WorkloadResult RunDo(const WorkloadContext& ctx) {
  const RunConfig& config = *ctx.config;
  const Backlog& backlog = *ctx.backlog;
  Tally tally;
  const int k = std::max(1, config.batch);
  const double seconds = RunWorkers(config.workers, config.duration, [&](int w, Gate& gate) {
    Client c(backlog.client_options());
    Status connected = c.Connect();
    gate.Arrive();
    if (!connected.ok()) return tally.Error(connected.ToString());
    const Value params = GetWorkParams(B("bench-" + std::to_string(w)), k, backlog);
    Latencies get_lat, fin_lat;
    uint64_t round_trips = 0, cycles = 0, units = 0, empty = 0;
    while (gate.running()) {
      auto t0 = Clock::now();
      auto reply = c.Call("get_work", params);
      get_lat.Add(SecondsSince(t0));
      ++round_trips;
      if (!reply.ok()) {
        tally.Error("get_work: " + reply.status().ToString());
        break;
      }
      std::vector<std::vector<Value>> grants = Grants(*reply, k);
      if (grants.empty()) {
        ++empty;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      std::vector<std::pair<std::string, Value>> finishes;
      finishes.reserve(grants.size());
      for (auto& t : grants) {
        finishes.emplace_back("update_work_unit", A({t[0], t[1], M({{"status", I(4)}})}));
      }
      auto t1 = Clock::now();
      std::vector<coordinated::StatusOr<Value>> replies;
      if (finishes.size() == 1) {
        replies.push_back(c.Call(finishes[0].first, finishes[0].second));
      } else {
        replies = c.Batch(finishes);
      }
      fin_lat.Add(SecondsSince(t1));
      ++round_trips;
      bool failed = false;
      for (auto& r : replies) {
        if (!r.ok()) {
          tally.Error("finish: " + r.status().ToString());
          failed = true;
        }
      }
      if (failed) break;
      ++cycles;
      units += grants.size();
      if (ctx.consumed) *ctx.consumed += grants.size();
    }
    tally.Add(round_trips, cycles, units, empty);
    tally.Merge("get_work", get_lat);
    tally.Merge("finish", fin_lat);
  });
  return tally.Finish(seconds);
}

}  // namespace coordinate::bench
