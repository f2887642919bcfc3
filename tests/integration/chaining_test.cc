// Chaining through the real daemon: a unit of a spec with `then` that becomes FINISHED with an
// `output` in its data creates units in the successor spec (reference-behavior.md §4.4, §9.7;
// CONTRACT §4 delay, §5 atomic writes).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

Value NoWork() { return Tup({Null(), Null(), Null()}); }

Value Work(Client& c, std::string_view spec = "", std::string_view worker = "w") {
  Value opts = Value::Map();
  if (!spec.empty()) opts = M({{"work_spec_names", A({B(spec)})}});
  Value r = Call(c, "get_work", A({B(worker), opts}));
  if (!r.is_tuple() || r.items().size() != 2) {
    ADD_FAILURE() << r.ToDiagnostic();
    return Value::Undefined();
  }
  return r.items()[0];
}

// Finishes `key` of `spec` with these data (or none when data is Undefined).
void FinishWith(Client& c, std::string_view spec, std::string_view key, Value data) {
  Value opts = M({{"status", I(kFinished)}});
  if (data.kind() != Value::Kind::kUndefined) opts.Set(B("data"), std::move(data));
  EXPECT_TRUE(Same(Update(c, spec, key, std::move(opts)), OkPair())) << key;
}

Value OutputData(Value output) { return M({{"output", std::move(output)}}); }

// All units of a spec as (key, data) tuples, ordered by key.
Value Units(Client& c, std::string_view spec) {
  Value r = Call(c, "get_work_units", A({B(spec), Value::Map()}));
  if (!r.is_tuple() || r.items().size() != 2) {
    ADD_FAILURE() << r.ToDiagnostic();
    return Value::Undefined();
  }
  return r.items()[0];
}

int StatusCode(Client& c, std::string_view spec, std::string_view key) {
  Value r = Call(c, "get_work_unit_status", A({B(spec), A({B(key)})}));
  if (!r.is_tuple() || !r.items()[0].is_array() || r.items()[0].items().size() != 1) return -1;
  const Value& m = r.items()[0].items()[0];
  if (m.is_null()) return 0;
  const Value* s = m.FindKey("status");
  return s && s->AsInt64() ? static_cast<int>(*s->AsInt64()) : -1;
}

class ChainTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    if (HasFatalFailure()) return;
    SetSpec(c(), SpecDef("first", {{"then", B("second")}}));
    SetSpec(c(), SpecDef("second"));
  }

  // Adds unit `key` to "first" and leases it.
  void LeaseParent(std::string_view key, Value data = Value::Map(), Value meta = Value::Map()) {
    AddUnits(c(), "first", {Tup({B(key), data, std::move(meta)})});
    ASSERT_TRUE(Same(Work(c(), "first"), Triple("first", key, data)));
  }
};

TEST_F(ChainTest, OutputMapCreatesSuccessorUnits) {
  LeaseParent("p");
  FinishWith(c(), "first", "p", OutputData(M({{"u", M({{"k", B("v")}})}})));
  EXPECT_TRUE(Same(Units(c(), "second"), A({Tup({B("u"), M({{"k", B("v")}})})})));
  EXPECT_TRUE(Same(Work(c()), Triple("second", "u", M({{"k", B("v")}}))));
  FinishWith(c(), "second", "u", Value::Undefined());
  EXPECT_TRUE(Same(Work(c()), NoWork()));
  EXPECT_EQ(StatusCode(c(), "first", "p"), kFinished);
}

TEST_F(ChainTest, OutputFlatListOfKeys) {
  LeaseParent("p");
  FinishWith(c(), "first", "p", OutputData(A({B("u1"), B("u2"), T("u3")})));
  EXPECT_TRUE(
      Same(Units(c(), "second"), A({Tup({B("u1"), Value::Map()}), Tup({B("u2"), Value::Map()}),
                                    Tup({T("u3"), Value::Map()})})));
  EXPECT_TRUE(Same(Work(c()), Triple("second", "u1", Value::Map())));
}

TEST_F(ChainTest, OutputBinaryKey) {
  LeaseParent("p");
  const std::string key("\x01\x02\x00\xff", 4);
  FinishWith(c(), "first", "p", OutputData(A({B(key)})));
  EXPECT_TRUE(Same(Work(c()), Triple("second", key, Value::Map())));
}

