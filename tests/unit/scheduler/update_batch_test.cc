// Coordinator::UpdateWorkUnits (several update_work_unit calls sharing transactions) must give
// exactly what calling UpdateWorkUnit once per call gives: the same results and the same stored
// state. Two specs with identical contents receive the same random calls, one spec through
// UpdateWorkUnits and its twin call by call, and are compared unit by unit afterwards.
#include <gtest/gtest.h>

#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "scheduler/coordinator.h"
#include "unit/scheduler/coordinator_fixture.h"

namespace coordtest {
namespace {

using coordinated::MapOf;
using Result = coordinated::StatusOr<std::pair<bool, std::string>>;

std::string Describe(const Result& r) {
  if (!r.ok()) return "error " + r.status().ToString();
  return std::string(r->first ? "true" : "false") + " '" + r->second + "'";
}

class UpdateBatchTest : public CoordinatorTest {
 protected:
  // A random update_work_unit call on one of `keys` (or a key that does not exist).
  Value RandomOptions(std::mt19937& rng, const std::string& key, bool chaining) {
    switch (rng() % 9) {
      case 0:
      case 1:
        return MapOf({{"status", U(storage::kFinished)}});
      case 2:
        return MapOf(
            {{"status", U(storage::kFailed)}, {"data", MapOf({{"traceback", B("boom " + key)}})}});
      case 3:
        // Now and then a lease that is already over (0 or negative): the unit is due for
        // expiry before the next call, in a batch as call by call.
        if (rng() % 3 == 0)
          return MapOf({{"lease_time", Value::Int(-static_cast<int>(rng() % 2))}});
        return MapOf({{"lease_time", U(100 + rng() % 100)}});
      case 4:
        return MapOf({{"status", U(storage::kAvailable)}});
      case 5:
        return MapOf(
            {{"status", U(storage::kPending)}, {"worker_id", B("other")}, {"lease_time", U(50)}});
      case 6:
        if (chaining) {
          // Two finishes may chain the same successor key: the later one resets it.
          return MapOf(
              {{"status", U(storage::kFinished)},
               {"data", MapOf({{"output", Value::Array({B("next" + key.substr(1, 1))})}})}});
        }
        return MapOf({{"status", U(storage::kFinished)}, {"data", MapOf({{"n", U(rng() % 5)}})}});
      case 7:
        return MapOf({{"status", U(9)}});  // invalid: an error that changes nothing
      default:
        return MapOf({});  // "nothing to do"
    }
  }

  // Everything observable about a unit, for comparing twins.
  std::string Observe(std::string_view spec, std::string_view key) {
    Value st = StatusOf(spec, key);
    if (st.is_null()) return "missing";
    std::string out = st.ToDiagnostic() + " data=" + DataOf(spec, key).ToDiagnostic();
    auto attempts = coord_->GetWorkUnitAttempts(B(spec), B(key));
    EXPECT_TRUE(attempts.ok()) << attempts.status().ToString();
    if (attempts.ok()) {
      for (const Value& a : *attempts) out += " attempt=" + a.ToDiagnostic();
    }
    return out;
  }
};

TEST_F(UpdateBatchTest, BatchesEqualCallByCall) {
  const unsigned seed = std::random_device{}();
  std::cout << "seed " << seed << "\n";
  std::mt19937 rng(seed);
  // a and b are twins, and so are their successors na and nb.
  Spec("na");
  Spec("nb");
  Spec("a", {{"then", B("na")}});
  Spec("b", {{"then", B("nb")}});
  std::vector<std::string> keys;
  for (int i = 0; i < 8; ++i) keys.push_back("k" + std::to_string(i));
  for (const auto& k : keys) {
    AddKeys("a", {k});
    AddKeys("b", {k});
  }
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + " seed " + std::to_string(seed));
    // Hand out whatever is available in both twins, the same way.
    const int64_t n = 1 + static_cast<int64_t>(rng() % 4);
    auto ga = Work("w", n, 300, std::vector<std::string>{"a"});
    auto gb = Work("w", n, 300, std::vector<std::string>{"b"});
    ASSERT_EQ(KeysOf(ga), KeysOf(gb));
    // The same calls for both, some naming the same unit twice, some unknown units.
    std::vector<Value> call_keys, call_options;
    const size_t calls = 1 + rng() % 6;
    for (size_t i = 0; i < calls; ++i) {
      const bool unknown = rng() % 10 == 0;
      const std::string key = unknown ? "missing" : keys[rng() % keys.size()];
      call_keys.push_back(B(key));
      call_options.push_back(RandomOptions(rng, key, /*chaining=*/true));
    }
    const Value name_a = B("a");
    std::vector<Coordinator::UnitUpdate> batch;
    for (size_t i = 0; i < calls; ++i) batch.push_back({&name_a, &call_keys[i], &call_options[i]});
    std::vector<Result> batched = coord_->UpdateWorkUnits(batch);
    ASSERT_EQ(batched.size(), calls);
    for (size_t i = 0; i < calls; ++i) {
      Result single = coord_->UpdateWorkUnit(B("b"), call_keys[i], call_options[i]);
      EXPECT_EQ(Describe(batched[i]), Describe(single))
          << "call " << i << " " << call_keys[i].ToDiagnostic() << " "
          << call_options[i].ToDiagnostic();
    }
    Check("after round");
    clock_.Advance(1 + rng() % 120);  // some leases lapse between rounds
  }
  for (const auto& k : keys) EXPECT_EQ(Observe("a", k), Observe("b", k)) << k;
  for (int i = 0; i < 8; ++i) {
    const std::string k = "next" + std::to_string(i);
    EXPECT_EQ(Observe("na", k), Observe("nb", k)) << k;
  }
  EXPECT_EQ(Counts("a"), Counts("b"));
  EXPECT_EQ(Counts("na"), Counts("nb"));
  ExpectLoadRebuildsSummaries("after the rounds");
}

