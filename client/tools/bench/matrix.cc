#include "matrix.h"

namespace coordinate::bench {

namespace {

// Units an add run of the matrix stops after (and the backlog it leaves is never read back),
// so that 10 KiB payloads do not write gigabytes.
constexpr uint64_t kAddCount = 2000000;
constexpr uint64_t kAddCountLarge = 100000;
constexpr size_t kLargePayload = 10240;

bool Keep(const RunConfig& c, const MatrixOptions& o) {
  const std::string label = " " + Label(c) + " ";
  for (const auto& s : o.only) {
    if (label.find(" " + s + " ") == std::string::npos) return false;
  }
  return true;
}

}  // namespace

std::vector<RunConfig> StandardMatrix(const MatrixOptions& o) {
  std::vector<RunConfig> runs;
  RunConfig base;
  base.duration = o.duration;
  base.spec_prefix = o.spec_prefix;
  auto floor = [&](int w) {
    RunConfig c = base;
    c.workload = Workload::kFloor;
    c.workers = w;
    runs.push_back(c);
  };
  auto add = [&](SyncMode sync, int w, size_t payload) {
    RunConfig c = base;
    c.workload = Workload::kAdd;
    c.sync = sync;
    c.workers = w;
    c.batch = 1000;
    c.payload = payload;
    c.count = payload > 1000 ? kAddCountLarge : kAddCount;
    runs.push_back(c);
  };
  auto run = [&](Workload wl, SyncMode sync, int w, int k) -> RunConfig& {
    RunConfig c = base;
    c.workload = wl;
    c.sync = sync;
    c.workers = w;
    c.batch = k;
    runs.push_back(c);
    return runs.back();
  };

  for (int w : {1, 4, 8, 64, 256}) floor(w);
  const std::vector<SyncMode> syncs = o.external
                                          ? std::vector<SyncMode>{SyncMode::kOn}
                                          : std::vector<SyncMode>{SyncMode::kOn, SyncMode::kOff};
  for (SyncMode sync : syncs) {
    add(sync, 1, 100);
    add(sync, 4, 100);
    for (int w : {1, 8, 64, 256}) {
      for (int k : {1, 10}) {
        RunConfig& c = run(Workload::kDo, sync, w, k);
        c.measure_restart = !o.external && w == 64 && k == 1;
      }
    }
    run(Workload::kMixed, sync, 64, 1);
  }
  add(SyncMode::kOn, 1, kLargePayload);
  run(Workload::kDo, SyncMode::kOn, 64, 1).payload = kLargePayload;
  run(Workload::kDo, SyncMode::kOn, 64, 1).specs = 10;
  run(Workload::kDo, SyncMode::kOn, 64, 1).specs = 1000;
  run(Workload::kDo, SyncMode::kOn, 64, 1).idle = 1000;
  if (o.big) {
    RunConfig& c = run(Workload::kDo, SyncMode::kOn, 64, 1);
    c.backlog = o.big_backlog;
    c.measure_restart = !o.external;
    if (!o.external) {
      // The same pair once the daemon has finished the flushes and compactions its pre-load
      // left: the cost of holding a big queue, without the cost of having just filled it.
      run(Workload::kDo, SyncMode::kOn, 64, 1).settle = true;
      RunConfig& settled = run(Workload::kDo, SyncMode::kOn, 64, 1);
      settled.backlog = o.big_backlog;
      settled.settle = true;
    }
  }

  std::vector<RunConfig> kept;
  for (size_t i = 0; i < runs.size(); ++i) {
    RunConfig c = runs[i];
    if (o.external) c.spec_prefix = o.spec_prefix + "-r" + std::to_string(i);
    if (Keep(c, o)) kept.push_back(c);
  }
  return kept;
}

}  // namespace coordinate::bench
