// Unit dependencies through the real daemon: add_dependent_work_units(later, earlier, hard)
// (CONTRACT.md §3, rejester's dependencies). A unit with unfinished prerequisites is BLOCKED
// (status 2): counted and listed as such, never handed out, its status carries `depends_on`.
// A prerequisite that FINISHES releases its dependents; one that FAILS fails its hard
// dependents (transitively) and releases its soft ones; deleting it releases them. Cycles are
// refused and leave nothing behind. Edges survive kill -9.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

Value FalsePair(std::string_view msg) { return Tup({Bool(false), B(msg)}); }

// (spec, key, data) as add_dependent_work_units takes it; data null = keep / {}.
Value U(std::string_view spec, std::string_view key, Value data = Null()) {
  return Tup({B(spec), B(key), std::move(data)});
}

// (spec, key) as depends_on lists a prerequisite.
Value Ref(std::string_view spec, std::string_view key) { return Tup({B(spec), B(key)}); }

class DepTest : public testing::Test {
 protected:
  void SetUp() override { StartDaemon(DaemonOptions()); }

  void StartDaemon(DaemonOptions options) {
    d_ = std::make_unique<Daemon>(dir_.path(), std::move(options));
    ASSERT_TRUE(d_->Start().ok()) << d_->Log();
    c_ = d_->NewClient();
  }

  void TearDown() override {
    if (c_ && d_->running()) ExpectConsistent();
  }

  void ExpectConsistent() {
    auto problems = c_->Call("_test_check");
    ASSERT_TRUE(problems.ok()) << problems.status().ToString();
    EXPECT_TRUE(Same(*problems, A())) << "store inconsistent";
  }

  void Restart() {
    d_->Kill();
    ASSERT_TRUE(d_->Start().ok()) << d_->Log();
    c_ = d_->NewClient();
  }

  Client& c() { return *c_; }

  void SetSpec(std::string_view name, Value extra = Value::Map()) {
    Value def = M({{"name", B(name)}});
    for (size_t i = 0; i < extra.map_size(); ++i) def.Set(extra.key_at(i), extra.value_at(i));
    EXPECT_TRUE(Same(Call(c(), "set_work_spec", A({def})), OkPair()));
  }

  void AddUnits(std::string_view spec, std::vector<Value> items) {
    EXPECT_TRUE(Same(Call(c(), "add_work_units", A({B(spec), A(std::move(items))})), OkPair()));
  }

  // add_dependent_work_units with an explicit hard flag, or without one (Undefined).
  Value Dep(Value later, Value earlier, Value hard = Value::Undefined()) {
    Value params = A({std::move(later), std::move(earlier)});
    if (hard.kind() != Value::Kind::kUndefined) params.Append(std::move(hard));
    return Call(c(), "add_dependent_work_units", std::move(params));
  }

  void ExpectDep(Value later, Value earlier, Value hard = Value::Undefined()) {
    EXPECT_TRUE(Same(Dep(std::move(later), std::move(earlier), std::move(hard)), OkPair()));
  }

  // The status maps of these keys (null for a missing unit).
  std::vector<Value> Statuses(std::string_view spec, const std::vector<std::string>& keys) {
    Value ks = A();
    for (const auto& k : keys) ks.Append(B(k));
    Value r = Call(c(), "get_work_unit_status", A({B(spec), ks}));
    if (!r.is_tuple() || r.items().size() != 2 || !r.items()[0].is_array() ||
        r.items()[0].items().size() != keys.size()) {
      ADD_FAILURE() << "get_work_unit_status: " << r.ToDiagnostic();
      return std::vector<Value>(keys.size(), Value::Undefined());
    }
    return r.items()[0].items();
  }

  Value StatusMap(std::string_view spec, std::string_view key) {
    return Statuses(spec, {std::string(key)})[0];
  }

  int StatusOf(std::string_view spec, std::string_view key) {
    Value m = StatusMap(spec, key);
    if (m.is_null()) return 0;
    const Value* s = m.is_map() ? m.FindKey("status") : nullptr;
    return s && s->AsInt64() ? static_cast<int>(*s->AsInt64()) : -1;
  }

  // The depends_on entry of a unit's status, or Undefined when absent.
  Value DependsOn(std::string_view spec, std::string_view key) {
    Value m = StatusMap(spec, key);
    const Value* d = m.is_map() ? m.FindKey("depends_on") : nullptr;
    return d ? *d : Value::Undefined();
  }

  std::string Traceback(std::string_view spec, std::string_view key) {
    Value m = StatusMap(spec, key);
    const Value* t = m.is_map() ? m.FindKey("traceback") : nullptr;
    return t && t->is_string() ? t->str() : std::string();
  }

  Value Counts(std::string_view spec) { return StatusCounts(c(), spec); }

  // All (key, data) tuples of a spec in one state.
  Value UnitsIn(std::string_view spec, int state) {
    Value r = Call(c(), "get_work_units", A({B(spec), M({{"state", I(state)}})}));
    if (!r.is_tuple() || r.items().size() != 2) return Value::Undefined();
    return r.items()[0];
  }

  Value UnitData(std::string_view spec, std::string_view key) {
    Value r = Call(c(), "get_work_units", A({B(spec), M({{"work_unit_keys", A({B(key)})}})}));
    if (!r.is_tuple() || !r.items()[0].is_array() || r.items()[0].items().size() != 1) {
      return Value::Undefined();
    }
    return r.items()[0].items()[0].items()[1];
  }

  // One get_work (single form), optionally restricted to a spec: the key, "" for no work.
  std::string Work(std::string_view spec = "", std::string_view worker = "w") {
    Value opts = Value::Map();
    if (!spec.empty()) opts = M({{"work_spec_names", A({B(spec)})}});
    Value r = Call(c(), "get_work", A({B(worker), opts}));
    if (!r.is_tuple() || r.items().size() != 2 || !r.items()[0].is_tuple() ||
        r.items()[0].items().size() != 3) {
      ADD_FAILURE() << "get_work: " << r.ToDiagnostic();
      return "?";
    }
    const Value& t = r.items()[0];
    if (t.items()[1].is_null()) return "";
    if (!spec.empty()) {
      EXPECT_TRUE(Same(t.items()[0], B(spec)));
    }
    return t.items()[1].str();
  }

