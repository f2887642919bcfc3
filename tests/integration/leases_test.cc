// Leases, get_work shapes and update_work_unit rules through the real daemon
// (reference-behavior.md §1.4, §1.5, §9.1, §9.2, §9.8; CONTRACT §3 attempts, §4 max_retries and
// delay). Names, keys and data keys are byte strings, as a Python 2 client sends them.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

Value Unit(std::string_view key, Value data = Value::Map()) { return Tup({B(key), data}); }

Value NoWork() { return Tup({Null(), Null(), Null()}); }

// get_work's first reply slot (the triple or the list); checks the (x, None) pair shape.
Value Work(Client& c, std::string_view worker, Value options = Value::Map()) {
  Value r = Call(c, "get_work", A({B(worker), std::move(options)}));
  EXPECT_TRUE(r.is_tuple() && r.items().size() == 2 && r.items()[1].is_null()) << r.ToDiagnostic();
  if (!r.is_tuple() || r.items().size() != 2) return Value::Undefined();
  return r.items()[0];
}

void Finish(Client& c, std::string_view spec, std::string_view key) {
  EXPECT_TRUE(Same(Update(c, spec, key, M({{"status", I(kFinished)}})), OkPair())) << key;
}

// get_work_unit_status for these keys: the list of status maps (or nulls).
Value Statuses(Client& c, std::string_view spec, std::vector<Value> keys) {
  Value r = Call(c, "get_work_unit_status", A({B(spec), A(std::move(keys))}));
  EXPECT_TRUE(r.is_tuple() && r.items().size() == 2) << r.ToDiagnostic();
  if (!r.is_tuple() || r.items().size() != 2) return Value::Undefined();
  return r.items()[0];
}

Value StatusOf(Client& c, std::string_view spec, std::string_view key) {
  Value l = Statuses(c, spec, {B(key)});
  if (!l.is_array() || l.items().size() != 1) return Value::Undefined();
  return l.items()[0];
}

int StatusCode(const Value& status_map) {
  const Value* s = status_map.is_map() ? status_map.FindKey("status") : nullptr;
  return s && s->AsInt64() ? static_cast<int>(*s->AsInt64()) : -1;
}

std::optional<double> Expiration(const Value& status_map) {
  const Value* e = status_map.is_map() ? status_map.FindKey("expiration") : nullptr;
  if (!e) return std::nullopt;
  return e->AsNumber();
}

// The unit's data via get_work_units(work_unit_keys=[key]).
Value DataOf(Client& c, std::string_view spec, std::string_view key) {
  Value r = Call(c, "get_work_units", A({B(spec), M({{"work_unit_keys", A({B(key)})}})}));
  if (!r.is_tuple() || r.items().size() != 2 || !r.items()[0].is_array() ||
      r.items()[0].items().size() != 1) {
    ADD_FAILURE() << r.ToDiagnostic();
    return Value::Undefined();
  }
  const Value& pair = r.items()[0].items()[0];
  if (!pair.is_tuple() || pair.items().size() != 2) return Value::Undefined();
  return pair.items()[1];
}

// The attempt maps of get_work_unit_attempts.
std::vector<Value> Attempts(Client& c, std::string_view spec, std::string_view key) {
  Value r = Call(c, "get_work_unit_attempts", A({B(spec), B(key)}));
  if (!r.is_tuple() || r.items().size() != 2 || !r.items()[0].is_array() ||
      !r.items()[1].is_null()) {
    ADD_FAILURE() << r.ToDiagnostic();
    return {};
  }
  return r.items()[0].items();
}

std::string Word(const Value& attempt, std::string_view field) {
  const Value* v = attempt.FindKey(field);
  return v && v->is_string() ? v->str() : "<" + (v ? v->ToDiagnostic() : "absent") + ">";
}

uint64_t CountOf(const Value& counts, int status) {
  const Value* n = counts.is_map() ? counts.Find(I(status)) : nullptr;
  return n && n->AsInt64() ? static_cast<uint64_t>(*n->AsInt64()) : 0;
}

std::string Key3(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "u%03d", i);
  return buf;
}

class LeaseTest : public DaemonTest {};

// ---- §9.1 basic lifecycle --------------------------------------------------------------------

TEST_F(LeaseTest, EmptyServerReplies) {
  EXPECT_TRUE(Same(Call(c(), "get_work_spec", A({B("ws")})), Null()));
  EXPECT_TRUE(Same(Call(c(), "list_work_specs", A({Value::Map()})), Tup({A(), Null()})));
  EXPECT_TRUE(Same(Work(c(), "w"), NoWork()));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(10)}})), A()));
}

TEST_F(LeaseTest, AddToMissingSpecFailsAndCreatesNothing) {
  EXPECT_TRUE(Same(Call(c(), "add_work_units", A({B("aoeu"), A({Unit("k")})})),
                   Tup({Bool(false), B("no such work_spec 'aoeu'")})));
  EXPECT_TRUE(Same(Call(c(), "get_work_spec", A({B("aoeu")})), Null()));
}

TEST_F(LeaseTest, OneUnitThenNothingWhileLeased) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("wu1", M({{"x", I(1)}}))});
  EXPECT_TRUE(Same(Work(c(), "w1"), Triple("ws", "wu1", M({{"x", I(1)}}))));
  EXPECT_TRUE(Same(Work(c(), "w2"), NoWork()));
  EXPECT_TRUE(Same(Work(c(), "w2", M({{"max_jobs", I(5)}})), A()));
}

