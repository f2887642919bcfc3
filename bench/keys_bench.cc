// Key encoding micro-benchmarks (src/storage/keys.h): the keys one get_work and one finish
// write or seek for a unit, and decoding a ready-index key.
#include <benchmark/benchmark.h>

#include <string>

#include "storage/keys.h"

namespace {

namespace keys = coordinated::storage::keys;
using coordinated::storage::DecodeIndexKey;

constexpr std::string_view kUnitKey = "u0000012345";

void BM_UnitKey(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(keys::Unit(42, kUnitKey));
}

void BM_ReadyKey(benchmark::State& state) {
  double priority = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(keys::Ready(42, priority, kUnitKey));
    priority += 0.5;
  }
}

void BM_LeaseKey(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(keys::Lease(42, 1.7e9, kUnitKey));
}

void BM_ByStatusKey(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(keys::ByStatus(42, 3, 0, kUnitKey));
}

void BM_DecodeReadyKey(benchmark::State& state) {
  const std::string key = keys::Ready(42, 7.25, kUnitKey);
  for (auto _ : state) benchmark::DoNotOptimize(DecodeIndexKey(key));
}

BENCHMARK(BM_UnitKey);
BENCHMARK(BM_ReadyKey);
BENCHMARK(BM_LeaseKey);
BENCHMARK(BM_ByStatusKey);
BENCHMARK(BM_DecodeReadyKey);

}  // namespace