  void SetStatus(std::string_view spec, std::string_view key, int status) {
    Value r = Call(c(), "update_work_unit", A({B(spec), B(key), M({{"status", I(status)}})}));
    EXPECT_TRUE(Same(r, OkPair())) << spec << "/" << key << " -> " << status;
  }
  void Finish(std::string_view spec, std::string_view key) { SetStatus(spec, key, kFinished); }
  void Fail(std::string_view spec, std::string_view key) { SetStatus(spec, key, kFailed); }

  TempDir dir_;
  std::unique_ptr<Daemon> d_;
  std::unique_ptr<Client> c_;
};

// ---- basics -----------------------------------------------------------------------------------

TEST_F(DepTest, ChainOfThreeIsReleasedInOrder) {
  SetSpec("s");
  ExpectDep(U("s", "b", M({{"x", I(1)}})), U("s", "a"), Bool(true));
  ExpectDep(U("s", "c"), U("s", "b"), Bool(true));
  // Units are created: a and c with {} (data None), b with the data given.
  EXPECT_TRUE(Same(UnitData("s", "a"), Value::Map()));
  EXPECT_TRUE(Same(UnitData("s", "b"), M({{"x", I(1)}})));
  EXPECT_TRUE(Same(UnitData("s", "c"), Value::Map()));
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kAvailable, 1}, {kBlocked, 2}})));
  EXPECT_TRUE(Same(UnitsIn("s", kBlocked),
                   A({Tup({B("b"), M({{"x", I(1)}})}), Tup({B("c"), Value::Map()})})));
  EXPECT_TRUE(Same(UnitsIn("s", kAvailable), A({Tup({B("a"), Value::Map()})})));
  EXPECT_EQ(StatusOf("s", "b"), kBlocked);
  EXPECT_TRUE(Same(DependsOn("s", "b"), A({Ref("s", "a")})));
  EXPECT_TRUE(Same(DependsOn("s", "c"), A({Ref("s", "b")})));
  EXPECT_TRUE(Same(DependsOn("s", "a"), Value::Undefined()));

  EXPECT_EQ(Work(), "a");
  EXPECT_EQ(Work(), "");  // b and c are blocked
  EXPECT_EQ(StatusOf("s", "a"), kPending);
  EXPECT_EQ(StatusOf("s", "b"), kBlocked);
  Finish("s", "a");
  EXPECT_EQ(StatusOf("s", "b"), kAvailable);
  EXPECT_TRUE(Same(DependsOn("s", "b"), Value::Undefined()));
  EXPECT_EQ(StatusOf("s", "c"), kBlocked);
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kAvailable, 1}, {kBlocked, 1}, {kFinished, 1}})));
  EXPECT_EQ(Work(), "b");
  EXPECT_EQ(Work(), "");
  Finish("s", "b");
  EXPECT_EQ(StatusOf("s", "c"), kAvailable);
  EXPECT_EQ(Work(), "c");
  Finish("s", "c");
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kFinished, 3}})));
}

TEST_F(DepTest, HardDefaultsToTrue) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"));  // no third parameter
  EXPECT_EQ(Work(), "a");
  Fail("s", "a");
  EXPECT_EQ(StatusOf("s", "b"), kFailed);
}

TEST_F(DepTest, ExistingUnitKeepsItsDataWhenNoneIsGiven) {
  SetSpec("s");
  AddUnits("s", {Tup({B("a"), M({{"keep", B("me")}})}), Tup({B("b"), M({{"also", I(2)}})})});
  ExpectDep(U("s", "b"), U("s", "a"));
  EXPECT_TRUE(Same(UnitData("s", "a"), M({{"keep", B("me")}})));
  EXPECT_TRUE(Same(UnitData("s", "b"), M({{"also", I(2)}})));
  EXPECT_EQ(StatusOf("s", "b"), kBlocked);
  EXPECT_EQ(StatusOf("s", "a"), kAvailable);
}

TEST_F(DepTest, AcrossSpecs) {
  SetSpec("p");
  SetSpec("q");
  ExpectDep(U("q", "later"), U("p", "earlier"));
  EXPECT_TRUE(Same(DependsOn("q", "later"), A({Ref("p", "earlier")})));
  EXPECT_TRUE(Same(Counts("q"), CountMap({{kBlocked, 1}})));
  EXPECT_EQ(Work("q"), "");
  EXPECT_EQ(Work("p"), "earlier");
  Finish("p", "earlier");
  EXPECT_EQ(Work("q"), "later");
}

TEST_F(DepTest, Diamond) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"));
  ExpectDep(U("s", "c"), U("s", "a"));
  ExpectDep(U("s", "d"), U("s", "b"));
  ExpectDep(U("s", "d"), U("s", "c"));
  EXPECT_TRUE(Same(DependsOn("s", "d"), A({Ref("s", "b"), Ref("s", "c")})));
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kAvailable, 1}, {kBlocked, 3}})));
  EXPECT_EQ(Work(), "a");
  Finish("s", "a");
  EXPECT_EQ(StatusOf("s", "b"), kAvailable);
  EXPECT_EQ(StatusOf("s", "c"), kAvailable);
  EXPECT_EQ(StatusOf("s", "d"), kBlocked);
  EXPECT_EQ(Work(), "b");
  Finish("s", "b");
  EXPECT_EQ(StatusOf("s", "d"), kBlocked);
  EXPECT_TRUE(Same(DependsOn("s", "d"), A({Ref("s", "c")})));
  EXPECT_EQ(Work(), "c");
  EXPECT_EQ(Work(), "");
  Finish("s", "c");
  EXPECT_EQ(StatusOf("s", "d"), kAvailable);
  EXPECT_EQ(Work(), "d");
}