TEST_F(LeaseTest, ExpiredLeaseGoesToAnotherWorker) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("wu1", M({{"x", I(1)}}))});
  EXPECT_TRUE(Same(Work(c(), "w1"), Triple("ws", "wu1", M({{"x", I(1)}}))));  // 300 s lease
  AdvanceClock(c(), 200);
  EXPECT_TRUE(Same(Work(c(), "w2"), NoWork()));
  AdvanceClock(c(), 200);  // 400 s after the grant
  EXPECT_TRUE(Same(Work(c(), "w2"), Triple("ws", "wu1", M({{"x", I(1)}}))));
  Value st = StatusOf(c(), "ws", "wu1");
  EXPECT_EQ(StatusCode(st), kPending);
  const Value* worker = st.FindKey("worker_id");
  ASSERT_NE(worker, nullptr) << st.ToDiagnostic();
  EXPECT_TRUE(Same(*worker, B("w2")));

  auto attempts = Attempts(c(), "ws", "wu1");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(Word(attempts[0], "worker_id"), "w1");
  EXPECT_EQ(Word(attempts[0], "status"), "expired");
  EXPECT_EQ(Word(attempts[1], "worker_id"), "w2");
  EXPECT_EQ(Word(attempts[1], "status"), "pending");
  const Value* end1 = attempts[1].FindKey("end");
  ASSERT_NE(end1, nullptr);
  EXPECT_TRUE(end1->is_null());
}

TEST_F(LeaseTest, FinishedUnitNeverHandedOutAgain) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("wu1")});
  EXPECT_TRUE(Same(Work(c(), "w1"), Triple("ws", "wu1", Value::Map())));
  Finish(c(), "ws", "wu1");
  EXPECT_TRUE(Same(Work(c(), "w1"), NoWork()));
  AdvanceClock(c(), 100000);
  EXPECT_TRUE(Same(Work(c(), "w2"), NoWork()));
  EXPECT_EQ(StatusCode(StatusOf(c(), "ws", "wu1")), kFinished);
}

TEST_F(LeaseTest, UnitsHandedOutInKeyOrder) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("wu3"), Unit("wu2")});
  EXPECT_TRUE(Same(Work(c(), "w"), Triple("ws", "wu2", Value::Map())));
  EXPECT_TRUE(Same(Work(c(), "w"), Triple("ws", "wu3", Value::Map())));
  EXPECT_TRUE(Same(Work(c(), "w"), NoWork()));
}

TEST_F(LeaseTest, RenewedLeaseOutlivesDefaultAndStatuses) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("wu1"), Unit("wu2"), Unit("wu3")});
  EXPECT_TRUE(Same(Work(c(), "w"), Triple("ws", "wu1", Value::Map())));
  Finish(c(), "ws", "wu1");
  EXPECT_TRUE(Same(Work(c(), "w"), Triple("ws", "wu2", Value::Map())));
  EXPECT_TRUE(Same(Update(c(), "ws", "wu2", M({{"lease_time", I(900)}})), OkPair()));
  AdvanceClock(c(), 400);  // past the default 300 s lease
  Value st = Statuses(c(), "ws", {B("wu1"), B("wu2"), B("wu3"), B("bogus")});
  ASSERT_TRUE(st.is_array() && st.items().size() == 4) << st.ToDiagnostic();
  EXPECT_EQ(StatusCode(st.items()[0]), kFinished);
  EXPECT_EQ(StatusCode(st.items()[1]), kPending);
  EXPECT_EQ(StatusCode(st.items()[2]), kAvailable);
  EXPECT_TRUE(st.items()[3].is_null());
  // The renewed unit is not handed out again; the untouched one is.
  EXPECT_TRUE(Same(Work(c(), "w2"), Triple("ws", "wu3", Value::Map())));
  AdvanceClock(c(), 600);  // now past the renewed lease too
  EXPECT_TRUE(Same(Work(c(), "w3"), Triple("ws", "wu2", Value::Map())));
}

TEST_F(LeaseTest, MaxRunningOne) {
  SetSpec(c(), SpecDef("ws", {{"max_running", I(1)}}));
  AddUnits(c(), "ws", {Unit("a"), Unit("b")});
  EXPECT_TRUE(Same(Work(c(), "w"), Triple("ws", "a", Value::Map())));
  EXPECT_TRUE(Same(Work(c(), "w"), NoWork()));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(20)}})), A()));
  Finish(c(), "ws", "a");
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(20)}})), A({Triple("ws", "b", Value::Map())})));
}

TEST_F(LeaseTest, MaxRunningCapsMultiGet) {
  SetSpec(c(), SpecDef("ws", {{"max_running", I(3)}}));
  AddUnits(c(), "ws", {Unit("a"), Unit("b"), Unit("c"), Unit("d"), Unit("e")});
  EXPECT_TRUE(Same(Work(c(), "w"), Triple("ws", "a", Value::Map())));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(10)}})),
                   A({Triple("ws", "b", Value::Map()), Triple("ws", "c", Value::Map())})));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(10)}})), A()));
  // An expired lease frees its slot.
  AdvanceClock(c(), 301);
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(10)}})),
                   A({Triple("ws", "a", Value::Map()), Triple("ws", "b", Value::Map()),
                      Triple("ws", "c", Value::Map())})));
}

TEST_F(LeaseTest, CompletedUnitStatusKeepsWorkerAndCompletionTime) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("k")});
  ASSERT_TRUE(Same(Work(c(), "w1", M({{"lease_time", I(900)}})), Triple("ws", "k", Value::Map())));
  AdvanceClock(c(), 10);
  const double t = Now(c());
  Finish(c(), "ws", "k");
  Value st = StatusOf(c(), "ws", "k");
  EXPECT_EQ(StatusCode(st), kFinished);
  auto exp = Expiration(st);
  ASSERT_TRUE(exp.has_value()) << st.ToDiagnostic();
  EXPECT_NEAR(*exp, t, 2.0);  // PY stores the completion time in the lease field
  ASSERT_NE(st.FindKey("worker_id"), nullptr) << st.ToDiagnostic();
  EXPECT_TRUE(Same(*st.FindKey("worker_id"), B("w1")));
}

