// A batch request made only of update_work_unit calls runs as one sequencer job with shared
// store writes (Coordinator::UpdateWorkUnits): through the real daemon each call still gets its
// own reply, in order, exactly as if sent alone, and what the batch acknowledged survives kill -9.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

class UpdateBatchTest : public DaemonTest {
 protected:
  // The unit's status code (0: no such unit, -1: unexpected reply).
  int StatusCode(std::string_view spec, std::string_view key) {
    Value r = Call(*c_, "get_work_unit_status", A({B(spec), A({B(key)})}));
    if (!r.is_tuple() || r.items().size() != 2 || !r.items()[0].is_array()) return -1;
    const Value& m = r.items()[0].items()[0];
    if (m.is_null()) return 0;
    const Value* s = m.is_map() ? m.FindKey("status") : nullptr;
    return s && s->AsInt64() ? static_cast<int>(*s->AsInt64()) : -1;
  }
  Value Counts(std::string_view spec) { return StatusCounts(*c_, spec); }
};

TEST_F(UpdateBatchTest, EachCallIsAnsweredAsIfSentAlone) {
  SetSpec(*c_, SpecDef("s"));
  AddUnits(*c_, "s", {Tup({B("a"), M({})}), Tup({B("b"), M({})}), Tup({B("c"), M({})})});
  Value got = Call(*c_, "get_work", A({B("w"), M({{"max_jobs", I(3)}})}));
  ASSERT_TRUE(got.is_tuple() && got.items()[0].is_array() && got.items()[0].items().size() == 3)
      << got.ToDiagnostic();

  auto replies = c_->Batch({
      {"update_work_unit", A({B("s"), B("a"), M({{"status", I(kFinished)}})})},
      {"update_work_unit", A({B("s"), B("nope"), M({{"status", I(kFinished)}})})},
      {"update_work_unit", A({B("s"), B("b"), I(5)})},  // options not a map: an error
      {"update_work_unit", A({B("s"), B("a"), M({{"status", I(kFinished)}})})},  // again
      {"update_work_unit", A({B("s"), B("b"), M({{"lease_time", I(100)}})})},
      {"update_work_unit",
       A({B("s"), B("c"), M({{"status", I(kFailed)}, {"data", M({{"traceback", B("x")}})}})})},
      {"update_work_unit", A({B("nospec"), B("a"), M({{"status", I(kFinished)}})})},
  });
  ASSERT_EQ(replies.size(), 7u);
  for (size_t i : {0u, 3u, 4u, 5u}) {
    ASSERT_TRUE(replies[i].ok()) << i << ": " << replies[i].status().ToString();
    EXPECT_TRUE(Same(*replies[i], OkPair())) << i;
  }
  ASSERT_TRUE(replies[1].ok()) << replies[1].status().ToString();
  EXPECT_TRUE(Same(*replies[1], FalseMsg("no such work unit key='nope'")));
  EXPECT_FALSE(replies[2].ok());
  ASSERT_TRUE(replies[6].ok()) << replies[6].status().ToString();
  EXPECT_TRUE(Same(*replies[6], FalseMsg("no such work_spec 'nospec'")));

  EXPECT_EQ(StatusCode("s", "a"), kFinished);
  EXPECT_EQ(StatusCode("s", "b"), kPending);
  EXPECT_EQ(StatusCode("s", "c"), kFailed);
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kPending, 1}, {kFinished, 1}, {kFailed, 1}})));

  // Acknowledged means durable: the same after kill -9.
  Restart();
  EXPECT_EQ(StatusCode("s", "a"), kFinished);
  EXPECT_EQ(StatusCode("s", "b"), kPending);
  EXPECT_EQ(StatusCode("s", "c"), kFailed);
}

TEST_F(UpdateBatchTest, MixedBatchIsStillHandledCallByCall) {
  SetSpec(*c_, SpecDef("s"));
  AddUnits(*c_, "s", {Tup({B("a"), M({})})});
  ASSERT_TRUE(Call(*c_, "get_work", A({B("w")})).is_sequence());
  auto replies = c_->Batch({
      {"update_work_unit", A({B("s"), B("a"), M({{"status", I(kFinished)}})})},
      {"count_work_units", A({B("s")})},
  });
  ASSERT_EQ(replies.size(), 2u);
  ASSERT_TRUE(replies[0].ok()) << replies[0].status().ToString();
  EXPECT_TRUE(Same(*replies[0], OkPair()));
  ASSERT_TRUE(replies[1].ok()) << replies[1].status().ToString();
  EXPECT_TRUE(Same(*replies[1], Pair(CountMap({{kFinished, 1}}), Null())));
}

}  // namespace
}  // namespace coordtest