TEST_F(DepTest, DuplicateEdgeCountsOnce) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"));
  ExpectDep(U("s", "b"), U("s", "a"));
  EXPECT_TRUE(Same(DependsOn("s", "b"), A({Ref("s", "a")})));
  Finish("s", "a");  // directly from AVAILABLE
  EXPECT_EQ(StatusOf("s", "b"), kAvailable);
}

TEST_F(DepTest, PrerequisiteAlreadyCompleted) {
  SetSpec("s");
  AddUnits("s", {Tup({B("done"), Value::Map()}), Tup({B("broken"), Value::Map()})});
  Finish("s", "done");
  Fail("s", "broken");
  ExpectDep(U("s", "x"), U("s", "done"));
  EXPECT_EQ(StatusOf("s", "x"), kAvailable);
  ExpectDep(U("s", "y"), U("s", "broken"), Bool(false));
  EXPECT_EQ(StatusOf("s", "y"), kAvailable);
  ExpectDep(U("s", "z"), U("s", "broken"), Bool(true));
  EXPECT_EQ(StatusOf("s", "z"), kFailed);
  EXPECT_NE(Traceback("s", "z").find("broken"), std::string::npos) << Traceback("s", "z");
}

TEST_F(DepTest, KeywordParamsAndTextNames) {
  SetSpec("s");
  AddUnits("s", {Tup({T("pre"), Value::Map()})});
  Value r = Call(c(), "add_dependent_work_units",
                 M({{"later", Tup({T("s"), T("post"), Null()})},
                    {"earlier", Tup({B("s"), B("pre"), Null()})}}));
  EXPECT_TRUE(Same(r, OkPair()));
  // The prerequisite keeps the type it was created with; the new unit gets the type it was
  // named with.
  EXPECT_TRUE(Same(DependsOn("s", "post"), A({Tup({B("s"), T("pre")})})));
  EXPECT_TRUE(Same(UnitsIn("s", kBlocked), A({Tup({T("post"), Value::Map()})})));
  Fail("s", "pre");  // hard by default
  EXPECT_EQ(StatusOf("s", "post"), kFailed);
}

TEST_F(DepTest, FinishingReleasesAndChainsInOneStep) {
  SetSpec("first", M({{"then", B("second")}}));
  SetSpec("second");
  ExpectDep(U("first", "b"), U("first", "a"));
  ExpectDep(U("second", "c"), U("first", "a"));
  EXPECT_EQ(Work("first"), "a");
  EXPECT_TRUE(
      Same(Call(c(), "update_work_unit",
                A({B("first"), B("a"),
                   M({{"status", I(kFinished)}, {"data", M({{"output", A({B("out")})}})}})})),
           OkPair()));
  EXPECT_EQ(StatusOf("first", "b"), kAvailable);
  EXPECT_EQ(StatusOf("second", "c"), kAvailable);
  EXPECT_EQ(StatusOf("second", "out"), kAvailable);
}

// ---- failures -----------------------------------------------------------------------------------

TEST_F(DepTest, HardFailureCascadesTransitively) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"), Bool(true));
  ExpectDep(U("s", "c"), U("s", "b"), Bool(true));
  EXPECT_EQ(Work(), "a");
  Fail("s", "a");
  EXPECT_EQ(StatusOf("s", "a"), kFailed);
  EXPECT_EQ(StatusOf("s", "b"), kFailed);
  EXPECT_EQ(StatusOf("s", "c"), kFailed);
  const std::string tb_b = Traceback("s", "b");
  const std::string tb_c = Traceback("s", "c");
  EXPECT_NE(tb_b.find("'a'"), std::string::npos) << tb_b;
  EXPECT_NE(tb_c.find("'b'"), std::string::npos) << tb_c;
  // The traceback is in the unit's data too.
  Value data = UnitData("s", "b");
  ASSERT_TRUE(data.is_map()) << data.ToDiagnostic();
  EXPECT_NE(data.FindKey("traceback"), nullptr) << data.ToDiagnostic();
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kFailed, 3}})));
  EXPECT_EQ(Work(), "");
}

TEST_F(DepTest, HardFailureKeepsOtherDataOfTheDependent) {
  SetSpec("s");
  ExpectDep(U("s", "b", M({{"payload", I(7)}})), U("s", "a"));
  Fail("s", "a");
  Value data = UnitData("s", "b");
  ASSERT_TRUE(data.is_map()) << data.ToDiagnostic();
  ASSERT_NE(data.FindKey("payload"), nullptr) << data.ToDiagnostic();
  EXPECT_TRUE(Same(*data.FindKey("payload"), I(7)));
  EXPECT_NE(data.FindKey("traceback"), nullptr);
}

TEST_F(DepTest, SoftFailureReleases) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"), Bool(false));
  ExpectDep(U("s", "c"), U("s", "b"), Bool(true));
  EXPECT_EQ(Work(), "a");
  Fail("s", "a");
  EXPECT_EQ(StatusOf("s", "b"), kAvailable);
  EXPECT_EQ(Traceback("s", "b"), "");
  EXPECT_EQ(StatusOf("s", "c"), kBlocked);
  EXPECT_EQ(Work(), "b");
  Finish("s", "b");
  EXPECT_EQ(StatusOf("s", "c"), kAvailable);
}

TEST_F(DepTest, SoftFailureStopsCascadeButHardContinuesElsewhere) {
  // a fails: b (hard) fails, c (soft on a) released; d hard on b fails; e soft on b released.
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"), Bool(true));
  ExpectDep(U("s", "c"), U("s", "a"), Bool(false));
  ExpectDep(U("s", "d"), U("s", "b"), Bool(true));
  ExpectDep(U("s", "e"), U("s", "b"), Bool(false));
  Fail("s", "a");
  EXPECT_EQ(StatusOf("s", "b"), kFailed);
  EXPECT_EQ(StatusOf("s", "c"), kAvailable);
  EXPECT_EQ(StatusOf("s", "d"), kFailed);
  EXPECT_EQ(StatusOf("s", "e"), kAvailable);
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kAvailable, 2}, {kFailed, 3}})));
}