TEST_F(LeaseTest, ExpiredUnitStatusHasNoLeaseOrWorker) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("k")});
  ASSERT_TRUE(Same(Work(c(), "w1", M({{"lease_time", I(10)}})), Triple("ws", "k", Value::Map())));
  AdvanceClock(c(), 11);
  Value st = StatusOf(c(), "ws", "k");
  EXPECT_EQ(StatusCode(st), kAvailable);
  ASSERT_NE(st.FindKey("expiration"), nullptr) << st.ToDiagnostic();
  EXPECT_TRUE(st.FindKey("expiration")->is_null()) << st.ToDiagnostic();
  EXPECT_EQ(st.FindKey("worker_id"), nullptr) << st.ToDiagnostic();
  EXPECT_EQ(CountOf(StatusCounts(c(), "ws"), kAvailable), 1u);
  EXPECT_EQ(CountOf(StatusCounts(c(), "ws"), kPending), 0u);
}

TEST_F(LeaseTest, FullFlow) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("wu1", M({{"k", B("v")}}))});
  EXPECT_TRUE(
      Same(Call(c(), "get_work_units", A({B("ws"), M({{"work_unit_keys", A({B("wu1")})}})})),
           Tup({A({Tup({B("wu1"), M({{"k", B("v")}})})}), Null()})));
  Value st = StatusOf(c(), "ws", "wu1");
  EXPECT_EQ(StatusCode(st), kAvailable);
  ASSERT_NE(st.FindKey("expiration"), nullptr) << st.ToDiagnostic();
  EXPECT_TRUE(st.FindKey("expiration")->is_null());
  EXPECT_TRUE(Same(Work(c(), "w1"), Triple("ws", "wu1", M({{"k", B("v")}}))));
  EXPECT_EQ(StatusCode(StatusOf(c(), "ws", "wu1")), kPending);
  EXPECT_TRUE(
      Same(Update(c(), "ws", "wu1", M({{"status", I(kFinished)}, {"data", M({{"k", B("v2")}})}})),
           OkPair()));
  EXPECT_EQ(StatusCode(StatusOf(c(), "ws", "wu1")), kFinished);
  EXPECT_TRUE(Same(DataOf(c(), "ws", "wu1"), M({{"k", B("v2")}})));
}

// ---- get_work lease_time rules (§1.5) --------------------------------------------------------

TEST_F(LeaseTest, GetWorkLeaseTimeOutOfRangeBecomes300) {
  SetSpec(c(), SpecDef("ws"));
  struct Case {
    std::string key;
    Value lease;
    double expected;
  };
  std::vector<Case> cases = {{"k0", I(0), 300},       {"k1", I(-5), 300},  {"k2", I(100000), 300},
                             {"k3", D(0.5), 300},     {"k4", I(900), 900}, {"k5", I(86400), 86400},
                             {"k6", D(86400.5), 300}, {"k7", I(1), 1}};
  for (const auto& cs : cases) {
    AddUnits(c(), "ws", {Unit(cs.key)});
    const double before = Now(c());
    EXPECT_TRUE(
        Same(Work(c(), "w", M({{"lease_time", cs.lease}})), Triple("ws", cs.key, Value::Map())));
    auto exp = Expiration(StatusOf(c(), "ws", cs.key));
    ASSERT_TRUE(exp.has_value()) << cs.key;
    EXPECT_NEAR(*exp - before, cs.expected, 2.0) << cs.key << " lease " << cs.lease.ToDiagnostic();
    // Keep the remaining units apart from this one.
    Finish(c(), "ws", cs.key);
  }
  // Absent lease_time: the server default of 300 s.
  AddUnits(c(), "ws", {Unit("k8")});
  const double before = Now(c());
  EXPECT_TRUE(Same(Work(c(), "w"), Triple("ws", "k8", Value::Map())));
  auto exp = Expiration(StatusOf(c(), "ws", "k8"));
  ASSERT_TRUE(exp.has_value());
  EXPECT_NEAR(*exp - before, 300, 2.0);
}

// ---- update_work_unit rules (§1.4, in order) --------------------------------------------------

TEST_F(LeaseTest, UpdateDataOnlyIsNothingToDoAndNotApplied) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("k", M({{"a", I(1)}}))});
  EXPECT_TRUE(Same(Update(c(), "ws", "k", M({{"data", M({{"b", I(2)}})}})),
                   Tup({Bool(false), B("nothing to do")})));
  EXPECT_TRUE(Same(Update(c(), "ws", "k", Value::Map()), Tup({Bool(false), B("nothing to do")})));
  // Explicit nulls count as "not given".
  EXPECT_TRUE(
      Same(Update(c(), "ws", "k",
                  M({{"lease_time", Null()}, {"status", Null()}, {"data", M({{"b", I(2)}})}})),
           Tup({Bool(false), B("nothing to do")})));
  EXPECT_TRUE(Same(DataOf(c(), "ws", "k"), M({{"a", I(1)}})));
  EXPECT_EQ(StatusCode(StatusOf(c(), "ws", "k")), kAvailable);
}