TEST_F(UpdateBatchTest, OneBatchFinishesEveryUnitItWasHanded) {
  Spec("s");
  AddKeys("s", {"a", "b", "c", "d"});
  auto g = Work("w", 4);
  ASSERT_EQ(g.size(), 4u);
  const Value name = B("s");
  const Value finish = MapOf({{"status", U(storage::kFinished)}});
  std::vector<Value> keys = {B("a"), B("b"), B("c"), B("d")};
  std::vector<Coordinator::UnitUpdate> batch;
  for (const auto& k : keys) batch.push_back({&name, &k, &finish});
  for (const auto& r : coord_->UpdateWorkUnits(batch)) EXPECT_EQ(Describe(r), "true ''");
  Check("after the batch");
  EXPECT_EQ(Counts("s"), (std::map<int, uint64_t>{{storage::kFinished, 4}}));
  for (const auto& k : {"a", "b", "c", "d"}) {
    EXPECT_EQ(AttemptOutcomes("s", k), std::vector<std::string>{"finished"}) << k;
  }
  ExpectLoadRebuildsSummaries("after the batch");
}

TEST_F(UpdateBatchTest, PrerequisitesFinishedInOneBatchReleaseTheirDependentOnce) {
  Spec("s");
  auto r = coord_->AddDependentWorkUnits(Value::Tuple({B("s"), B("later"), Value::Map()}),
                                         Value::Tuple({B("s"), B("p1"), Value::Map()}),
                                         Value::Bool(true));
  ASSERT_TRUE(r.ok() && r->first) << (r.ok() ? r->second : r.status().ToString());
  r = coord_->AddDependentWorkUnits(Value::Tuple({B("s"), B("later"), Value::Map()}),
                                    Value::Tuple({B("s"), B("p2"), Value::Map()}),
                                    Value::Bool(true));
  ASSERT_TRUE(r.ok() && r->first) << (r.ok() ? r->second : r.status().ToString());
  Check("after the dependencies");
  auto g = Work("w", 2);
  ASSERT_EQ(KeysOf(g).size(), 2u);
  EXPECT_EQ(StatusCode("s", "later"), storage::kBlocked);
  const Value name = B("s");
  const Value finish = MapOf({{"status", U(storage::kFinished)}});
  std::vector<Value> keys = {B("p1"), B("p2")};
  std::vector<Coordinator::UnitUpdate> batch = {{&name, &keys[0], &finish},
                                                {&name, &keys[1], &finish}};
  for (const auto& res : coord_->UpdateWorkUnits(batch)) EXPECT_EQ(Describe(res), "true ''");
  Check("after the batch");
  EXPECT_EQ(StatusCode("s", "later"), storage::kAvailable);
  EXPECT_EQ(WorkOne("w"), "later");
}

}  // namespace
}  // namespace coordtest