TEST_F(DepTest, SoftReleaseWaitsForOtherPrerequisites) {
  SetSpec("s");
  ExpectDep(U("s", "d"), U("s", "a"), Bool(false));
  ExpectDep(U("s", "d"), U("s", "b"), Bool(true));
  Fail("s", "a");
  EXPECT_EQ(StatusOf("s", "d"), kBlocked);
  EXPECT_TRUE(Same(DependsOn("s", "d"), A({Ref("s", "b")})));
  Finish("s", "b");
  EXPECT_EQ(StatusOf("s", "d"), kAvailable);
}

TEST_F(DepTest, RetryOfFailedPrerequisiteDoesNotResurrectDependents) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"), Bool(true));
  EXPECT_EQ(Work(), "a");
  Fail("s", "a");
  EXPECT_EQ(StatusOf("s", "b"), kFailed);
  SetStatus("s", "a", kAvailable);  // retry
  EXPECT_EQ(StatusOf("s", "a"), kAvailable);
  EXPECT_EQ(StatusOf("s", "b"), kFailed);
  EXPECT_EQ(Work(), "a");
  Finish("s", "a");
  EXPECT_EQ(StatusOf("s", "b"), kFailed);
  EXPECT_EQ(Work(), "");
}

TEST_F(DepTest, FinishAfterFailedReleasesNothingAlreadyFailed) {
  // FINISHED beats FAILED: a failed prerequisite later marked finished does not revive hard
  // dependents that failed with it.
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"), Bool(true));
  Fail("s", "a");
  Finish("s", "a");
  EXPECT_EQ(StatusOf("s", "a"), kFinished);
  EXPECT_EQ(StatusOf("s", "b"), kFailed);
}

TEST_F(DepTest, MaxRetriesFailureCascades) {
  SetSpec("s", M({{"max_retries", I(1)}}));
  ExpectDep(U("s", "b"), U("s", "a"), Bool(true));
  Value r = Call(c(), "get_work", A({B("w"), M({{"lease_time", I(10)}})}));
  ASSERT_TRUE(Same(r, Tup({Tup({B("s"), B("a"), Value::Map()}), Null()})));
  AdvanceClock(c(), 20);
  EXPECT_EQ(StatusOf("s", "a"), kFailed);
  EXPECT_EQ(StatusOf("s", "b"), kFailed);
  EXPECT_EQ(Work(), "");
}

TEST_F(DepTest, LeaseExpiryOfPrerequisiteKeepsDependentBlocked) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"));
  Value r = Call(c(), "get_work", A({B("w"), M({{"lease_time", I(10)}})}));
  ASSERT_TRUE(Same(r, Tup({Tup({B("s"), B("a"), Value::Map()}), Null()})));
  AdvanceClock(c(), 20);
  EXPECT_EQ(StatusOf("s", "a"), kAvailable);
  EXPECT_EQ(StatusOf("s", "b"), kBlocked);
  EXPECT_EQ(Work(), "a");
  EXPECT_EQ(Work(), "");
}

// ---- refusals -----------------------------------------------------------------------------------

TEST_F(DepTest, DirectCycleRefusedNothingStored) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"));
  Value r = Dep(U("s", "a", M({{"new", I(1)}})), U("s", "b", M({{"new", I(2)}})));
  ASSERT_TRUE(r.is_tuple() && r.items().size() == 2) << r.ToDiagnostic();
  EXPECT_TRUE(Same(r.items()[0], Bool(false))) << r.ToDiagnostic();
  EXPECT_TRUE(r.items()[1].is_bytes() && !r.items()[1].str().empty()) << r.ToDiagnostic();
  // Nothing changed: no edge, no data replaced.
  EXPECT_EQ(StatusOf("s", "a"), kAvailable);
  EXPECT_TRUE(Same(DependsOn("s", "a"), Value::Undefined()));
  EXPECT_TRUE(Same(DependsOn("s", "b"), A({Ref("s", "a")})));
  EXPECT_TRUE(Same(UnitData("s", "a"), Value::Map()));
  EXPECT_TRUE(Same(UnitData("s", "b"), Value::Map()));
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kAvailable, 1}, {kBlocked, 1}})));
  // The graph still works.
  Finish("s", "a");
  EXPECT_EQ(StatusOf("s", "b"), kAvailable);
}

TEST_F(DepTest, CycleThroughThreeUnitsAndTwoSpecsRefused) {
  SetSpec("s");
  SetSpec("t");
  ExpectDep(U("t", "b"), U("s", "a"));
  ExpectDep(U("s", "c"), U("t", "b"));
  Value r = Dep(U("s", "a"), U("s", "c"));
  ASSERT_TRUE(r.is_tuple() && r.items().size() == 2) << r.ToDiagnostic();
  EXPECT_TRUE(Same(r.items()[0], Bool(false))) << r.ToDiagnostic();
  EXPECT_TRUE(r.items()[1].is_bytes());
  EXPECT_EQ(StatusOf("s", "a"), kAvailable);
  EXPECT_TRUE(Same(DependsOn("s", "a"), Value::Undefined()));
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kAvailable, 1}, {kBlocked, 1}})));
  EXPECT_TRUE(Same(Counts("t"), CountMap({{kBlocked, 1}})));
  // A non-cyclic extra edge (c also waits for a) is still accepted.
  ExpectDep(U("s", "c"), U("s", "a"));
  Finish("s", "a");
  EXPECT_EQ(StatusOf("t", "b"), kAvailable);
  EXPECT_EQ(StatusOf("s", "c"), kBlocked);
  Finish("t", "b");
  EXPECT_EQ(StatusOf("s", "c"), kAvailable);
}

