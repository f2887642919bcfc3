// The floor workload: the two calls of a `do` cycle against the in-process echo server.
#include "worker_pool.h"
#include "workload.h"

namespace coordinate::bench {

WorkloadResult RunFloor(const RunConfig& config, const std::string& floor_address) {
  Tally tally;
  ClientOptions options;
  options.address = floor_address;
  options.retries = 0;
  const double seconds = RunWorkers(config.workers, config.duration, [&](int w, Gate& gate) {
    Client c(options);
    Status connected = c.Connect();
    gate.Arrive();
    if (!connected.ok()) return tally.Error(connected.ToString());
    const Value worker = B("bench-" + std::to_string(w));
    const Value params = A({worker, M({{"max_jobs", I(1)},
                                       {"lease_time", I(300)},
                                       {"work_spec_names", A({B(config.spec_prefix)})}})});
    const Value finish = A({B(config.spec_prefix), B(UnitKey(0)), M({{"status", I(4)}})});
    Latencies get_lat, fin_lat;
    uint64_t round_trips = 0, cycles = 0;
    while (gate.running()) {
      auto t0 = Clock::now();
      auto r = c.Call("get_work", params);
      get_lat.Add(SecondsSince(t0));
      auto t1 = Clock::now();
      auto f = c.Call("update_work_unit", finish);
      fin_lat.Add(SecondsSince(t1));
      round_trips += 2;
      ++cycles;
      if (!r.ok() || !f.ok()) {
        tally.Error((r.ok() ? f.status() : r.status()).ToString());
        break;
      }
    }
    tally.Add(round_trips, cycles, 0, 0);
    tally.Merge("get_work", get_lat);
    tally.Merge("finish", fin_lat);
  });
  return tally.Finish(seconds);
}

}  // namespace coordinate::bench
