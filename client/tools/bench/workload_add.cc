// The add workload: add_work_units calls of `batch` units, for a duration or a unit count.
#include <algorithm>

#include "worker_pool.h"
#include "workload.h"

namespace coordinate::bench {

WorkloadResult RunAdd(const WorkloadContext& ctx) {
  const RunConfig& config = *ctx.config;
  Backlog& backlog = *ctx.backlog;
  Tally tally;
  const uint64_t batch = static_cast<uint64_t>(std::max(1, config.batch));
  // With a count, threads take batches from it until it is used up.
  std::atomic<uint64_t> left{config.count};
  const bool counted = config.count > 0;
  const double duration = counted ? 0 : config.duration;
  const double seconds = RunWorkers(config.workers, duration, [&](int w, Gate& gate) {
    Client c(backlog.client_options());
    Status connected = c.Connect();
    gate.Arrive();
    if (!connected.ok()) return tally.Error(connected.ToString());
    Latencies lat;
    uint64_t round_trips = 0, units = 0;
    for (int spec = w % backlog.specs(); gate.running(); spec = (spec + 1) % backlog.specs()) {
      uint64_t n = batch;
      if (counted) {
        uint64_t have = left.load();
        do {
          n = std::min(batch, have);
        } while (n > 0 && !left.compare_exchange_weak(have, have - n));
        if (n == 0) break;
      }
      const uint64_t first = backlog.ReserveKeys(spec, n);
      Value items = backlog.Items(first, n);
      auto t0 = Clock::now();
      Status s = c.AddWorkUnits(B(backlog.spec_name(spec)), std::move(items));
      lat.Add(SecondsSince(t0));
      ++round_trips;
      if (!s.ok()) {
        tally.Error(s.ToString());
        break;
      }
      backlog.CountAdded(n);
      units += n;
    }
    tally.Add(round_trips, 0, units, 0);
    tally.Merge("add", lat);
  });
  return tally.Finish(seconds);
}

}  // namespace coordinate::bench