TEST_F(DepTest, SelfDependencyRefused) {
  SetSpec("s");
  Value r = Dep(U("s", "a"), U("s", "a"));
  ASSERT_TRUE(r.is_tuple() && r.items().size() == 2) << r.ToDiagnostic();
  EXPECT_TRUE(Same(r.items()[0], Bool(false))) << r.ToDiagnostic();
  EXPECT_TRUE(r.items()[1].is_bytes());
  EXPECT_TRUE(Same(Counts("s"), Value::Map()));  // the unit was not created
  // b"a" and u"a" are the same unit.
  AddUnits("s", {Tup({B("a"), Value::Map()})});
  r = Call(c(), "add_dependent_work_units",
           A({Tup({B("s"), B("a"), Null()}), Tup({T("s"), T("a"), Null()})}));
  ASSERT_TRUE(r.is_tuple() && r.items().size() == 2) << r.ToDiagnostic();
  EXPECT_TRUE(Same(r.items()[0], Bool(false))) << r.ToDiagnostic();
  EXPECT_EQ(StatusOf("s", "a"), kAvailable);
}

TEST_F(DepTest, UnknownSpecRefusedNothingCreated) {
  SetSpec("s");
  EXPECT_TRUE(Same(Dep(U("nope", "b"), U("s", "a")), FalsePair("no such work_spec 'nope'")));
  EXPECT_TRUE(Same(Dep(U("s", "b"), U("nope", "a")), FalsePair("no such work_spec 'nope'")));
  EXPECT_TRUE(Same(Counts("s"), Value::Map()));
  EXPECT_TRUE(Same(Call(c(), "get_work_spec", A({B("nope")})), Null()));
}

TEST_F(DepTest, MalformedUnitIsAnError) {
  SetSpec("s");
  auto r = c().Call("add_dependent_work_units", A({B("s"), U("s", "a")}));
  EXPECT_FALSE(r.ok());
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), coordinated::Code::kInvalidArgument);
  }
  r = c().Call("add_dependent_work_units", A({Tup({B("s"), I(5), Null()}), U("s", "a")}));
  EXPECT_FALSE(r.ok());
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), coordinated::Code::kInvalidArgument);
  }
  EXPECT_TRUE(Same(Counts("s"), Value::Map()));
  // The connection is still usable.
  ExpectDep(U("s", "b"), U("s", "a"));
}

// ---- what a blocked unit never does ------------------------------------------------------------

TEST_F(DepTest, GetWorkNeverReturnsBlockedUnits) {
  SetSpec("s");
  SetSpec("t");
  AddUnits("s", {Tup({B("free"), Value::Map()})});
  for (int i = 0; i < 5; ++i) ExpectDep(U("s", "x" + std::to_string(i)), U("t", "gate"));
  // A high priority does not let a blocked unit out.
  EXPECT_TRUE(
      Same(Call(c(), "prioritize_work_units",
                A({B("s"), M({{"work_unit_keys", A({B("x0"), B("x1")})}, {"priority", I(100)}})})),
           OkPair()));
  EXPECT_EQ(StatusOf("s", "x0"), kBlocked);
  Value r = Call(c(), "get_work",
                 A({B("w"), M({{"max_jobs", I(10)}, {"work_spec_names", A({B("s")})}})}));
  EXPECT_TRUE(Same(r, Tup({A({Tup({B("s"), B("free"), Value::Map()})}), Null()})));
  r = Call(c(), "get_work",
           A({B("w"), M({{"max_jobs", I(10)}, {"work_spec_names", A({B("s")})}})}));
  EXPECT_TRUE(Same(r, Tup({A(), Null()})));
  EXPECT_EQ(Work(), "gate");
  EXPECT_EQ(Work(), "");
  Finish("t", "gate");
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kAvailable, 5}, {kPending, 1}})));
  // Released in priority order.
  EXPECT_EQ(Work("s"), "x0");
  EXPECT_EQ(Work("s"), "x1");
  EXPECT_EQ(Work("s"), "x2");
}

TEST_F(DepTest, ReAddingABlockedUnitKeepsItBlocked) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"));
  AddUnits("s", {Tup({B("b"), M({{"v", I(2)}})})});
  EXPECT_EQ(StatusOf("s", "b"), kBlocked);
  EXPECT_TRUE(Same(UnitData("s", "b"), M({{"v", I(2)}})));
  EXPECT_EQ(Work(), "a");
  EXPECT_EQ(Work(), "");
  Finish("s", "a");
  EXPECT_EQ(Work(), "b");
}

TEST_F(DepTest, RetryingABlockedUnitKeepsItBlocked) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"));
  SetStatus("s", "b", kAvailable);
  EXPECT_EQ(StatusOf("s", "b"), kBlocked);
  EXPECT_EQ(Work(), "a");
  EXPECT_EQ(Work(), "");
}

// ---- deletion -----------------------------------------------------------------------------------

TEST_F(DepTest, DeletingPrerequisiteReleases) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"));
  ExpectDep(U("s", "c"), U("s", "a"), Bool(false));
  EXPECT_TRUE(Same(Call(c(), "del_work_units", A({B("s"), M({{"work_unit_keys", A({B("a")})}})})),
                   Tup({I(1), Null()})));
  EXPECT_EQ(StatusOf("s", "a"), 0);
  EXPECT_EQ(StatusOf("s", "b"), kAvailable);
  EXPECT_EQ(StatusOf("s", "c"), kAvailable);
  EXPECT_TRUE(Same(DependsOn("s", "b"), Value::Undefined()));
  EXPECT_EQ(Work(), "b");
}

TEST_F(DepTest, DeletingPrerequisiteByStateReleases) {
  SetSpec("p");
  SetSpec("q");
  ExpectDep(U("q", "b"), U("p", "a"));
  EXPECT_TRUE(Same(Call(c(), "del_work_units", A({B("p"), M({{"state", I(kAvailable)}})})),
                   Tup({I(1), Null()})));
  EXPECT_EQ(StatusOf("q", "b"), kAvailable);
}

