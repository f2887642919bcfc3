// Workers through the real daemon: heartbeats, listings, parent/child links and the units a
// parent's children hold, durability across kill -9, and the global mode (reference-behavior.md
// §1.6, §9.11; CONTRACT §2 re-parenting from None, §3 set_mode/get_mode).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

Value Heartbeat(Client& c, std::string_view worker, Value mode = B("RUN"), Value expire = I(600),
                Value data = Value::Map(), Value parent = Null()) {
  return Call(
      c, "worker_heartbeat",
      A({B(worker), std::move(mode), std::move(expire), std::move(data), std::move(parent)}));
}

// The first slot of a (x, None) pair reply; fails the test on another shape.
Value First(const Value& r) {
  if (!r.is_tuple() || r.items().size() != 2 || !r.items()[1].is_null()) {
    ADD_FAILURE() << "expected (x, None), got " << r.ToDiagnostic();
    return Value::Undefined();
  }
  return r.items()[0];
}

Value Modes(Client& c) { return First(Call(c, "list_worker_modes")); }
Value Info(Client& c, std::string_view worker) {
  return Call(c, "get_worker_info", A({B(worker)}));
}
Value Children(Client& c, std::string_view worker) {
  return First(Call(c, "get_child_work_units", A({B(worker)})));
}

// Map keys as strings (bytes or text), sorted, space separated.
std::string KeysOf(const Value& m) {
  if (!m.is_map()) return "<not a map: " + m.ToDiagnostic() + ">";
  std::vector<std::string> keys;
  for (size_t i = 0; i < m.map_size(); ++i) {
    keys.push_back(m.key_at(i).is_string() ? m.key_at(i).str() : m.key_at(i).ToDiagnostic());
  }
  std::sort(keys.begin(), keys.end());
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : " ") + k;
  return out;
}

class WorkerTest : public DaemonTest {
 protected:
  // A spec "ws" with these unit keys ({"i": n} data).
  void SpecWithUnits(std::vector<std::string> keys) {
    ASSERT_TRUE(Same(Call(c(), "set_work_spec", A({SpecDef("ws")})), OkPair()));
    Value items = A();
    for (size_t i = 0; i < keys.size(); ++i) {
      items.Append(Tup({B(keys[i]), M({{"i", I(static_cast<int64_t>(i))}})}));
    }
    ASSERT_TRUE(Same(Call(c(), "add_work_units", A({B("ws"), items})), OkPair()));
  }
};

// ---- heartbeat and listings ------------------------------------------------------------------

TEST_F(WorkerTest, HeartbeatRegistersWorker) {
  const Value data = M({{"pid", I(1234)}, {"hostname", B("h1")}});
  EXPECT_TRUE(Same(Heartbeat(c(), "w1", B("RUN"), I(600), data), OkPair()));
  EXPECT_TRUE(Same(Modes(c()), M({{"w1", B("RUN")}})));
  EXPECT_TRUE(Same(Info(c(), "w1"), Tup({data, Null()})));
  // A second heartbeat replaces mode and data.
  const Value data2 = M({{"pid", I(99)}});
  EXPECT_TRUE(Same(Heartbeat(c(), "w1", B("IDLE"), I(600), data2), OkPair()));
  EXPECT_TRUE(Same(Modes(c()), M({{"w1", B("IDLE")}})));
  EXPECT_TRUE(Same(Info(c(), "w1"), Tup({data2, Null()})));
}

TEST_F(WorkerTest, NegativeExpireDefaultsToFiveMinutes) {
  Value r = Heartbeat(c(), "w", B("RUN"), I(-5));
  ASSERT_TRUE(r.is_tuple() && r.items().size() == 2) << r.ToDiagnostic();
  EXPECT_TRUE(Same(r.items()[0], Bool(true)));
  ASSERT_TRUE(r.items()[1].is_bytes()) << r.ToDiagnostic();
  EXPECT_NE(r.items()[1].str().find("5 minutes"), std::string::npos) << r.ToDiagnostic();
  AdvanceClock(c(), 298);
  EXPECT_EQ(KeysOf(Modes(c())), "w");
  AdvanceClock(c(), 4);
  EXPECT_EQ(KeysOf(Modes(c())), "");
}