TEST_F(LeaseTest, UpdateNothingToDoComesBeforeUnknownKey) {
  SetSpec(c(), SpecDef("ws"));
  EXPECT_TRUE(Same(Update(c(), "ws", "k", M({{"data", Value::Map()}})),
                   Tup({Bool(false), B("nothing to do")})));
}

TEST_F(LeaseTest, UpdateUnknownKeyAndSpec) {
  SetSpec(c(), SpecDef("ws"));
  EXPECT_TRUE(Same(Update(c(), "ws", "k", M({{"status", I(kFinished)}})),
                   Tup({Bool(false), B("no such work unit key='k'")})));
  EXPECT_TRUE(Same(Update(c(), "ws", "k", M({{"lease_time", I(10)}})),
                   Tup({Bool(false), B("no such work unit key='k'")})));
  EXPECT_TRUE(Same(Update(c(), "nope", "k", M({{"status", I(kFinished)}})),
                   Tup({Bool(false), B("no such work_spec 'nope'")})));
}

TEST_F(LeaseTest, UpdateHugeLeaseBecomes300) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("k")});
  ASSERT_TRUE(Same(Work(c(), "w", M({{"lease_time", I(900)}})), Triple("ws", "k", Value::Map())));
  double before = Now(c());
  EXPECT_TRUE(Same(Update(c(), "ws", "k", M({{"lease_time", I(100000)}})), OkPair()));
  auto exp = Expiration(StatusOf(c(), "ws", "k"));
  ASSERT_TRUE(exp.has_value());
  EXPECT_NEAR(*exp - before, 300, 2.0);
  // 86400 itself is allowed.
  before = Now(c());
  EXPECT_TRUE(Same(Update(c(), "ws", "k", M({{"lease_time", I(86400)}, {"status", I(kPending)}})),
                   OkPair()));
  exp = Expiration(StatusOf(c(), "ws", "k"));
  ASSERT_TRUE(exp.has_value());
  EXPECT_NEAR(*exp - before, 86400, 2.0);
}

TEST_F(LeaseTest, UpdateNonPositiveLeaseExpiresAtOnce) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("k")});
  ASSERT_TRUE(Same(Work(c(), "w1", M({{"lease_time", I(900)}})), Triple("ws", "k", Value::Map())));
  EXPECT_TRUE(Same(Update(c(), "ws", "k", M({{"lease_time", I(-10)}})), OkPair()));
  AdvanceClock(c(), 1);
  EXPECT_EQ(StatusCode(StatusOf(c(), "ws", "k")), kAvailable);
  EXPECT_TRUE(Same(Work(c(), "w2"), Triple("ws", "k", Value::Map())));
}

TEST_F(LeaseTest, UpdateDataReplacesWholeMap) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("k", M({{"a", I(1)}, {"keep", I(2)}}))});
  ASSERT_TRUE(Same(Work(c(), "w"), Triple("ws", "k", M({{"a", I(1)}, {"keep", I(2)}}))));
  EXPECT_TRUE(Same(Update(c(), "ws", "k", M({{"lease_time", I(300)}, {"data", M({{"b", I(3)}})}})),
                   OkPair()));
  EXPECT_TRUE(Same(DataOf(c(), "ws", "k"), M({{"b", I(3)}})));
  EXPECT_EQ(StatusCode(StatusOf(c(), "ws", "k")), kPending);
}

TEST_F(LeaseTest, RetryFailedUnitKeepsDataAndTraceback) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("k", M({{"x", I(1)}}))});
  ASSERT_TRUE(Same(Work(c(), "w1"), Triple("ws", "k", M({{"x", I(1)}}))));
  const Value failed = M({{"x", I(1)}, {"traceback", B("Traceback: boom")}});
  EXPECT_TRUE(
      Same(Update(c(), "ws", "k", M({{"status", I(kFailed)}, {"data", failed}})), OkPair()));
  Value st = StatusOf(c(), "ws", "k");
  EXPECT_EQ(StatusCode(st), kFailed);
  ASSERT_NE(st.FindKey("traceback"), nullptr) << st.ToDiagnostic();
  EXPECT_TRUE(Same(*st.FindKey("traceback"), B("Traceback: boom")));
  EXPECT_TRUE(Same(Work(c(), "w2"), NoWork()));
  // The Python client's retry(): lease_time 0, status AVAILABLE.
  EXPECT_TRUE(
      Same(Update(c(), "ws", "k", M({{"lease_time", I(0)}, {"status", I(kAvailable)}})), OkPair()));
  EXPECT_EQ(StatusCode(StatusOf(c(), "ws", "k")), kAvailable);
  EXPECT_TRUE(Same(DataOf(c(), "ws", "k"), failed));
  EXPECT_TRUE(Same(Work(c(), "w2"), Triple("ws", "k", failed)));
}

TEST_F(LeaseTest, PendingToAvailableReleasesTheLease) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("k", M({{"x", I(1)}}))});
  ASSERT_TRUE(
      Same(Work(c(), "w1", M({{"lease_time", I(900)}})), Triple("ws", "k", M({{"x", I(1)}}))));
  EXPECT_TRUE(Same(Update(c(), "ws", "k", M({{"status", I(kAvailable)}})), OkPair()));
  Value st = StatusOf(c(), "ws", "k");
  EXPECT_EQ(StatusCode(st), kAvailable);
  ASSERT_NE(st.FindKey("expiration"), nullptr);
  EXPECT_TRUE(st.FindKey("expiration")->is_null()) << st.ToDiagnostic();
  EXPECT_EQ(st.FindKey("worker_id"), nullptr) << st.ToDiagnostic();
  EXPECT_TRUE(Same(Work(c(), "w2"), Triple("ws", "k", M({{"x", I(1)}}))));
  auto attempts = Attempts(c(), "ws", "k");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(Word(attempts[0], "worker_id"), "w1");
  EXPECT_EQ(Word(attempts[0], "status"), "retried");
  EXPECT_EQ(Word(attempts[1], "worker_id"), "w2");
  EXPECT_EQ(Word(attempts[1], "status"), "pending");
}