TEST_F(DepTest, DeletingAllUnitsOfPrerequisiteSpecReleases) {
  SetSpec("p");
  SetSpec("q");
  ExpectDep(U("q", "b"), U("p", "a"));
  EXPECT_TRUE(Same(Call(c(), "del_work_units", A({B("p"), M({{"all", Bool(true)}})})),
                   Tup({I(1), Null()})));
  EXPECT_EQ(StatusOf("q", "b"), kAvailable);
  EXPECT_EQ(Work(), "b");
}

TEST_F(DepTest, DeletingBlockedUnitsByState) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"));
  ExpectDep(U("s", "c"), U("s", "b"));
  ExpectDep(U("s", "d"), U("s", "a"));
  EXPECT_TRUE(Same(Call(c(), "del_work_units", A({B("s"), M({{"state", I(kBlocked)}})})),
                   Tup({I(3), Null()})));
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kAvailable, 1}})));
  ExpectConsistent();
  Finish("s", "a");
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kFinished, 1}})));
}

TEST_F(DepTest, DeletingDependentLeavesPrerequisiteClean) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"));
  EXPECT_TRUE(Same(Call(c(), "del_work_units", A({B("s"), M({{"work_unit_keys", A({B("b")})}})})),
                   Tup({I(1), Null()})));
  ExpectConsistent();
  Fail("s", "a");
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kFailed, 1}})));
  // A new unit with the old name is not blocked by the old edge.
  AddUnits("s", {Tup({B("b"), Value::Map()})});
  EXPECT_EQ(StatusOf("s", "b"), kAvailable);
}

TEST_F(DepTest, DelWorkSpecOfPrerequisiteReleasesDependentsInAnotherSpec) {
  SetSpec("p");
  SetSpec("q");
  ExpectDep(U("q", "b1"), U("p", "a"), Bool(true));
  ExpectDep(U("q", "b2"), U("p", "a"), Bool(false));
  ExpectDep(U("q", "b3"), U("p", "a"));
  ExpectDep(U("q", "b3"), U("q", "b1"));  // b3 also waits for b1 in its own spec
  ExpectDep(U("p", "x"), U("p", "a"));    // same-spec edge goes away with the spec
  EXPECT_TRUE(Same(Call(c(), "del_work_spec", A({B("p")})), OkPair()));
  EXPECT_EQ(StatusOf("q", "b1"), kAvailable);
  EXPECT_EQ(StatusOf("q", "b2"), kAvailable);
  EXPECT_EQ(StatusOf("q", "b3"), kBlocked);
  EXPECT_TRUE(Same(DependsOn("q", "b3"), A({Ref("q", "b1")})));
  ExpectConsistent();
  // A new spec with the same name starts without edges.
  SetSpec("p");
  AddUnits("p", {Tup({B("a"), Value::Map()}), Tup({B("x"), Value::Map()})});
  EXPECT_EQ(StatusOf("p", "x"), kAvailable);
  Fail("p", "a");
  EXPECT_EQ(StatusOf("q", "b1"), kAvailable);
  Finish("q", "b1");
  EXPECT_EQ(StatusOf("q", "b3"), kAvailable);
}

TEST_F(DepTest, DelWorkSpecOfDependentCleansEdges) {
  SetSpec("p");
  SetSpec("q");
  ExpectDep(U("q", "b"), U("p", "a"));
  EXPECT_TRUE(Same(Call(c(), "del_work_spec", A({B("q")})), OkPair()));
  ExpectConsistent();
  Fail("p", "a");
  EXPECT_TRUE(Same(Counts("p"), CountMap({{kFailed, 1}})));
  SetSpec("q");
  AddUnits("q", {Tup({B("b"), Value::Map()})});
  EXPECT_EQ(StatusOf("q", "b"), kAvailable);
}

TEST_F(DepTest, ClearWithCrossSpecEdges) {
  // Dependent spec sorts before the prerequisite's spec, and the other way round. (What the
  // wire can see: clear counts the specs, a recreated spec starts empty and unblocked.)
  SetSpec("a_dep");
  SetSpec("b_pre");
  SetSpec("c_dep");
  ExpectDep(U("a_dep", "x"), U("b_pre", "p"));
  ExpectDep(U("c_dep", "y"), U("b_pre", "p"));
  EXPECT_TRUE(Same(Call(c(), "clear"), I(3)));
  ExpectConsistent();
  SetSpec("a_dep");
  SetSpec("b_pre");
  EXPECT_TRUE(Same(Counts("a_dep"), Value::Map()));
  AddUnits("a_dep", {Tup({B("x"), Value::Map()})});
  EXPECT_EQ(StatusOf("a_dep", "x"), kAvailable);
  EXPECT_TRUE(Same(Call(c(), "get_work_units", A({B("a_dep"), Value::Map()})),
                   Tup({A({Tup({B("x"), Value::Map()})}), Null()})));
}

// ---- restart ------------------------------------------------------------------------------------

TEST_F(DepTest, RestartKeepsBlockedUnitsAndEdges) {
  SetSpec("p");
  SetSpec("q");
  ExpectDep(U("q", "hard"), U("p", "a"), Bool(true));
  ExpectDep(U("q", "soft"), U("p", "a"), Bool(false));
  ExpectDep(U("q", "two"), U("p", "a"));
  ExpectDep(U("q", "two"), U("p", "b"));
  ExpectDep(U("q", "after"), U("q", "hard"));
  Restart();
  EXPECT_EQ(StatusOf("q", "hard"), kBlocked);
  EXPECT_EQ(StatusOf("q", "soft"), kBlocked);
  EXPECT_TRUE(Same(DependsOn("q", "hard"), A({Ref("p", "a")})));
  EXPECT_TRUE(Same(DependsOn("q", "two"), A({Ref("p", "a"), Ref("p", "b")})));
  EXPECT_TRUE(Same(DependsOn("q", "after"), A({Ref("q", "hard")})));
  EXPECT_TRUE(Same(Counts("q"), CountMap({{kBlocked, 4}})));
  EXPECT_EQ(Work("q"), "");
  // Edges still refuse cycles after the restart.
  Value r = Dep(U("p", "a"), U("q", "after"));
  ASSERT_TRUE(r.is_tuple()) << r.ToDiagnostic();
  EXPECT_TRUE(Same(r.items()[0], Bool(false))) << r.ToDiagnostic();
  Finish("p", "b");
  EXPECT_TRUE(Same(DependsOn("q", "two"), A({Ref("p", "a")})));
  Finish("p", "a");
  EXPECT_EQ(StatusOf("q", "hard"), kAvailable);
  EXPECT_EQ(StatusOf("q", "soft"), kAvailable);
  EXPECT_EQ(StatusOf("q", "two"), kAvailable);
  EXPECT_EQ(StatusOf("q", "after"), kBlocked);
}