TEST_F(ChainTest, OutputTuplesWithDataMetaAndPriority) {
  LeaseParent("p");
  FinishWith(
      c(), "first", "p",
      OutputData(A({Tup({B("k1"), M({{"d", I(1)}})}),
                    Tup({B("k2"), M({{"d", I(2)}}), M({{"priority", I(10)}})}),
                    A({B("k3"), M({{"d", I(3)}}), Value::Map(), I(7)}),
                    Tup({B("k4"), M({{"d", I(4)}}), M({{"priority", I(1)}}), I(20)}), B("k5")})));
  // Order of hand-out = priority descending: k4 (20), k2 (10), k3 (7), then k1, k5 (0).
  std::vector<Value> got;
  for (int i = 0; i < 6; ++i) got.push_back(Work(c()));
  EXPECT_TRUE(Same(got[0], Triple("second", "k4", M({{"d", I(4)}}))));
  EXPECT_TRUE(Same(got[1], Triple("second", "k2", M({{"d", I(2)}}))));
  EXPECT_TRUE(Same(got[2], Triple("second", "k3", M({{"d", I(3)}}))));
  EXPECT_TRUE(Same(got[3], Triple("second", "k1", M({{"d", I(1)}}))));
  EXPECT_TRUE(Same(got[4], Triple("second", "k5", Value::Map())));
  EXPECT_TRUE(Same(got[5], NoWork()));
}

TEST_F(ChainTest, PriorityInheritedFromParentWhenNotGiven) {
  AddUnits(c(), "second",
           {Tup({B("a0"), Value::Map(), M({{"priority", I(4)}})}),
            Tup({B("zz"), Value::Map(), M({{"priority", I(6)}})})});
  LeaseParent("p", Value::Map(), M({{"priority", I(5)}}));
  FinishWith(
      c(), "first", "p",
      OutputData(A({B("y"), Tup({B("z"), Value::Map()}), Tup({B("w"), Value::Map(), Value::Map()}),
                    Tup({B("x"), Value::Map(), M({{"delay", I(0)}})})})));
  std::string order;
  for (int i = 0; i < 6; ++i) {
    Value t = Work(c(), "second");
    ASSERT_TRUE(t.is_tuple() && t.items()[1].is_string()) << t.ToDiagnostic();
    order += t.items()[1].str() + " ";
  }
  EXPECT_EQ(order, "zz w x y z a0 ");
}

TEST_F(ChainTest, PriorityInheritedForMapOutput) {
  AddUnits(c(), "second", {Tup({B("a0"), Value::Map(), M({{"priority", I(4)}})})});
  LeaseParent("p", Value::Map(), M({{"priority", I(5)}}));
  FinishWith(c(), "first", "p", OutputData(M({{"m", Value::Map()}})));
  EXPECT_TRUE(Same(Work(c(), "second"), Triple("second", "m", Value::Map())));
}

TEST_F(ChainTest, DelayInOutputMeta) {
  LeaseParent("p");
  FinishWith(c(), "first", "p",
             OutputData(A({Tup({B("later"), M({{"x", I(1)}}), M({{"delay", I(90)}})}), B("now")})));
  EXPECT_EQ(StatusCode(c(), "second", "later"), kAvailable);
  EXPECT_TRUE(Same(Work(c()), Triple("second", "now", Value::Map())));
  EXPECT_TRUE(Same(Work(c()), NoWork()));
  AdvanceClock(c(), 60);
  EXPECT_TRUE(Same(Work(c()), NoWork()));
  AdvanceClock(c(), 31);
  EXPECT_TRUE(Same(Work(c()), Triple("second", "later", M({{"x", I(1)}}))));
}

TEST_F(ChainTest, ExistingSuccessorUnitIsResetWithNewData) {
  AddUnits(c(), "second",
           {Tup({B("done"), M({{"old", I(1)}})}), Tup({B("busy"), M({{"old", I(2)}})})});
  ASSERT_TRUE(Same(Work(c(), "second"), Triple("second", "busy", M({{"old", I(2)}}))));
  ASSERT_TRUE(Same(Work(c(), "second"), Triple("second", "done", M({{"old", I(1)}}))));
  FinishWith(c(), "second", "done", Value::Undefined());
  ASSERT_EQ(StatusCode(c(), "second", "done"), kFinished);
  ASSERT_EQ(StatusCode(c(), "second", "busy"), kPending);

  LeaseParent("p");
  FinishWith(c(), "first", "p",
             OutputData(M({{"done", M({{"new", I(1)}})}, {"busy", M({{"new", I(2)}})}})));
  EXPECT_EQ(StatusCode(c(), "second", "done"), kAvailable);
  EXPECT_EQ(StatusCode(c(), "second", "busy"), kAvailable);
  EXPECT_TRUE(Same(Units(c(), "second"), A({Tup({B("busy"), M({{"new", I(2)}})}),
                                            Tup({B("done"), M({{"new", I(1)}})})})));
  EXPECT_TRUE(Same(Work(c(), "second"), Triple("second", "busy", M({{"new", I(2)}}))));
  EXPECT_TRUE(Same(Work(c(), "second"), Triple("second", "done", M({{"new", I(1)}}))));
}

