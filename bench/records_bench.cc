// Record micro-benchmarks (src/storage/records.h): a PENDING unit record with 100 bytes of data
// and an attempt record, encoded and decoded as every get_work and finish does.
#include <benchmark/benchmark.h>

#include <string>

#include "common/value.h"
#include "storage/records.h"

namespace {

using coordinated::MapOf;
using coordinated::Value;
namespace storage = coordinated::storage;

storage::UnitRecord PendingUnit() {
  storage::UnitRecord r;
  r.status = storage::kPending;
  r.priority = 0;
  r.data = MapOf({{"p", Value::Bytes(std::string(100, 'x'))}});
  r.worker_id = Value::Bytes("worker-0042");
  r.expiration = 1.7e9 + 300;
  r.attempts = 1;
  return r;
}

void BM_EncodeUnit(benchmark::State& state) {
  const storage::UnitRecord r = PendingUnit();
  for (auto _ : state) benchmark::DoNotOptimize(storage::EncodeUnit(r));
}

void BM_DecodeUnit(benchmark::State& state) {
  const std::string bytes = storage::EncodeUnit(PendingUnit());
  for (auto _ : state) {
    auto r = storage::DecodeUnit(bytes);
    if (!r.ok()) state.SkipWithError("unit record did not decode");
    benchmark::DoNotOptimize(r);
  }
}

void BM_EncodeAttempt(benchmark::State& state) {
  storage::AttemptRecord a;
  a.worker_id = Value::Bytes("worker-0042");
  a.start = 1.7e9;
  a.expires = 1.7e9 + 300;
  for (auto _ : state) benchmark::DoNotOptimize(storage::EncodeAttempt(a));
}

BENCHMARK(BM_EncodeUnit);
BENCHMARK(BM_DecodeUnit);
BENCHMARK(BM_EncodeAttempt);

}  // namespace