TEST_F(DepTest, RestartThenHardFailureCascades) {
  SetSpec("s");
  ExpectDep(U("s", "b"), U("s", "a"), Bool(true));
  ExpectDep(U("s", "c"), U("s", "b"), Bool(true));
  ExpectDep(U("s", "d"), U("s", "a"), Bool(false));
  Restart();
  EXPECT_EQ(Work(), "a");
  Fail("s", "a");
  EXPECT_EQ(StatusOf("s", "b"), kFailed);
  EXPECT_EQ(StatusOf("s", "c"), kFailed);
  EXPECT_EQ(StatusOf("s", "d"), kAvailable);
  Restart();
  EXPECT_TRUE(Same(Counts("s"), CountMap({{kAvailable, 1}, {kFailed, 3}})));
}

// ---- property test ------------------------------------------------------------------------------

// In-test model of the rules: per unit its status and the prerequisites it still waits for.
struct ModelUnit {
  std::string spec;
  std::string key;
  int status = kAvailable;
  std::map<int, bool> waits_for;  // prerequisite index -> hard
  std::set<int> dependents;       // units with an edge to this one
  bool has_traceback = false;     // failed by a cascade at some point (data keeps the traceback)
  int retries = 0;
};

class DepModel {
 public:
  explicit DepModel(std::vector<ModelUnit> units) : u_(std::move(units)) {}
  std::vector<ModelUnit>& units() { return u_; }

  void AddEdge(int later, int earlier, bool hard) {
    u_[later].waits_for[earlier] = hard;
    u_[earlier].dependents.insert(later);
    if (u_[later].status == kAvailable) u_[later].status = kBlocked;
  }
  void Lease(int i) { u_[i].status = kPending; }
  // A FAILED unit set back to AVAILABLE: blocked again if it still waits for something; its
  // dependents were detached when it failed and stay as they are.
  void Retry(int i) {
    u_[i].status = u_[i].waits_for.empty() ? kAvailable : kBlocked;
    ++u_[i].retries;
  }
  void Finish(int i) {
    u_[i].status = kFinished;
    for (const auto& e : Detach(i)) Release(e.first);
  }
  void Fail(int i) {
    u_[i].status = kFailed;
    for (auto [d, hard] : Detach(i)) {
      if (hard && u_[d].status != kFinished && u_[d].status != kFailed) {
        u_[d].has_traceback = true;
        Fail(d);
      } else {
        Release(d);
      }
    }
  }

 private:
  // Removes every edge to i; returns its dependents with each edge's hard flag.
  std::vector<std::pair<int, bool>> Detach(int i) {
    std::vector<std::pair<int, bool>> out;
    for (int d : u_[i].dependents) {
      out.emplace_back(d, u_[d].waits_for[i]);
      u_[d].waits_for.erase(i);
    }
    u_[i].dependents.clear();
    return out;
  }
  void Release(int d) {
    if (u_[d].status == kBlocked && u_[d].waits_for.empty()) u_[d].status = kAvailable;
  }

  std::vector<ModelUnit> u_;
};

// The property test runs hundreds of writes; durability is not what it checks, so skip fsyncs.
class DepPropertyTest : public DepTest {
 protected:
  void SetUp() override {
    DaemonOptions options;
    options.sync = false;
    StartDaemon(std::move(options));
  }
};