TEST_F(ChainTest, MissingSuccessorSpecIsIgnored) {
  SetSpec(c(), SpecDef("orphan", {{"then", B("nope")}}));
  AddUnits(c(), "orphan", {Tup({B("p"), Value::Map()})});
  ASSERT_TRUE(Same(Work(c(), "orphan"), Triple("orphan", "p", Value::Map())));
  FinishWith(c(), "orphan", "p", OutputData(M({{"u", Value::Map()}})));
  EXPECT_EQ(StatusCode(c(), "orphan", "p"), kFinished);
  EXPECT_TRUE(Same(Call(c(), "get_work_spec", A({B("nope")})), Null()));
  EXPECT_TRUE(Same(Work(c()), NoWork()));
}

TEST_F(ChainTest, NoOutputCreatesNothing) {
  LeaseParent("p1");
  FinishWith(c(), "first", "p1", Value::Undefined());
  LeaseParent("p2");
  FinishWith(c(), "first", "p2", M({{"result", I(1)}}));
  LeaseParent("p3");
  FinishWith(c(), "first", "p3", OutputData(A()));
  LeaseParent("p4");
  FinishWith(c(), "first", "p4", OutputData(Null()));
  EXPECT_TRUE(Same(Units(c(), "second"), A()));
  EXPECT_TRUE(Same(Work(c()), NoWork()));
}

TEST_F(ChainTest, SpecWithoutThenIgnoresOutput) {
  AddUnits(c(), "second", {Tup({B("s"), Value::Map()})});
  ASSERT_TRUE(Same(Work(c(), "second"), Triple("second", "s", Value::Map())));
  FinishWith(c(), "second", "s", OutputData(M({{"u", Value::Map()}})));
  EXPECT_TRUE(Same(Units(c(), "second"), A({Tup({B("s"), OutputData(M({{"u", Value::Map()}}))})})));
  EXPECT_TRUE(Same(Units(c(), "first"), A()));
}

TEST_F(ChainTest, OutputWrittenByEarlierUpdateStillChains) {
  LeaseParent("p");
  EXPECT_TRUE(Same(
      Update(c(), "first", "p", M({{"lease_time", I(600)}, {"data", OutputData(A({B("x")}))}})),
      OkPair()));
  EXPECT_TRUE(Same(Units(c(), "second"), A()));
  FinishWith(c(), "first", "p", Value::Undefined());
  EXPECT_TRUE(Same(Work(c()), Triple("second", "x", Value::Map())));
}

TEST_F(ChainTest, OutputInOriginalDataChains) {
  LeaseParent("p", OutputData(M({{"orig", M({{"o", I(1)}})}})));
  FinishWith(c(), "first", "p", Value::Undefined());
  EXPECT_TRUE(Same(Work(c()), Triple("second", "orig", M({{"o", I(1)}}))));
}

TEST_F(ChainTest, FailedNeverChainsButFinishingItDoes) {
  LeaseParent("p");
  EXPECT_TRUE(
      Same(Update(c(), "first", "p",
                  M({{"status", I(kFailed)}, {"data", OutputData(M({{"x", M({{"n", I(1)}})}}))}})),
           OkPair()));
  EXPECT_EQ(StatusCode(c(), "first", "p"), kFailed);
  EXPECT_TRUE(Same(Units(c(), "second"), A()));
  // FAILED -> FAILED again: still nothing.
  EXPECT_TRUE(Same(Update(c(), "first", "p", M({{"status", I(kFailed)}})), OkPair()));
  EXPECT_TRUE(Same(Units(c(), "second"), A()));
  // FINISHED wins over FAILED and chains with the output already stored.
  FinishWith(c(), "first", "p", Value::Undefined());
  EXPECT_EQ(StatusCode(c(), "first", "p"), kFinished);
  EXPECT_TRUE(Same(Work(c()), Triple("second", "x", M({{"n", I(1)}}))));
}

TEST_F(ChainTest, FinishingAnAvailableUnitChains) {
  // No lease is required to report a result (PY enforces no ownership).
  AddUnits(c(), "first", {Tup({B("p"), Value::Map()})});
  FinishWith(c(), "first", "p", OutputData(A({B("x")})));
  EXPECT_TRUE(Same(Work(c(), "second"), Triple("second", "x", Value::Map())));
}

TEST_F(ChainTest, ChainedUnitsSurviveKillRightAfterFinish) {
  LeaseParent("p");
  FinishWith(c(), "first", "p", OutputData(M({{"a", M({{"n", I(1)}})}, {"b", M({{"n", I(2)}})}})));
  d_->Kill();
  ASSERT_TRUE(d_->Start().ok()) << d_->Log();
  c_ = d_->NewClient();
  EXPECT_EQ(StatusCode(c(), "first", "p"), kFinished);
  EXPECT_TRUE(Same(Units(c(), "second"),
                   A({Tup({B("a"), M({{"n", I(1)}})}), Tup({B("b"), M({{"n", I(2)}})})})));
  EXPECT_TRUE(Same(Work(c()), Triple("second", "a", M({{"n", I(1)}}))));
}

}  // namespace
}  // namespace coordtest
