// The mixed workload: claims, lease renewals, status reads, finishes and adds together.
#include <thread>

#include "worker_pool.h"
#include "workload.h"

namespace coordinate::bench {

namespace {
constexpr uint64_t kAddEvery = 8;  // cycles per add; each add brings kAddEvery units
}

WorkloadResult RunMixed(const WorkloadContext& ctx) {
  const RunConfig& config = *ctx.config;
  Backlog& backlog = *ctx.backlog;
  Tally tally;
  const double seconds = RunWorkers(config.workers, config.duration, [&](int w, Gate& gate) {
    Client c(backlog.client_options());
    Status connected = c.Connect();
    gate.Arrive();
    if (!connected.ok()) return tally.Error(connected.ToString());
    const Value params = GetWorkParams(B("bench-" + std::to_string(w)), 1, backlog);
    Latencies get_lat, renew_lat, status_lat, fin_lat, add_lat;
    uint64_t round_trips = 0, cycles = 0, units = 0, empty = 0;
    // One timed call; false (and the error recorded) when it failed.
    auto timed = [&](Latencies& lat, const char* method, Value p) -> bool {
      auto t0 = Clock::now();
      auto r = c.Call(method, std::move(p));
      lat.Add(SecondsSince(t0));
      ++round_trips;
      if (!r.ok()) tally.Error(std::string(method) + ": " + r.status().ToString());
      return r.ok();
    };
    int add_spec = w % backlog.specs();
    while (gate.running()) {
      auto t0 = Clock::now();
      auto reply = c.Call("get_work", params);
      get_lat.Add(SecondsSince(t0));
      ++round_trips;
      if (!reply.ok()) {
        tally.Error("get_work: " + reply.status().ToString());
        break;
      }
      auto grants = Grants(*reply, 1);
      if (grants.empty()) {
        ++empty;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      const Value& spec = grants[0][0];
      const Value& key = grants[0][1];
      if (!timed(renew_lat, "update_work_unit", A({spec, key, M({{"lease_time", I(300)}})})) ||
          !timed(status_lat, "get_work_unit_status", A({spec, A({key})})) ||
          !timed(fin_lat, "update_work_unit", A({spec, key, M({{"status", I(4)}})}))) {
        break;
      }
      ++cycles;
      ++units;
      if (ctx.consumed) ++*ctx.consumed;
      if (cycles % kAddEvery == 0) {
        const uint64_t first = backlog.ReserveKeys(add_spec, kAddEvery);
        if (!timed(add_lat, "add_work_units",
                   A({B(backlog.spec_name(add_spec)), backlog.Items(first, kAddEvery)}))) {
          break;
        }
        backlog.CountAdded(kAddEvery);
        add_spec = (add_spec + 1) % backlog.specs();
      }
    }
    tally.Add(round_trips, cycles, units, empty);
    tally.Merge("get_work", get_lat);
    tally.Merge("renew", renew_lat);
    tally.Merge("status", status_lat);
    tally.Merge("finish", fin_lat);
    tally.Merge("add", add_lat);
  });
  return tally.Finish(seconds);
}

}  // namespace coordinate::bench