TEST_F(WorkerTest, HugeExpireDefaultsToOneHour) {
  Value r = Heartbeat(c(), "w", B("RUN"), I(100000));
  ASSERT_TRUE(r.is_tuple() && r.items().size() == 2) << r.ToDiagnostic();
  EXPECT_TRUE(Same(r.items()[0], Bool(true)));
  ASSERT_TRUE(r.items()[1].is_bytes()) << r.ToDiagnostic();
  EXPECT_NE(r.items()[1].str().find("one hour"), std::string::npos) << r.ToDiagnostic();
  AdvanceClock(c(), 3598);
  EXPECT_EQ(KeysOf(Modes(c())), "w");
  AdvanceClock(c(), 4);
  EXPECT_EQ(KeysOf(Modes(c())), "");
  // 86400 itself is accepted as given, without a message.
  EXPECT_TRUE(Same(Heartbeat(c(), "x", B("RUN"), I(86400)), OkPair()));
  AdvanceClock(c(), 86000);
  EXPECT_EQ(KeysOf(Modes(c())), "x");
}

TEST_F(WorkerTest, ListingsShowLiveWorkersOnly) {
  EXPECT_TRUE(Same(Modes(c()), Value::Map()));
  EXPECT_TRUE(Same(Heartbeat(c(), "short", B("RUN"), I(100)), OkPair()));
  EXPECT_TRUE(Same(Heartbeat(c(), "long1", B("IDLE"), I(1000)), OkPair()));
  EXPECT_TRUE(Same(Heartbeat(c(), "long2", B("RUN"), I(1000)), OkPair()));
  EXPECT_EQ(KeysOf(Modes(c())), "long1 long2 short");
  Value counts = First(Call(c(), "mode_counts"));
  ASSERT_TRUE(counts.is_map()) << counts.ToDiagnostic();
  EXPECT_EQ(counts.map_size(), 2u) << counts.ToDiagnostic();
  ASSERT_TRUE(counts.Find(B("RUN")) && counts.Find(B("IDLE"))) << counts.ToDiagnostic();
  EXPECT_EQ(counts.Find(B("RUN"))->AsInt64(), 2);
  EXPECT_EQ(counts.Find(B("IDLE"))->AsInt64(), 1);

  AdvanceClock(c(), 101);
  Value modes = Modes(c());
  EXPECT_EQ(KeysOf(modes), "long1 long2");
  ASSERT_TRUE(modes.FindKey("long1"));
  EXPECT_TRUE(Same(*modes.FindKey("long1"), B("IDLE")));
  counts = First(Call(c(), "mode_counts"));
  ASSERT_TRUE(counts.is_map() && counts.Find(B("RUN"))) << counts.ToDiagnostic();
  EXPECT_EQ(counts.Find(B("RUN"))->AsInt64(), 1);
  EXPECT_TRUE(Same(Info(c(), "short"), Tup({Null(), Null()})));
  Value stats = Call(c(), "worker_stats");
  ASSERT_TRUE(stats.is_map()) << stats.ToDiagnostic();
  ASSERT_TRUE(stats.FindKey("num_workers")) << stats.ToDiagnostic();
  EXPECT_EQ(stats.FindKey("num_workers")->AsInt64(), 2);
}

TEST_F(WorkerTest, GetWorkerInfoReturnsDataExactly) {
  const Value data = M({{"aliases", Tup({B("a"), B("b")})},
                        {"memory", Tup({I(1), I(2), D(0.5)})},
                        {"text", T("f\xc3\xbc")},
                        {"nested", A({I(1), Tup({I(2), A({I(3), I(4)})})})},
                        {"uuid", Value::Uuid(std::string(16, '\x11'))},
                        {"neg", I(-7)},
                        {"none", Null()}});
  EXPECT_TRUE(Same(Heartbeat(c(), "w", B("RUN"), I(600), data), OkPair()));
  EXPECT_TRUE(Same(Info(c(), "w"), Tup({data, Null()})));
  EXPECT_TRUE(Same(Info(c(), "unknown"), Tup({Null(), Null()})));
  // No data at all is allowed (PY raised here; the contract returns the data, None).
  EXPECT_TRUE(Same(Heartbeat(c(), "nodata", B("RUN"), I(600), Null()), OkPair()));
  EXPECT_TRUE(Same(Info(c(), "nodata"), Tup({Null(), Null()})));
  EXPECT_EQ(KeysOf(Modes(c())), "nodata w");
}

