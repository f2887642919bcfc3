// Spec choice micro-benchmark (src/scheduler). ChooseSpec and BestReady are private to the
// Coordinator, so this measures what reaches them: one get_work(max_jobs 1) without spec names
// (the coordinator chooses among every spec) followed by the finish of the granted unit, on a
// real Store in a temporary directory (sync off) and a FakeClock. Every spec holds work; with
// 10 and with 1,000 specs the difference between the two is the cost of choosing.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/value.h"
#include "scheduler/coordinator.h"
#include "storage/store.h"

namespace {

using coordinated::FakeClock;
using coordinated::MapOf;
using coordinated::Value;
using coordinated::scheduler::Coordinator;
using coordinated::scheduler::CoordinatorOptions;
namespace storage = coordinated::storage;

constexpr int kUnitsPerFill = 20000;  // units added over all specs each time the specs run dry

class Fixture {
 public:
  explicit Fixture(int specs) : specs_(specs) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "coordinate-microbench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir_ = tmpl;
    storage::StoreOptions so;
    so.path = dir_ + "/data";
    so.sync = false;
    auto store = storage::Store::Open(so);
    if (!store.ok()) std::abort();
    store_ = std::move(store).value();
    coordinator_ = std::make_unique<Coordinator>(store_.get(), &clock_, CoordinatorOptions());
    if (!coordinator_->Load().ok()) std::abort();
    for (int s = 0; s < specs_; ++s) {
      if (!coordinator_->SetWorkSpec(MapOf({{"name", Value::Bytes(Name(s))}})).ok()) std::abort();
    }
    Fill();
  }
  ~Fixture() {
    coordinator_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Adds kUnitsPerFill units spread over every spec.
  void Fill() {
    const int per_spec = kUnitsPerFill / specs_ > 0 ? kUnitsPerFill / specs_ : 1;
    const Value data = MapOf({{"p", Value::Bytes(std::string(100, 'x'))}});
    for (int s = 0; s < specs_; ++s) {
      Value items = Value::Array();
      for (int i = 0; i < per_spec; ++i) {
        char key[32];
        std::snprintf(key, sizeof key, "u%010llu", static_cast<unsigned long long>(next_key_ + i));
        items.Append(Value::Tuple({Value::Bytes(key), data}));
      }
      if (!coordinator_->AddWorkUnits(Value::Bytes(Name(s)), items).ok()) std::abort();
    }
    next_key_ += static_cast<uint64_t>(per_spec);
  }

  Coordinator& coordinator() { return *coordinator_; }

 private:
  static std::string Name(int s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "spec-%04d", s);
    return buf;
  }

  int specs_;
  std::string dir_;
  FakeClock clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Coordinator> coordinator_;
  uint64_t next_key_ = 0;
};

void BM_GetWorkAndFinish(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  const Value worker = Value::Bytes("worker-1");
  const Value finished = MapOf({{"status", Value::Int(4)}});
  Coordinator::GetWorkOptions options;
  for (auto _ : state) {
    auto grants = f.coordinator().GetWork(worker, options);
    if (!grants.ok()) {
      state.SkipWithError("get_work failed");
      break;
    }
    if (grants->empty()) {
      state.PauseTiming();
      f.Fill();
      state.ResumeTiming();
      continue;
    }
    const auto& g = grants->front();
    auto done = f.coordinator().UpdateWorkUnit(g.spec_name, g.key, finished);
    if (!done.ok() || !done->first) {
      state.SkipWithError("finish failed");
      break;
    }
  }
}

BENCHMARK(BM_GetWorkAndFinish)->ArgName("specs")->Arg(10)->Arg(1000);

}  // namespace
