// Test fixture and helpers for driving a Coordinator directly: a real Store in a temp directory,
// a FakeClock, short helpers for the common calls, and summary comparisons for Load().
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/cbor.h"
#include "common/clock.h"
#include "common/value.h"
#include "scheduler/coordinator.h"
#include "storage/keys.h"
#include "storage/records.h"
#include "unit/temp_store.h"

namespace coordtest {

using coordinated::Code;
using coordinated::FakeClock;
using coordinated::Status;
using coordinated::StatusOr;
using coordinated::Value;
using coordinated::scheduler::Coordinator;
using coordinated::scheduler::CoordinatorOptions;
using coordinated::scheduler::Grant;
using coordinated::scheduler::SpecState;
namespace storage = coordinated::storage;

inline constexpr double kT0 = 1'000'000.0;  // FakeClock start

inline Value B(std::string_view s) { return Value::Bytes(s); }
inline Value T(std::string_view s) { return Value::Text(s); }
inline Value U(uint64_t n) { return Value::UInt(n); }
inline Value D(double d) { return Value::Double(d); }

// Encodings compare every distinction (bytes vs text, -0.0, tuples).
inline std::string Enc(const Value& v) { return coordinated::EncodeCbor(v); }

// A (key, data[, meta[, priority]]) item as the Python client sends it: a tuple.
inline Value Item(const Value& key, Value data = Value::Map(), Value meta = Value(),
                  std::optional<Value> priority = std::nullopt) {
  std::vector<Value> f = {key, std::move(data)};
  if (!meta.is_null() || priority) f.push_back(std::move(meta));
  if (priority) f.push_back(*priority);
  return Value::Tuple(std::move(f));
}

inline std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// What Load() rebuilds for one spec.
struct SpecSummary {
  storage::SpecId id = 0;
  std::string record;  // encoded SpecRecord (name, definition, control)
  std::array<uint64_t, 6> counts{};
  std::array<uint64_t, 6> archived{};
  double next_continuous = 0;
  std::optional<double> next_deadline;
  std::optional<double> next_due;
};

inline std::map<std::string, SpecSummary> Summaries(const Coordinator& c) {
  std::map<std::string, SpecSummary> out;
  for (const auto& [name, s] : c.specs()) {
    SpecSummary sum;
    sum.id = s->id;
    sum.record = storage::EncodeSpec(s->record);
    sum.counts = s->stats.counts;
    sum.archived = s->stats.archived;
    sum.next_continuous = s->stats.next_continuous;
    sum.next_deadline = s->next_deadline;
    sum.next_due = s->next_due;
    out[name] = sum;
  }
  return out;
}

class CoordinatorTest : public TempStoreTest {
 protected:
  void SetUp() override {
    TempStoreTest::SetUp();
    if (HasFatalFailure()) return;
    MakeCoordinator();
  }
  void TearDown() override {
    coord_.reset();
    TempStoreTest::TearDown();
  }

