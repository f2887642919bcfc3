// The oldest available age of a spec (Coordinator::OldestAvailableAge, behind the
// coordinated_oldest_available_age_seconds metric and the status page): now minus the earliest
// time an AVAILABLE unit of the spec started waiting, from the `waiting` index.
#include <gtest/gtest.h>

#include "unit/scheduler/coordinator_fixture.h"

namespace coordtest {
namespace {

using coordinated::MapOf;

class OldestAvailableTest : public CoordinatorTest {
 protected:
  double Age(std::string_view spec) {
    const SpecState* s = nullptr;
    for (const auto& [name, st] : coord_->specs()) {
      if (name == spec) s = st.get();
    }
    EXPECT_NE(s, nullptr) << spec;
    if (!s) return -1;
    auto age = coord_->OldestAvailableAge(*s);
    EXPECT_TRUE(age.ok()) << age.status().ToString();
    return age.ok() ? *age : -1;
  }
};

TEST_F(OldestAvailableTest, CountsFromWhenTheOldestWaitingUnitWasAdded) {
  Spec("s");
  EXPECT_EQ(Age("s"), 0) << "no units";
  AddKeys("s", {"a", "b"});
  EXPECT_EQ(Age("s"), 0);
  clock_.Advance(10);
  EXPECT_DOUBLE_EQ(Age("s"), 10);
  AddKeys("s", {"c"});
  EXPECT_DOUBLE_EQ(Age("s"), 10) << "a newer unit does not change the oldest";
  EXPECT_EQ(WorkOne("w"), "a");
  EXPECT_DOUBLE_EQ(Age("s"), 10) << "b has waited as long as a";
  EXPECT_EQ(WorkOne("w"), "b");
  EXPECT_DOUBLE_EQ(Age("s"), 0) << "c was added just now";
  clock_.Advance(5);
  EXPECT_DOUBLE_EQ(Age("s"), 5);
  EXPECT_EQ(WorkOne("w"), "c");
  EXPECT_EQ(Age("s"), 0) << "nothing left waiting";
}

TEST_F(OldestAvailableTest, ReaddingOrReprioritizingKeepsTheTimeRetryingResetsIt) {
  Spec("s");
  AddKeys("s", {"a"});
  clock_.Advance(20);
  AddKeys("s", {"a"});  // re-added while still waiting
  EXPECT_DOUBLE_EQ(Age("s"), 20);
  ASSERT_TRUE(coord_
                  ->PrioritizeWorkUnits(B("s"), MapOf({{"work_unit_keys", Value::Array({B("a")})},
                                                       {"priority", U(5)}}))
                  .ok());
  Check("after prioritize");
  EXPECT_DOUBLE_EQ(Age("s"), 20);
  EXPECT_EQ(WorkOne("w"), "a");
  ASSERT_TRUE(Finish("s", "a").first);
  clock_.Advance(3);
  // Sent back to AVAILABLE by a caller: it waits again from now.
  Update("s", B("a"), MapOf({{"status", U(storage::kAvailable)}}));
  EXPECT_EQ(Age("s"), 0);
  clock_.Advance(4);
  EXPECT_DOUBLE_EQ(Age("s"), 4);
}

TEST_F(OldestAvailableTest, ADelayedUnitWaitsFromTheEndOfItsDelay) {
  Spec("s");
  Add("s", {Item(B("later"), Value::Map(), MapOf({{"delay", U(30)}}))});
  clock_.Advance(10);
  EXPECT_EQ(Age("s"), 0) << "still delayed";
  clock_.Advance(30);
  EXPECT_DOUBLE_EQ(Age("s"), 10) << "due for 10 s";
}

TEST_F(OldestAvailableTest, ALapsedLeaseWaitsAgainFromTheExpiry) {
  Spec("s");
  AddKeys("s", {"a"});
  clock_.Advance(100);
  EXPECT_EQ(WorkOne("w", /*lease=*/10), "a");
  EXPECT_EQ(Age("s"), 0);
  clock_.Advance(15);
  coord_->Tick();  // expires the lease: AVAILABLE again, waiting from now
  Check("after expiry");
  EXPECT_EQ(StatusCode("s", "a"), storage::kAvailable);
  EXPECT_EQ(Age("s"), 0);
  clock_.Advance(2);
  EXPECT_DOUBLE_EQ(Age("s"), 2);
}

TEST_F(OldestAvailableTest, ABlockedUnitWaitsFromItsRelease) {
  Spec("s");
  AddKeys("s", {"first"});
  auto r =
      coord_->AddDependentWorkUnits(Value::Tuple({B("s"), B("second"), Value()}),
                                    Value::Tuple({B("s"), B("first"), Value()}), Value::Bool(true));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->first) << r->second;
  Check("after add_dependent_work_units");
  EXPECT_EQ(StatusCode("s", "second"), storage::kBlocked);
  clock_.Advance(50);
  EXPECT_DOUBLE_EQ(Age("s"), 50) << "only `first` waits";
  EXPECT_EQ(WorkOne("w"), "first");
  EXPECT_EQ(Age("s"), 0) << "a blocked unit is not waiting";
  clock_.Advance(7);
  ASSERT_TRUE(Finish("s", "first").first);
  EXPECT_EQ(StatusCode("s", "second"), storage::kAvailable);
  clock_.Advance(1);
  EXPECT_DOUBLE_EQ(Age("s"), 1);
}

TEST_F(OldestAvailableTest, SurvivesARestartAndIsPerSpec) {
  Spec("old");
  Spec("new");
  AddKeys("old", {"a"});
  clock_.Advance(60);
  AddKeys("new", {"b"});
  clock_.Advance(1);
  Restart();
  EXPECT_DOUBLE_EQ(Age("old"), 61);
  EXPECT_DOUBLE_EQ(Age("new"), 1);
  Check("after restart");
}

}  // namespace
}  // namespace coordtest