TEST_F(LeaseTest, FinishedBeatsFailedAfterFinish) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("k")});
  ASSERT_TRUE(Same(Work(c(), "w"), Triple("ws", "k", Value::Map())));
  EXPECT_TRUE(Same(
      Update(c(), "ws", "k", M({{"status", I(kFinished)}, {"data", M({{"r", I(1)}})}})), OkPair()));
  // The parent kills the child late: FAILED arrives after FINISHED.
  EXPECT_TRUE(Same(Update(c(), "ws", "k",
                          M({{"status", I(kFailed)}, {"data", M({{"traceback", B("killed")}})}})),
                   OkPair()));
  Value st = StatusOf(c(), "ws", "k");
  EXPECT_EQ(StatusCode(st), kFinished);
  // PY: the status change is ignored, but the data is still replaced.
  EXPECT_TRUE(Same(DataOf(c(), "ws", "k"), M({{"traceback", B("killed")}})));
  EXPECT_TRUE(Same(Work(c(), "w"), NoWork()));
  EXPECT_EQ(CountOf(StatusCounts(c(), "ws"), kFinished), 1u);
  EXPECT_EQ(CountOf(StatusCounts(c(), "ws"), kFailed), 0u);
}

TEST_F(LeaseTest, FinishedBeatsFailedAfterFail) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("k")});
  ASSERT_TRUE(Same(Work(c(), "w"), Triple("ws", "k", Value::Map())));
  EXPECT_TRUE(Same(Update(c(), "ws", "k",
                          M({{"status", I(kFailed)}, {"data", M({{"traceback", B("killed")}})}})),
                   OkPair()));
  EXPECT_EQ(StatusCode(StatusOf(c(), "ws", "k")), kFailed);
  EXPECT_TRUE(Same(Update(c(), "ws", "k", M({{"status", I(kFinished)}})), OkPair()));
  EXPECT_EQ(StatusCode(StatusOf(c(), "ws", "k")), kFinished);
  EXPECT_EQ(CountOf(StatusCounts(c(), "ws"), kFinished), 1u);
  EXPECT_EQ(CountOf(StatusCounts(c(), "ws"), kFailed), 0u);
}

TEST_F(LeaseTest, AvailableUnitFailedDirectly) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("k")});
  EXPECT_TRUE(Same(Update(c(), "ws", "k", M({{"status", I(kFailed)}, {"worker_id", B("parent")}})),
                   OkPair()));
  EXPECT_EQ(StatusCode(StatusOf(c(), "ws", "k")), kFailed);
  EXPECT_TRUE(Same(Work(c(), "w"), NoWork()));
}

TEST_F(LeaseTest, ReleasedUnitThenFailedByParentIsFailed) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("k")});
  ASSERT_TRUE(Same(Work(c(), "child"), Triple("ws", "k", Value::Map())));
  EXPECT_TRUE(Same(Update(c(), "ws", "k", M({{"status", I(kAvailable)}})), OkPair()));
  EXPECT_TRUE(Same(Update(c(), "ws", "k",
                          M({{"status", I(kFailed)},
                             {"worker_id", B("parent")},
                             {"data", M({{"traceback", B("job expired")}})}})),
                   OkPair()));
  Value st = StatusOf(c(), "ws", "k");
  EXPECT_EQ(StatusCode(st), kFailed);
  ASSERT_NE(st.FindKey("traceback"), nullptr) << st.ToDiagnostic();
  EXPECT_TRUE(Same(*st.FindKey("traceback"), B("job expired")));
}

TEST_F(LeaseTest, FinishedTwiceDoesNotChainAgain) {
  SetSpec(c(), SpecDef("first", {{"then", B("second")}}));
  SetSpec(c(), SpecDef("second"));
  AddUnits(c(), "first", {Unit("p")});
  ASSERT_TRUE(Same(Work(c(), "w", M({{"work_spec_names", A({B("first")})}})),
                   Triple("first", "p", Value::Map())));
  EXPECT_TRUE(Same(Update(c(), "first", "p",
                          M({{"status", I(kFinished)},
                             {"data", M({{"output", M({{"x", M({{"n", I(1)}})}})}})}})),
                   OkPair()));
  ASSERT_TRUE(Same(Work(c(), "w"), Triple("second", "x", M({{"n", I(1)}}))));
  Finish(c(), "second", "x");
  // A second FINISHED update with new output: no re-trigger, so x stays finished and y never
  // appears.
  EXPECT_TRUE(Same(
      Update(c(), "first", "p",
             M({{"status", I(kFinished)},
                {"data", M({{"output", M({{"x", M({{"n", I(2)}})}, {"y", Value::Map()}})}})}})),
      OkPair()));
  EXPECT_EQ(StatusCode(StatusOf(c(), "second", "x")), kFinished);
  EXPECT_TRUE(StatusOf(c(), "second", "y").is_null());
  EXPECT_TRUE(Same(Work(c(), "w"), NoWork()));
}

// ---- max_retries and delay (CONTRACT §4) ------------------------------------------------------