TEST_F(WorkerTest, WorkerStatsKeys) {
  Value stats = Call(c(), "worker_stats");
  ASSERT_TRUE(stats.is_map()) << stats.ToDiagnostic();
  EXPECT_EQ(KeysOf(stats), "num_children num_expirable num_workers");
  EXPECT_EQ(stats.FindKey("num_workers")->AsInt64(), 0);
  EXPECT_TRUE(Same(Heartbeat(c(), "p"), OkPair()));
  EXPECT_TRUE(Same(Heartbeat(c(), "c1", B("RUN"), I(600), Value::Map(), B("p")), OkPair()));
  EXPECT_TRUE(Same(Heartbeat(c(), "c2", B("RUN"), I(600), Value::Map(), B("p")), OkPair()));
  stats = Call(c(), "worker_stats");
  ASSERT_TRUE(stats.is_map()) << stats.ToDiagnostic();
  EXPECT_EQ(KeysOf(stats), "num_children num_expirable num_workers");
  EXPECT_EQ(stats.FindKey("num_workers")->AsInt64(), 3);
  EXPECT_EQ(stats.FindKey("num_expirable")->AsInt64(), 3);
  auto children = stats.FindKey("num_children")->AsInt64();
  ASSERT_TRUE(children.has_value());
  EXPECT_GE(*children, 1);  // PY counted parents (1), GO workers with a parent (2)
  EXPECT_LE(*children, 2);
}

TEST_F(WorkerTest, Unregister) {
  EXPECT_TRUE(Same(Heartbeat(c(), "p"), OkPair()));
  EXPECT_TRUE(Same(Heartbeat(c(), "w1", B("RUN"), I(600), Value::Map(), B("p")), OkPair()));
  EXPECT_TRUE(Same(Call(c(), "worker_unregister", A({B("w1")})), OkPair()));
  EXPECT_TRUE(
      Same(Call(c(), "worker_unregister", A({B("w1")})), Tup({Bool(false), B("no worker 'w1'")})));
  EXPECT_TRUE(
      Same(Call(c(), "worker_unregister", A({B("x")})), Tup({Bool(false), B("no worker 'x'")})));
  EXPECT_EQ(KeysOf(Modes(c())), "p");
  EXPECT_TRUE(Same(Children(c(), "p"), Value::Map()));
  EXPECT_TRUE(Same(Info(c(), "w1"), Tup({Null(), Null()})));
}

// ---- parent / child (§9.11) ------------------------------------------------------------------

// Checks one get_child_work_units entry.
void ExpectChildUnit(const Value& u, std::string_view key, const Value& data,
                     std::string_view worker, double expires_about) {
  ASSERT_TRUE(u.is_map()) << u.ToDiagnostic();
  EXPECT_EQ(KeysOf(u), "expires work_spec_name work_unit_data work_unit_key worker_id");
  ASSERT_TRUE(u.FindKey("work_spec_name"));
  EXPECT_TRUE(Same(*u.FindKey("work_spec_name"), B("ws")));
  ASSERT_TRUE(u.FindKey("work_unit_key"));
  EXPECT_TRUE(Same(*u.FindKey("work_unit_key"), B(key)));
  ASSERT_TRUE(u.FindKey("work_unit_data"));
  EXPECT_TRUE(Same(*u.FindKey("work_unit_data"), data));
  ASSERT_TRUE(u.FindKey("worker_id"));
  EXPECT_TRUE(Same(*u.FindKey("worker_id"), B(worker)));
  ASSERT_TRUE(u.FindKey("expires") && u.FindKey("expires")->is_double()) << u.ToDiagnostic();
  EXPECT_NEAR(u.FindKey("expires")->as_double(), expires_about, 2.0);
}

TEST_F(WorkerTest, ParentSeesChildUnitsUntilFinished) {
  SpecWithUnits({"k"});
  EXPECT_TRUE(Same(Heartbeat(c(), "parent"), OkPair()));
  EXPECT_TRUE(Same(Heartbeat(c(), "child", B("RUN"), I(600), Value::Map(), B("parent")), OkPair()));
  EXPECT_TRUE(Same(Children(c(), "parent"), M({{"child", A()}})));
  const double t = Now(c());
  Value r = Call(c(), "get_work", A({B("child"), M({{"lease_time", I(900)}})}));
  ASSERT_TRUE(Same(r, Tup({Tup({B("ws"), B("k"), M({{"i", I(0)}})}), Null()})));
  Value kids = Children(c(), "parent");
  ASSERT_EQ(KeysOf(kids), "child");
  const Value* list = kids.FindKey("child");
  ASSERT_TRUE(list && list->is_array() && list->items().size() == 1) << kids.ToDiagnostic();
  ExpectChildUnit(list->items()[0], "k", M({{"i", I(0)}}), "child", t + 900);
  // The child's own children: none.
  EXPECT_TRUE(Same(Children(c(), "child"), Value::Map()));
  EXPECT_TRUE(
      Same(Call(c(), "update_work_unit", A({B("ws"), B("k"), M({{"status", I(kFinished)}})})),
           OkPair()));
  EXPECT_TRUE(Same(Children(c(), "parent"), M({{"child", A()}})));
}