TEST_F(DepPropertyTest, RandomDagsFollowTheModel) {
  uint64_t seed =
      static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  if (const char* s = std::getenv("DEP_TEST_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::cout << "[ RandomDagsFollowTheModel ] seed " << seed << " (DEP_TEST_SEED=" << seed
            << " to repeat)" << std::endl;
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto coin = [&](double p) { return std::uniform_real_distribution<>(0, 1)(rng) < p; };
  auto below = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };

  constexpr int kUnits = 200;
  const std::string specs[2] = {"s0", "s1"};
  SetSpec(specs[0]);
  SetSpec(specs[1]);
  std::vector<ModelUnit> units(kUnits);
  std::map<std::pair<std::string, std::string>, int> index;
  std::vector<Value> items[2];
  for (int i = 0; i < kUnits; ++i) {
    const int s = static_cast<int>(below(2));
    char key[16];
    std::snprintf(key, sizeof(key), "u%03d", i);
    units[i].spec = specs[s];
    units[i].key = key;
    index[{units[i].spec, units[i].key}] = i;
    items[s].push_back(Tup({B(key), M({{"i", I(i)}})}));
  }
  AddUnits(specs[0], items[0]);
  AddUnits(specs[1], items[1]);
  DepModel model(std::move(units));
  auto& u = model.units();

  // Random edges later -> earlier (by index): no cycles.
  int edges = 0;
  for (int i = 1; i < kUnits; ++i) {
    const int n = static_cast<int>(below(4));  // 0..3 prerequisites
    for (int k = 0; k < n; ++k) {
      const int j = static_cast<int>(below(static_cast<size_t>(i)));
      if (u[i].waits_for.count(j)) continue;
      const bool hard = coin(0.5);
      Value r = Dep(U(u[i].spec, u[i].key), U(u[j].spec, u[j].key), Bool(hard));
      ASSERT_TRUE(Same(r, OkPair())) << i << " <- " << j;
      model.AddEdge(i, j, hard);
      ++edges;
    }
  }
  std::cout << "[ RandomDagsFollowTheModel ] " << edges << " edges" << std::endl;

  // Compares every unit's status (and depends_on of blocked units) with the model.
  auto check_all = [&](const std::string& when) {
    for (const std::string& spec : specs) {
      std::vector<std::string> keys;
      std::vector<int> idx;
      for (int i = 0; i < kUnits; ++i) {
        if (u[i].spec == spec) {
          keys.push_back(u[i].key);
          idx.push_back(i);
        }
      }
      std::vector<Value> st = Statuses(spec, keys);
      std::map<int, int> expect_counts;
      for (size_t n = 0; n < keys.size(); ++n) {
        const ModelUnit& m = u[idx[n]];
        ++expect_counts[m.status];
        const Value& got = st[n];
        const Value* s = got.is_map() ? got.FindKey("status") : nullptr;
        ASSERT_TRUE(s && s->AsInt64())
            << when << ": " << spec << "/" << m.key << " " << got.ToDiagnostic();
        ASSERT_EQ(*s->AsInt64(), m.status) << when << ": " << spec << "/" << m.key;
        const Value* deps = got.FindKey("depends_on");
        if (m.status == kBlocked) {
          Value want = A();
          for (const auto& [p, hard] : m.waits_for) want.Append(Ref(u[p].spec, u[p].key));
          ASSERT_TRUE(deps != nullptr) << when << ": " << m.key << " " << got.ToDiagnostic();
          // depends_on order is the daemon's; compare as sets.
          std::vector<std::string> a, b;
          for (const auto& v : deps->items()) a.push_back(v.ToDiagnostic());
          for (const auto& v : want.items()) b.push_back(v.ToDiagnostic());
          std::sort(a.begin(), a.end());
          std::sort(b.begin(), b.end());
          ASSERT_EQ(a, b) << when << ": depends_on of " << m.key;
        } else if (m.status != kFailed) {
          ASSERT_EQ(deps, nullptr) << when << ": " << m.key << " " << got.ToDiagnostic();
        }
        if (m.status == kFailed) {
          const Value* tb = got.FindKey("traceback");
          if (m.has_traceback) {
            ASSERT_TRUE(tb && tb->is_string() &&
                        tb->str().find("prerequisite") != std::string::npos)
                << when << ": " << m.key << " " << got.ToDiagnostic();
          } else {
            ASSERT_EQ(tb, nullptr) << when << ": " << m.key << " " << got.ToDiagnostic();
          }
        }
      }
      Value want_counts = Value::Map();
      for (auto [s, n] : expect_counts) want_counts.AppendEntry(I(s), I(n));
      ASSERT_TRUE(Same(Counts(spec), want_counts)) << when << ": counts of " << spec;
    }
    auto problems = c().Call("_test_check");
    ASSERT_TRUE(problems.ok()) << problems.status().ToString();
    ASSERT_TRUE(Same(*problems, A())) << when;
  };

  check_all("after adding edges");
  if (HasFatalFailure()) return;
  int steps = 0;
  int retries = 0;
  for (;; ++steps) {
    std::vector<int> available[2];
    std::vector<int> retryable;
    for (int i = 0; i < kUnits; ++i) {
      if (u[i].status == kAvailable) available[u[i].spec == specs[0] ? 0 : 1].push_back(i);
      if (u[i].status == kFailed && u[i].retries == 0) retryable.push_back(i);
    }
    if (available[0].empty() && available[1].empty()) break;
    if (!retryable.empty() && coin(0.1)) {
      // Retry a failed unit (at most once per unit, so the run ends).
      const int r = retryable[below(retryable.size())];
      SetStatus(u[r].spec, u[r].key, kAvailable);
      model.Retry(r);
      ++retries;
      check_all("step " + std::to_string(steps) + " (retry " + u[r].spec + "/" + u[r].key + ")");
      if (HasFatalFailure()) return;
      continue;
    }
    int chosen = -1;
    std::string how;
    if (coin(0.7)) {
      // Through get_work, restricted to one spec.
      const int s = static_cast<int>(below(2));
      const std::string key = Work(specs[s]);
      if (available[s].empty()) {
        ASSERT_EQ(key, "") << "step " << steps << ": get_work handed out a non-available unit";
        continue;
      }
      ASSERT_NE(key, "") << "step " << steps << ": no work though the model has "
                         << available[s].size() << " available in " << specs[s];
      auto it = index.find({specs[s], key});
      ASSERT_NE(it, index.end()) << key;
      chosen = it->second;
      ASSERT_EQ(u[chosen].status, kAvailable) << "step " << steps << ": get_work handed out " << key
                                              << " in model status " << u[chosen].status;
      model.Lease(chosen);
      how = "leased ";
    } else {
      // Directly from AVAILABLE.
      std::vector<int> all = available[0];
      all.insert(all.end(), available[1].begin(), available[1].end());
      chosen = all[below(all.size())];
      how = "direct ";
    }
    const bool finish = coin(0.6);
    SetStatus(u[chosen].spec, u[chosen].key, finish ? kFinished : kFailed);
    if (finish) {
      model.Finish(chosen);
    } else {
      model.Fail(chosen);
    }
    check_all("step " + std::to_string(steps) + " (" + how + (finish ? "finish " : "fail ") +
              u[chosen].spec + "/" + u[chosen].key + ")");
    if (HasFatalFailure()) return;
  }
  for (int i = 0; i < kUnits; ++i) {
    EXPECT_TRUE(u[i].status == kFinished || u[i].status == kFailed) << u[i].key;
  }
  EXPECT_EQ(Work(), "");
  std::cout << "[ RandomDagsFollowTheModel ] " << steps << " steps, " << retries << " retries"
            << std::endl;
}

}  // namespace
}  // namespace coordtest