TEST_F(LeaseTest, MaxRetriesFailsUnitAfterSecondExpiry) {
  SetSpec(c(), SpecDef("ws", {{"max_retries", I(2)}}));
  AddUnits(c(), "ws", {Unit("k", M({{"x", I(1)}}))});
  ASSERT_TRUE(Same(Work(c(), "w1"), Triple("ws", "k", M({{"x", I(1)}}))));
  AdvanceClock(c(), 301);
  ASSERT_TRUE(Same(Work(c(), "w2"), Triple("ws", "k", M({{"x", I(1)}}))));
  AdvanceClock(c(), 301);
  EXPECT_TRUE(Same(Work(c(), "w3"), NoWork()));
  Value st = StatusOf(c(), "ws", "k");
  EXPECT_EQ(StatusCode(st), kFailed);
  ASSERT_NE(st.FindKey("traceback"), nullptr) << st.ToDiagnostic();
  ASSERT_TRUE(st.FindKey("traceback")->is_string());
  EXPECT_EQ(st.FindKey("traceback")->str(), "too many retries");
  const Value data = DataOf(c(), "ws", "k");
  ASSERT_TRUE(data.is_map());
  ASSERT_NE(data.FindKey("traceback"), nullptr);
  EXPECT_EQ(data.FindKey("traceback")->str(), "too many retries");
  EXPECT_EQ(CountOf(StatusCounts(c(), "ws"), kFailed), 1u);
  auto attempts = Attempts(c(), "ws", "k");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(Word(attempts[0], "status"), "expired");
  EXPECT_EQ(Word(attempts[1], "status"), "expired");
  AdvanceClock(c(), 1000);
  EXPECT_TRUE(Same(Work(c(), "w4"), NoWork()));
}

TEST_F(LeaseTest, MaxRetriesSpareUnitsFinishedInTime) {
  SetSpec(c(), SpecDef("ws", {{"max_retries", I(1)}, {"max_getwork", I(2)}}));
  AddUnits(c(), "ws", {Unit("a"), Unit("b"), Unit("c"), Unit("d")});
  ASSERT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(10)}})),
                   A({Triple("ws", "a", Value::Map()), Triple("ws", "b", Value::Map())})));
  Finish(c(), "ws", "a");
  AdvanceClock(c(), 301);  // b's lease lapses: its one allowed attempt is used up
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(10)}})),
                   A({Triple("ws", "c", Value::Map()), Triple("ws", "d", Value::Map())})));
  EXPECT_EQ(StatusCode(StatusOf(c(), "ws", "b")), kFailed);
}

TEST_F(LeaseTest, DelayedUnitReportedAvailableButWaits) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Tup({B("k"), M({{"x", I(1)}}), M({{"delay", I(90)}})})});
  EXPECT_EQ(StatusCode(StatusOf(c(), "ws", "k")), kAvailable);
  EXPECT_EQ(CountOf(StatusCounts(c(), "ws"), kAvailable), 1u);
  EXPECT_TRUE(Same(Work(c(), "w"), NoWork()));
  AdvanceClock(c(), 60);
  EXPECT_TRUE(Same(Work(c(), "w"), NoWork()));
  AdvanceClock(c(), 30);
  EXPECT_TRUE(Same(Work(c(), "w"), Triple("ws", "k", M({{"x", I(1)}}))));
}

TEST_F(LeaseTest, DelayedHigherPriorityLosesToAvailableLower) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws",
           {Tup({B("hi"), Value::Map(), M({{"priority", I(10)}, {"delay", I(60)}})}), Unit("lo")});
  EXPECT_TRUE(Same(Work(c(), "w"), Triple("ws", "lo", Value::Map())));
  EXPECT_TRUE(Same(Work(c(), "w"), NoWork()));
  AdvanceClock(c(), 61);
  EXPECT_TRUE(Same(Work(c(), "w"), Triple("ws", "hi", Value::Map())));
}

TEST_F(LeaseTest, DelayedUnitOfOneSpecDoesNotBlockAnother) {
  SetSpec(c(), SpecDef("a", {{"weight", I(1000)}}));
  SetSpec(c(), SpecDef("b"));
  AddUnits(c(), "a", {Tup({B("k"), Value::Map(), M({{"priority", I(10)}, {"delay", I(60)}})})});
  AddUnits(c(), "b", {Unit("k")});
  EXPECT_TRUE(Same(Work(c(), "w"), Triple("b", "k", Value::Map())));
  EXPECT_TRUE(Same(Work(c(), "w"), NoWork()));
  AdvanceClock(c(), 61);
  EXPECT_TRUE(Same(Work(c(), "w"), Triple("a", "k", Value::Map())));
}

// ---- get_work shapes (§9.2) -------------------------------------------------------------------

TEST_F(LeaseTest, MaxJobsTenReturnsFirstTenInOrder) {
  SetSpec(c(), SpecDef("ws"));
  std::vector<Value> items;
  for (int i = 100; i >= 1; --i) items.push_back(Unit(Key3(i), M({{"i", I(i)}})));
  AddUnits(c(), "ws", items);
  std::vector<Value> want;
  for (int i = 1; i <= 10; ++i) want.push_back(Triple("ws", Key3(i), M({{"i", I(i)}})));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(10)}})), A(want)));
  want.clear();
  for (int i = 11; i <= 20; ++i) want.push_back(Triple("ws", Key3(i), M({{"i", I(i)}})));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(10)}})), A(want)));
}

TEST_F(LeaseTest, MaxGetworkCapsTheReply) {
  SetSpec(c(), SpecDef("ws", {{"max_getwork", I(5)}}));
  std::vector<Value> items;
  for (int i = 1; i <= 100; ++i) items.push_back(Unit(Key3(i)));
  AddUnits(c(), "ws", items);
  std::vector<Value> want;
  for (int i = 1; i <= 5; ++i) want.push_back(Triple("ws", Key3(i), Value::Map()));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(10)}})), A(want)));
}