TEST_F(WorkerTest, TwoUnitsFromOneMultiGet) {
  SpecWithUnits({"a", "b"});
  EXPECT_TRUE(Same(Heartbeat(c(), "parent"), OkPair()));
  EXPECT_TRUE(Same(Heartbeat(c(), "child", B("RUN"), I(600), Value::Map(), B("parent")), OkPair()));
  const double t = Now(c());
  Value r =
      Call(c(), "get_work", A({B("child"), M({{"max_jobs", I(10)}, {"lease_time", I(600)}})}));
  ASSERT_TRUE(Same(
      r,
      Tup({A({Tup({B("ws"), B("a"), M({{"i", I(0)}})}), Tup({B("ws"), B("b"), M({{"i", I(1)}})})}),
           Null()})));
  Value kids = Children(c(), "parent");
  const Value* list = kids.FindKey("child");
  ASSERT_TRUE(list && list->is_array() && list->items().size() == 2) << kids.ToDiagnostic();
  // Order within the list is not part of the contract: sort by key.
  std::vector<Value> units = list->items();
  std::sort(units.begin(), units.end(), [](const Value& x, const Value& y) {
    return x.FindKey("work_unit_key")->str() < y.FindKey("work_unit_key")->str();
  });
  ExpectChildUnit(units[0], "a", M({{"i", I(0)}}), "child", t + 600);
  ExpectChildUnit(units[1], "b", M({{"i", I(1)}}), "child", t + 600);
  EXPECT_TRUE(Same(Call(c(), "update_work_unit", A({B("ws"), B("a"), M({{"status", I(kFailed)}})})),
                   OkPair()));
  kids = Children(c(), "parent");
  list = kids.FindKey("child");
  ASSERT_TRUE(list && list->is_array() && list->items().size() == 1) << kids.ToDiagnostic();
  ExpectChildUnit(list->items()[0], "b", M({{"i", I(1)}}), "child", t + 600);
}

TEST_F(WorkerTest, ChildListKeepsExpiredUnitWithItsCurrentOwner) {
  SpecWithUnits({"k"});
  EXPECT_TRUE(Same(Heartbeat(c(), "parent", B("RUN"), I(5000)), OkPair()));
  EXPECT_TRUE(
      Same(Heartbeat(c(), "child", B("RUN"), I(5000), Value::Map(), B("parent")), OkPair()));
  Value r = Call(c(), "get_work", A({B("child"), M({{"lease_time", I(10)}})}));
  ASSERT_TRUE(Same(r, Tup({Tup({B("ws"), B("k"), M({{"i", I(0)}})}), Null()})));
  AdvanceClock(c(), 20);
  // Lease expiry does not take the unit off the child's list (PY); another worker now owns it.
  const double t = Now(c());
  r = Call(c(), "get_work", A({B("other"), M({{"lease_time", I(600)}})}));
  ASSERT_TRUE(Same(r, Tup({Tup({B("ws"), B("k"), M({{"i", I(0)}})}), Null()})));
  Value kids = Children(c(), "parent");
  const Value* list = kids.FindKey("child");
  ASSERT_TRUE(list && list->is_array() && list->items().size() == 1) << kids.ToDiagnostic();
  ExpectChildUnit(list->items()[0], "k", M({{"i", I(0)}}), "other", t + 600);
}

TEST_F(WorkerTest, ExpiredChildIsNotListed) {
  SpecWithUnits({"k"});
  EXPECT_TRUE(Same(Heartbeat(c(), "parent", B("RUN"), I(5000)), OkPair()));
  EXPECT_TRUE(Same(Heartbeat(c(), "child", B("RUN"), I(100), Value::Map(), B("parent")), OkPair()));
  EXPECT_EQ(KeysOf(Children(c(), "parent")), "child");
  AdvanceClock(c(), 101);
  EXPECT_TRUE(Same(Children(c(), "parent"), Value::Map()));
}