  void MakeCoordinator() {
    coord_ = std::make_unique<Coordinator>(store(), &clock_, options_);
    Status s = coord_->Load();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // A restart: close the coordinator and the store, reopen both, Load().
  void Restart() {
    coord_.reset();
    ReopenStore();
    MakeCoordinator();
  }

  // Every invariant holds (counts equal a scan, every record has exactly its index entries).
  void Check(const std::string& where = "") {
    auto problems = coord_->CheckConsistency();
    EXPECT_TRUE(problems.empty()) << where << "\n" << Join(problems);
  }

  // A second Coordinator over the same store rebuilds the same summaries. next_deadline and
  // next_due are lower bounds kept in memory; Load() computes them from the index, to the
  // microsecond.
  void ExpectLoadRebuildsSummaries(const std::string& where = "") {
    Coordinator fresh(store(), &clock_, options_);
    Status s = fresh.Load();
    ASSERT_TRUE(s.ok()) << where << ": " << s.ToString();
    auto before = Summaries(*coord_);
    auto after = Summaries(fresh);
    ASSERT_EQ(before.size(), after.size()) << where;
    for (const auto& [name, b] : before) {
      ASSERT_TRUE(after.count(name)) << where << ": spec " << name << " not loaded";
      const SpecSummary& a = after.at(name);
      EXPECT_EQ(a.id, b.id) << where << " " << name;
      EXPECT_EQ(a.record, b.record) << where << " " << name;
      EXPECT_EQ(a.counts, b.counts) << where << " " << name;
      EXPECT_EQ(a.archived, b.archived) << where << " " << name;
      EXPECT_EQ(a.next_continuous, b.next_continuous) << where << " " << name;
      const auto earliest_lease = Earliest(b.id, storage::Cf::kLeases);
      const auto earliest_due = Earliest(b.id, storage::Cf::kDelayed);
      ExpectBound(a.next_deadline, earliest_lease, true, where + " " + name + " loaded deadline");
      ExpectBound(b.next_deadline, earliest_lease, false, where + " " + name + " live deadline");
      ExpectBound(a.next_due, earliest_due, true, where + " " + name + " loaded due");
      ExpectBound(b.next_due, earliest_due, false, where + " " + name + " live due");
    }
  }

  // The in-memory earliest lease deadline and not-before of every spec are lower bounds of what
  // the index holds (cheap enough to check after every step).
  void CheckLiveBounds(const std::string& where = "") {
    for (const auto& [name, s] : coord_->specs()) {
      ExpectBound(s->next_deadline, Earliest(s->id, storage::Cf::kLeases), false,
                  where + " " + name + " live deadline");
      ExpectBound(s->next_due, Earliest(s->id, storage::Cf::kDelayed), false,
                  where + " " + name + " live due");
      // The first ready entry: never below ready_floor; its priority is the cached best.
      const std::string prefix = storage::keys::Spec(s->id);
      auto it = store()->NewIterator(storage::Cf::kReady, prefix, storage::keys::PrefixEnd(prefix));
      it->SeekToFirst();
      if (it->Valid()) {
        EXPECT_GE(std::string(it->key()), s->ready_floor)
            << where << " " << name << ": a ready entry sorts below ready_floor";
      }
      if (s->best_valid) {
        std::optional<double> first;
        if (it->Valid()) {
          first = storage::FromInvertedPriority(storage::DecodeIndexKey(it->key()).number);
        }
        EXPECT_EQ(s->best_priority, first) << where << " " << name << ": cached best priority";
      }
    }
  }

  // The smallest time in a spec's leases or delayed index, from the unit records themselves.
  std::optional<double> Earliest(storage::SpecId id, storage::Cf cf) {
    const std::string prefix = storage::keys::Spec(id);
    auto it = store()->NewIterator(cf, prefix, storage::keys::PrefixEnd(prefix));
    std::optional<double> best;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto d = storage::DecodeIndexKey(it->key());
      std::string v;
      if (!store()->Get(storage::Cf::kUnits, storage::keys::Unit(id, d.unit_key), &v).ok()) {
        continue;
      }
      auto u = storage::DecodeUnit(v);
      if (!u.ok()) continue;
      double t = cf == storage::Cf::kLeases ? u->expiration.value_or(0) : u->not_before;
      if (!best || t < *best) best = t;
    }
    return best;
  }

  // exact: Load()'s value, the floor of the earliest time to the microsecond. Otherwise a
  // lower bound that exists whenever an entry exists.
  static void ExpectBound(const std::optional<double>& got, const std::optional<double>& earliest,
                          bool exact, const std::string& what) {
    if (!earliest) {
      if (exact) {
        EXPECT_FALSE(got.has_value()) << what << " = " << *got << ", no entry exists";
      }
      return;
    }
    ASSERT_TRUE(got.has_value()) << what << ": missing, earliest entry " << *earliest;
    EXPECT_LE(*got, *earliest + 1e-9) << what;
    if (exact) {
      EXPECT_NEAR(*got, *earliest, 1.01e-6) << what;
    }
  }