TEST_F(LeaseTest, NoSpillOverIntoSecondSpec) {
  SetSpec(c(), SpecDef("few"));
  SetSpec(c(), SpecDef("many"));
  std::vector<Value> few, many;
  for (int i = 1; i <= 4; ++i) few.push_back(Tup({B(Key3(i)), Value::Map(), Value::Map(), I(1)}));
  for (int i = 1; i <= 100; ++i) many.push_back(Unit(Key3(i)));
  AddUnits(c(), "few", few);
  AddUnits(c(), "many", many);
  std::vector<Value> want;
  for (int i = 1; i <= 4; ++i) want.push_back(Triple("few", Key3(i), Value::Map()));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(10)}})), A(want)));
  want.clear();
  for (int i = 1; i <= 10; ++i) want.push_back(Triple("many", Key3(i), Value::Map()));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(10)}})), A(want)));
}

TEST_F(LeaseTest, GetWorkReplyShapes) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("a"), Unit("b"), Unit("c"), Unit("d")});
  // max_jobs 1 and absent: a single triple.
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(1)}})), Triple("ws", "a", Value::Map())));
  EXPECT_TRUE(Same(Work(c(), "w"), Triple("ws", "b", Value::Map())));
  // max_jobs 0: the list form with one unit.
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(0)}})), A({Triple("ws", "c", Value::Map())})));
  // max_jobs 2 with one left: a list of one.
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(2)}})), A({Triple("ws", "d", Value::Map())})));
  // No work.
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(1)}})), NoWork()));
  EXPECT_TRUE(Same(Work(c(), "w"), NoWork()));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(2)}})), A()));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"max_jobs", I(0)}})), A()));
  // Positional options map omitted entirely.
  EXPECT_TRUE(Same(Call(c(), "get_work", A({B("w")})), Tup({NoWork(), Null()})));
  // Keyword parameters, and the Python worker's available_gb (ignored).
  AddUnits(c(), "ws", {Unit("e"), Unit("f")});
  EXPECT_TRUE(
      Same(Call(c(), "get_work",
                M({{"worker_id", B("w")},
                   {"options", M({{"max_jobs", I(5)}, {"available_gb", D(1.5)}})}})),
           Tup({A({Triple("ws", "e", Value::Map()), Triple("ws", "f", Value::Map())}), Null()})));
}

TEST_F(LeaseTest, WorkSpecNamesRestrictsTheChoice) {
  SetSpec(c(), SpecDef("one"));
  SetSpec(c(), SpecDef("two"));
  SetSpec(c(), SpecDef("three"));
  AddUnits(c(), "one", {Tup({B("u1"), Value::Map(), Value::Map(), I(30)})});
  AddUnits(c(), "two", {Tup({B("u2"), Value::Map(), Value::Map(), I(20)})});
  AddUnits(c(), "three", {Tup({B("u3"), Value::Map(), Value::Map(), I(10)})});
  EXPECT_TRUE(Same(Work(c(), "w", M({{"work_spec_names", A({B("four")})}})), NoWork()));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"work_spec_names", A({B("three")})}})),
                   Triple("three", "u3", Value::Map())));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"work_spec_names", A({B("three"), B("two")})}})),
                   Triple("two", "u2", Value::Map())));
  EXPECT_TRUE(Same(Work(c(), "w", M({{"work_spec_names", A({B("three"), B("two")})}})), NoWork()));
  // Names are compared by their bytes: a text name selects the byte-named spec.
  AddUnits(c(), "three", {Unit("u4")});
  EXPECT_TRUE(Same(Work(c(), "w", M({{"work_spec_names", A({T("three")})}})),
                   Triple("three", "u4", Value::Map())));
  // An empty list does not restrict.
  EXPECT_TRUE(
      Same(Work(c(), "w", M({{"work_spec_names", A()}})), Triple("one", "u1", Value::Map())));
}

// ---- attempts (CONTRACT §3, §5) ---------------------------------------------------------------

TEST_F(LeaseTest, AttemptsRecordWorkerTimesAndOutcome) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("ok"), Unit("bad")});
  EXPECT_TRUE(Same(Call(c(), "get_work_unit_attempts", A({B("ws"), B("ok")})), Tup({A(), Null()})));
  const double t0 = Now(c());
  ASSERT_TRUE(
      Same(Work(c(), "w1", M({{"lease_time", I(100)}})), Triple("ws", "bad", Value::Map())));
  ASSERT_TRUE(Same(Work(c(), "w2", M({{"lease_time", I(200)}})), Triple("ws", "ok", Value::Map())));
  auto a = Attempts(c(), "ws", "ok");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(Word(a[0], "worker_id"), "w2");
  EXPECT_EQ(Word(a[0], "status"), "pending");
  ASSERT_TRUE(a[0].FindKey("start") && a[0].FindKey("start")->AsNumber());
  ASSERT_TRUE(a[0].FindKey("expires") && a[0].FindKey("expires")->AsNumber());
  const double start = *a[0].FindKey("start")->AsNumber();
  EXPECT_NEAR(start, t0, 2.0);
  EXPECT_NEAR(*a[0].FindKey("expires")->AsNumber() - start, 200, 0.01);
  ASSERT_NE(a[0].FindKey("end"), nullptr);
  EXPECT_TRUE(a[0].FindKey("end")->is_null());

  AdvanceClock(c(), 50);
  Finish(c(), "ws", "ok");
  EXPECT_TRUE(Same(Update(c(), "ws", "bad", M({{"status", I(kFailed)}})), OkPair()));
  a = Attempts(c(), "ws", "ok");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(Word(a[0], "status"), "finished");
  ASSERT_TRUE(a[0].FindKey("end") && a[0].FindKey("end")->AsNumber()) << a[0].ToDiagnostic();
  EXPECT_NEAR(*a[0].FindKey("end")->AsNumber() - start, 50, 2.0);
  a = Attempts(c(), "ws", "bad");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(Word(a[0], "worker_id"), "w1");
  EXPECT_EQ(Word(a[0], "status"), "failed");

  // Unknown unit or spec: (None, msg).
  Value r = Call(c(), "get_work_unit_attempts", A({B("ws"), B("nope")}));
  ASSERT_TRUE(r.is_tuple() && r.items().size() == 2) << r.ToDiagnostic();
  EXPECT_TRUE(r.items()[0].is_null());
  EXPECT_TRUE(r.items()[1].is_string());
  r = Call(c(), "get_work_unit_attempts", A({B("nope"), B("ok")}));
  ASSERT_TRUE(r.is_tuple() && r.items().size() == 2) << r.ToDiagnostic();
  EXPECT_TRUE(r.items()[0].is_null());
  EXPECT_TRUE(r.items()[1].is_string());
}