TEST_F(WorkerTest, ReparentingFromNoneAndBetweenParents) {
  EXPECT_TRUE(Same(Heartbeat(c(), "p1"), OkPair()));
  EXPECT_TRUE(Same(Heartbeat(c(), "p2"), OkPair()));
  EXPECT_TRUE(Same(Heartbeat(c(), "c"), OkPair()));  // parent None
  EXPECT_TRUE(Same(Children(c(), "p1"), Value::Map()));
  EXPECT_TRUE(Same(Heartbeat(c(), "c", B("RUN"), I(600), Value::Map(), B("p1")), OkPair()));
  EXPECT_TRUE(Same(Children(c(), "p1"), M({{"c", A()}})));
  EXPECT_TRUE(Same(Heartbeat(c(), "c", B("RUN"), I(600), Value::Map(), B("p2")), OkPair()));
  EXPECT_TRUE(Same(Children(c(), "p1"), Value::Map()));
  EXPECT_TRUE(Same(Children(c(), "p2"), M({{"c", A()}})));
  EXPECT_TRUE(Same(Heartbeat(c(), "c"), OkPair()));  // back to no parent
  EXPECT_TRUE(Same(Children(c(), "p2"), Value::Map()));
  EXPECT_TRUE(Same(Children(c(), "nobody"), Value::Map()));
}

TEST_F(WorkerTest, WorkersSurviveKillAndRestart) {
  SpecWithUnits({"k"});
  const Value data = M({{"pid", I(42)}, {"aliases", Tup({B("x")})}});
  EXPECT_TRUE(Same(Heartbeat(c(), "parent", B("IDLE"), I(3000), data), OkPair()));
  EXPECT_TRUE(
      Same(Heartbeat(c(), "child", B("RUN"), I(3000), Value::Map(), B("parent")), OkPair()));
  Value r = Call(c(), "get_work", A({B("child"), M({{"lease_time", I(900)}})}));
  ASSERT_TRUE(Same(r, Tup({Tup({B("ws"), B("k"), M({{"i", I(0)}})}), Null()})));
  Restart();
  Value modes = Modes(c());
  EXPECT_EQ(KeysOf(modes), "child parent");
  ASSERT_TRUE(modes.FindKey("parent"));
  EXPECT_TRUE(Same(*modes.FindKey("parent"), B("IDLE")));
  EXPECT_TRUE(Same(Info(c(), "parent"), Tup({data, Null()})));
  Value kids = Children(c(), "parent");
  const Value* list = kids.FindKey("child");
  ASSERT_TRUE(list && list->is_array() && list->items().size() == 1) << kids.ToDiagnostic();
  ASSERT_TRUE(list->items()[0].FindKey("work_unit_key"));
  EXPECT_TRUE(Same(*list->items()[0].FindKey("work_unit_key"), B("k")));
}

// ---- global mode -----------------------------------------------------------------------------

std::string ModeOf(Client& c) {
  Value m = Call(c, "get_mode");
  return m.is_string() ? m.str() : "<" + m.ToDiagnostic() + ">";
}

TEST_F(WorkerTest, GlobalModeIsValidatedAndDurable) {
  EXPECT_EQ(ModeOf(c()), "RUN");
  EXPECT_TRUE(Same(Call(c(), "set_mode", A({B("IDLE")})), OkPair()));
  EXPECT_EQ(ModeOf(c()), "IDLE");
  EXPECT_TRUE(Same(Call(c(), "set_mode", A({T("TERMINATE")})), OkPair()));
  EXPECT_EQ(ModeOf(c()), "TERMINATE");
  for (const Value& bad : {B("BOGUS"), B("run"), B(""), T("Idle")}) {
    Value r = Call(c(), "set_mode", A({bad}));
    ASSERT_TRUE(r.is_tuple() && r.items().size() == 2) << r.ToDiagnostic();
    EXPECT_TRUE(Same(r.items()[0], Bool(false))) << bad.ToDiagnostic();
    EXPECT_TRUE(r.items()[1].is_string() && !r.items()[1].str().empty()) << r.ToDiagnostic();
  }
  EXPECT_EQ(ModeOf(c()), "TERMINATE");
  Restart();
  EXPECT_EQ(ModeOf(c()), "TERMINATE");
  EXPECT_TRUE(Same(Call(c(), "set_mode", A({B("RUN")})), OkPair()));
  Restart();
  EXPECT_EQ(ModeOf(c()), "RUN");
}

}  // namespace
}  // namespace coordtest