  // ---- short calls --------------------------------------------------------------------------
  // Each mutating helper checks every invariant right after its step.
  void SetSpec(Value definition) {
    Status s = coord_->SetWorkSpec(definition);
    ASSERT_TRUE(s.ok()) << s.ToString();
    Check("after set_work_spec " + definition.ToDiagnostic());
  }
  void Spec(std::string_view name,
            std::initializer_list<std::pair<std::string_view, Value>> extra = {}) {
    Value d = coordinated::MapOf({{"name", B(name)}});
    for (const auto& [k, v] : extra) d.Set(B(k), v);
    SetSpec(std::move(d));
  }
  void Add(std::string_view spec, std::vector<Value> items) {
    Status s = coord_->AddWorkUnits(B(spec), Value::Array(std::move(items)));
    ASSERT_TRUE(s.ok()) << s.ToString();
    Check("after add_work_units to " + std::string(spec));
  }
  void AddKeys(std::string_view spec, std::initializer_list<std::string_view> keys) {
    std::vector<Value> items;
    for (auto k : keys) items.push_back(Item(B(k)));
    Add(spec, std::move(items));
  }
  std::vector<Grant> Work(std::string_view worker, int64_t max_jobs = 1, double lease = 300,
                          std::optional<std::vector<std::string>> names = std::nullopt) {
    Coordinator::GetWorkOptions o;
    o.max_jobs = max_jobs;
    o.lease_time = lease;
    o.work_spec_names = std::move(names);
    auto r = coord_->GetWork(B(worker), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    Check("after get_work by " + std::string(worker));
    return r.ok() ? *r : std::vector<Grant>{};
  }
  // Keys of one get_work reply ("" entries never occur: keys are the unit keys' bytes).
  static std::vector<std::string> KeysOf(const std::vector<Grant>& g) {
    std::vector<std::string> out;
    for (const auto& x : g) out.push_back(x.key.str());
    return out;
  }
  std::string WorkOne(std::string_view worker, double lease = 300) {
    auto g = Work(worker, 1, lease);
    return g.empty() ? std::string("<none>") : g[0].key.str();
  }
  std::pair<bool, std::string> Update(std::string_view spec, const Value& key, Value options) {
    auto r = coord_->UpdateWorkUnit(B(spec), key, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    Check("after update_work_unit " + options.ToDiagnostic());
    return r.ok() ? *r : std::make_pair(false, std::string("<error>"));
  }
  std::pair<bool, std::string> Finish(std::string_view spec, std::string_view key,
                                      Value data = Value()) {
    Value o = coordinated::MapOf({{"status", U(storage::kFinished)}});
    if (!data.is_null()) o.Set(B("data"), std::move(data));
    return Update(spec, B(key), std::move(o));
  }
  // The unit's status map (null for a missing unit).
  Value StatusOf(std::string_view spec, std::string_view key) {
    auto r = coord_->GetWorkUnitStatus(B(spec), Value::Array({B(key)}));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->size() != 1) return Value();
    return (*r)[0];
  }
  int StatusCode(std::string_view spec, std::string_view key) {
    Value m = StatusOf(spec, key);
    if (!m.is_map()) return 0;
    const Value* s = m.FindKey("status");
    return s ? static_cast<int>(s->raw_num()) : -1;
  }
  std::optional<double> Expiration(std::string_view spec, std::string_view key) {
    Value m = StatusOf(spec, key);
    const Value* e = m.is_map() ? m.FindKey("expiration") : nullptr;
    if (!e || e->is_null()) return std::nullopt;
    return e->as_double();
  }
  Value DataOf(std::string_view spec, std::string_view key) {
    auto r = coord_->GetWorkUnits(B(spec),
                                  coordinated::MapOf({{"work_unit_keys", Value::Array({B(key)})}}));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->size() != 1) return Value();
    return (*r)[0].second;
  }
  std::map<int, uint64_t> Counts(std::string_view spec) {
    auto r = coord_->CountWorkUnits(B(spec));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::map<int, uint64_t>{};
  }
  // Keys listed by get_work_units with the given options, in reply order.
  std::vector<std::string> ListKeys(std::string_view spec, Value options = Value::Map()) {
    auto r = coord_->GetWorkUnits(B(spec), options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (r.ok()) {
      for (const auto& [k, d] : *r) out.push_back(k.is_string() ? k.str() : k.ToDiagnostic());
    }
    return out;
  }
  // Outcomes of a unit's attempts, oldest first.
  std::vector<std::string> AttemptOutcomes(std::string_view spec, std::string_view key) {
    auto r = coord_->GetWorkUnitAttempts(B(spec), B(key));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (r.ok()) {
      for (const auto& a : *r) out.push_back(a.FindKey("status")->str());
    }
    return out;
  }
  const SpecState& State(std::string_view name) { return *coord_->specs().at(std::string(name)); }

  FakeClock clock_{kT0};
  CoordinatorOptions options_;
  std::unique_ptr<Coordinator> coord_;
};

}  // namespace coordtest