TEST_F(LeaseTest, RenewalMovesTheAttemptDeadline) {
  SetSpec(c(), SpecDef("ws"));
  AddUnits(c(), "ws", {Unit("k")});
  ASSERT_TRUE(Same(Work(c(), "w", M({{"lease_time", I(100)}})), Triple("ws", "k", Value::Map())));
  AdvanceClock(c(), 10);
  const double t = Now(c());
  EXPECT_TRUE(Same(Update(c(), "ws", "k", M({{"lease_time", I(500)}})), OkPair()));
  auto a = Attempts(c(), "ws", "k");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_TRUE(a[0].FindKey("expires") && a[0].FindKey("expires")->AsNumber());
  EXPECT_NEAR(*a[0].FindKey("expires")->AsNumber() - t, 500, 2.0);
  auto exp = Expiration(StatusOf(c(), "ws", "k"));
  ASSERT_TRUE(exp.has_value());
  EXPECT_NEAR(*exp - t, 500, 2.0);
}

// ---- concurrency -----------------------------------------------------------------------------

TEST_F(LeaseTest, ConcurrentWorkersFinishEveryUnitExactlyOnce) {
  constexpr int kUnits = 20000;
  constexpr int kThreads = 64;
  SetSpec(c(), SpecDef("ws"));
  for (int batch = 0; batch < kUnits / 1000; ++batch) {
    std::vector<Value> items;
    items.reserve(1000);
    for (int i = 0; i < 1000; ++i) {
      const int n = batch * 1000 + i;
      items.push_back(Unit("u" + std::to_string(n), M({{"n", I(n)}})));
    }
    AddUnits(c(), "ws", std::move(items));
  }
  std::mutex mu;
  std::map<std::string, int> grants;    // key -> times granted
  std::map<std::string, int> finishes;  // key -> successful finishes
  std::vector<std::string> problems;
  std::atomic<int> done_threads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = d_->NewClient();
      const Value worker = B("worker-" + std::to_string(t));
      std::vector<std::string> local;
      for (;;) {
        auto r =
            client->Call("get_work", A({worker, M({{"max_jobs", I(1)}, {"lease_time", I(3600)}})}));
        if (!r.ok() || !r->is_tuple() || r->items().size() != 2 || !r->items()[0].is_tuple() ||
            r->items()[0].items().size() != 3) {
          local.push_back("bad get_work reply: " +
                          (r.ok() ? r->ToDiagnostic() : r.status().ToString()));
          break;
        }
        const Value& triple = r->items()[0];
        if (triple.items()[0].is_null()) break;
        const std::string key = triple.items()[1].str();
        const Value& data = triple.items()[2];
        const Value* n = data.FindKey("n");
        if (!n || !n->AsInt64() || "u" + std::to_string(*n->AsInt64()) != key) {
          local.push_back("data mismatch for " + key + ": " + data.ToDiagnostic());
        }
        {
          std::lock_guard<std::mutex> lock(mu);
          ++grants[key];
        }
        auto u =
            client->Call("update_work_unit", A({B("ws"), B(key), M({{"status", I(kFinished)}})}));
        if (!u.ok() || *u != OkPair()) {
          local.push_back("finish " + key +
                          " failed: " + (u.ok() ? u->ToDiagnostic() : u.status().ToString()));
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        ++finishes[key];
      }
      std::lock_guard<std::mutex> lock(mu);
      problems.insert(problems.end(), local.begin(), local.end());
      ++done_threads;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(done_threads.load(), kThreads);
  EXPECT_TRUE(problems.empty()) << problems.size()
                                << " problems, first: " << (problems.empty() ? "" : problems[0]);
  EXPECT_EQ(grants.size(), static_cast<size_t>(kUnits));
  EXPECT_EQ(finishes.size(), static_cast<size_t>(kUnits));
  int twice = 0;
  for (const auto& [k, n] : grants) twice += n != 1;
  EXPECT_EQ(twice, 0) << "units granted more than once while their lease was live";
  for (const auto& [k, n] : finishes) EXPECT_EQ(n, 1) << k;
  Value counts = StatusCounts(c(), "ws");
  EXPECT_TRUE(Same(counts, [] {
    Value m = Value::Map();
    m.AppendEntry(I(kFinished), I(kUnits));
    return m;
  }()));
  EXPECT_TRUE(Same(Work(c(), "late"), NoWork()));
}

}  // namespace
}  // namespace coordtest
