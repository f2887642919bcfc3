// Restart scaling: Load() reads per-spec summaries and never scans work units, so a restart of a
// store holding a million units should cost about what a restart with a thousand costs.
//
// Loads 1,000,000 units into one spec through AddWorkUnits in batches of 10,000 (falling back to
// 300,000 when the projected time exceeds about 60 s on this machine, as the output then says),
// closes the store, reopens it, and times Load() against the same for a store of 1,000 units.
// The figures are printed, not asserted; the counts Load() rebuilds are asserted.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "unit/scheduler/coordinator_fixture.h"

namespace coordtest {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Figures {
  size_t units = 0;
  double add_ms = 0;
  double open_ms = 0;  // RocksDB open of the existing store (WAL replay included)
  double load_ms = 0;  // Coordinator::Load()
};

// Fills a fresh store with up to `target` units (stopping at `fallback` when the rate projects
// more than `budget_s` for the target), restarts, and times Load().
Figures FillRestartAndLoad(size_t target, size_t fallback, double budget_s) {
  TempDir dir;
  EXPECT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/db";
  FakeClock clock(kT0);
  Figures f;
  {
    auto store = OpenStoreAt(path, /*sync=*/true);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return f;
    Coordinator c(store->get(), &clock, CoordinatorOptions());
    EXPECT_TRUE(c.Load().ok());
    EXPECT_TRUE(c.SetWorkSpec(coordinated::MapOf({{"name", B("big")}})).ok());
    constexpr size_t kBatch = 10000;
    const auto start = Clock::now();
    size_t limit = target;
    char key[16];
    for (size_t done = 0; done < limit;) {
      const size_t n = std::min(kBatch, limit - done);
      std::vector<Value> items;
      items.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        std::snprintf(key, sizeof key, "u%08zu", done + i);
        items.push_back(Value::Tuple({B(key), coordinated::MapOf({{"i", U(done + i)}})}));
      }
      Status s = c.AddWorkUnits(B("big"), Value::Array(std::move(items)));
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok()) return f;
      done += n;
      if (limit == target && done == fallback && fallback < target) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        if (elapsed * static_cast<double>(target) / static_cast<double>(done) > budget_s) {
          std::cout << "[ FIGURES ] " << target << " units would take about "
                    << static_cast<int>(elapsed * static_cast<double>(target) /
                                        static_cast<double>(done))
                    << " s here (> " << budget_s << " s): reduced to " << done << " units\n";
          limit = done;
        }
      }
    }
    f.add_ms = Ms(Clock::now() - start);
    f.units = limit;
    EXPECT_TRUE((*store)->Sync().ok());
    EXPECT_EQ(c.specs().at("big")->stats.counts[storage::kAvailable], limit);
  }  // close the coordinator and the store
  const auto t_open = Clock::now();
  auto store = OpenStoreAt(path);
  f.open_ms = Ms(Clock::now() - t_open);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return f;
  Coordinator c(store->get(), &clock, CoordinatorOptions());
  const auto t_load = Clock::now();
  Status s = c.Load();
  f.load_ms = Ms(Clock::now() - t_load);
  EXPECT_TRUE(s.ok()) << s.ToString();
  // Load() rebuilt the right counts, and the store is usable: count and get_work answer.
  EXPECT_EQ(c.specs().size(), 1u);
  EXPECT_EQ(c.specs().at("big")->stats.counts[storage::kAvailable], f.units);
  auto counts = c.CountWorkUnits(B("big"));
  EXPECT_TRUE(counts.ok());
  if (counts.ok()) {
    EXPECT_EQ(*counts, (std::map<int, uint64_t>{{storage::kAvailable, f.units}}));
  }
  Coordinator::GetWorkOptions o;
  o.max_jobs = 3;
  auto g = c.GetWork(B("w"), o);
  EXPECT_TRUE(g.ok());
  if (g.ok()) {
    EXPECT_EQ(g->size(), 3u);
    if (!g->empty()) {
      EXPECT_EQ((*g)[0].key.str(), "u00000000");
    }
  }
  return f;
}

TEST(RestartScalingTest, LoadTimeDoesNotGrowWithTheNumberOfUnits) {
  size_t big = 1000000;
#if defined(COORD_SANITIZER_ADDRESS) || defined(COORD_SANITIZER_THREAD)
  // Instrumented code makes the timings meaningless and 300,000 units take minutes; the counts
  // Load() rebuilds are still checked, on a smaller store.
  big = 20000;
  std::cout << "[ FIGURES ] sanitizer build: " << big << " units instead of 1000000\n";
#endif
  if (const char* n = std::getenv("COORD_SCALING_UNITS")) big = std::strtoull(n, nullptr, 10);
  const Figures small = FillRestartAndLoad(1000, 1000, 60);
  const Figures large = FillRestartAndLoad(big, std::min<size_t>(300000, big), 60);
  std::cout << "[ FIGURES ] add " << small.units << " units: " << small.add_ms << " ms; add "
            << large.units << " units: " << large.add_ms << " ms (batches of 10000)\n";
  std::cout << "[ FIGURES ] reopen store of " << small.units << " units: " << small.open_ms
            << " ms; of " << large.units << " units: " << large.open_ms << " ms\n";
  std::cout << "[ FIGURES ] load " << small.units << " units: " << small.load_ms << " ms; load "
            << large.units << " units: " << large.load_ms << " ms\n";
  EXPECT_EQ(small.units, 1000u);
  EXPECT_GE(large.units, std::min<size_t>(300000, big));
}

}  // namespace
}  // namespace coordtest
