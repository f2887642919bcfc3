// Durability through kill -9 (CONTRACT.md §5): every acknowledged change is on disk when its
// reply arrives, each call is atomic, leases keep their absolute deadlines, and the store is
// consistent after recovery (`_test_check`). Also with --no-sync: a process crash (not a power
// loss) still loses nothing acknowledged.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

using coordinated::Code;

void ExpectConsistent(Client& c) {
  auto r = c.Call("_test_check");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_VEQ(*r, A());
}

// The keys of a get_work reply (single or list form).
std::vector<Value> WorkKeys(const Value& reply) {
  std::vector<Value> keys;
  if (!reply.is_tuple() || reply.items().size() != 2) {
    ADD_FAILURE() << "bad get_work reply " << reply.ToDiagnostic();
    return keys;
  }
  const Value& body = reply.items()[0];
  if (body.is_tuple()) {
    if (body.items().size() == 3 && !body.items()[1].is_null()) keys.push_back(body.items()[1]);
  } else if (body.is_array()) {
    for (const auto& t : body.items()) keys.push_back(t.items()[1]);
  }
  return keys;
}

Value GetWork(Client& c, std::string_view worker, const Value& spec, int max_jobs, double lease) {
  return Call(c, "get_work",
              A({B(worker), M({{"max_jobs", I(max_jobs)},
                               {"lease_time", D(lease)},
                               {"work_spec_names", A({spec})}})}));
}

// Everything a client can read about the given specs, as one value.
Value Snapshot(Client& c, const std::vector<Value>& specs) {
  Value snap = Value::Map();
  snap.AppendEntry(T("list"), Call(c, "list_work_specs", A({Value::Map()})));
  snap.AppendEntry(T("mode"), Call(c, "get_mode"));
  snap.AppendEntry(T("workers"), Call(c, "list_worker_modes"));
  snap.AppendEntry(T("info"), Call(c, "get_worker_info", A({B("w1")})));
  snap.AppendEntry(T("children"), Call(c, "get_child_work_units", A({B("parent")})));
  for (const Value& s : specs) {
    Value one = Value::Map();
    one.AppendEntry(T("spec"), Call(c, "get_work_spec", A({s})));
    one.AppendEntry(T("meta"), Call(c, "get_work_spec_meta", A({s})));
    one.AppendEntry(T("counts"), Call(c, "count_work_units", A({s})));
    Value all = Call(c, "get_work_units", A({s, M({{"limit", I(10000)}})}));
    one.AppendEntry(T("units"), all);
    // By state: priority order.
    one.AppendEntry(
        T("available"),
        Call(c, "get_work_units", A({s, M({{"state", I(kAvailable)}, {"limit", I(10000)}})})));
    Value keys = A();
    if (all.is_tuple() && all.items()[0].is_array()) {
      for (const auto& t : all.items()[0].items()) keys.Append(t.items()[0]);
    }
    one.AppendEntry(T("status"), Call(c, "get_work_unit_status", A({s, keys})));
    Value attempts = A();
    for (const auto& k : keys.items()) {
      attempts.Append(Call(c, "get_work_unit_attempts", A({s, k})));
    }
    one.AppendEntry(T("attempts"), attempts);
    snap.AppendEntry(s, one);
  }
  return snap;
}

TEST(RestartTest, AcknowledgedChangesSurviveKill9) {
  TempDir dir;
  Daemon d(dir.path());
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  auto c = d.NewClient();
  const Value ws1 = B("ws1"), ws2 = B("ws2"), ws3 = B("ws3"), cont = B("cont");
  EXPECT_VEQ(Call(*c, "set_work_spec",
                  A({M({{"name", ws1},
                        {"weight", I(7)},
                        {"desc", T("f\xc3\xbc")},
                        {"config", M({{"t", Tup({I(1), B("x")})}})}})})),
             OkPair());
  EXPECT_VEQ(Call(*c, "set_work_spec", A({M({{"name", ws2}, {"nice", I(3)}})})), OkPair());
  EXPECT_VEQ(Call(*c, "set_work_spec", A({M({{"name", ws3}})})), OkPair());
  EXPECT_VEQ(Call(*c, "set_work_spec",
                  A({M({{"name", cont}, {"continuous", Bool(true)}, {"interval", I(3600)}})})),
             OkPair());
  Value items = A();
  for (int i = 0; i < 20; ++i) {
    items.Append(Tup({B(fmt::format("u{:02d}", i)), M({{"i", I(i)}, {"t", T("x")}})}));
  }
  items.Append(Tup({T("text-key"), M({{"i", I(99)}})}));
  items.Append(Tup({B(std::string("\x00\xff", 2)), M({{"i", I(100)}})}));
  EXPECT_VEQ(Call(*c, "add_work_units", A({ws1, items})), OkPair());
  EXPECT_VEQ(Call(*c, "add_work_units",
                  A({ws2, A({Tup({B("a"), Value::Map()}), Tup({B("b"), Value::Map()})})})),
             OkPair());
  EXPECT_VEQ(Call(*c, "add_work_units", A({ws3, A({Tup({B("x"), Value::Map()})})})), OkPair());
  // Priorities: set, adjust, negative.
  EXPECT_VEQ(Call(*c, "prioritize_work_units",
                  A({ws1, M({{"work_unit_keys", A({B("u15")})}, {"priority", I(10)}})})),
             OkPair());
  EXPECT_VEQ(Call(*c, "prioritize_work_units",
                  A({ws1, M({{"work_unit_keys", A({B("u16")})}, {"adjustment", I(5)}})})),
             OkPair());
  EXPECT_VEQ(Call(*c, "prioritize_work_units",
                  A({ws1, M({{"work_unit_keys", A({B("u17")})}, {"priority", D(-1.5)}})})),
             OkPair());
  // Deletes.
  EXPECT_VEQ(Call(*c, "del_work_units", A({ws1, M({{"work_unit_keys", A({B("u19")})}})})),
             Pair(I(1), Null()));
  EXPECT_VEQ(Call(*c, "del_work_spec", A({ws3})), OkPair());
  // Control.
  EXPECT_VEQ(Call(*c, "control_work_spec",
                  A({ws2, M({{"status", I(2)}, {"max_running", I(4)}, {"weight", I(11)}})})),
             OkPair());
  // Leases, finishes, failures, renewals, re-adds.
  EXPECT_VEQ(A(WorkKeys(GetWork(*c, "w1", ws1, 3, 600))),
             A({B("u15"), B("u16"), B(std::string("\x00\xff", 2))}));
  EXPECT_VEQ(A(WorkKeys(GetWork(*c, "w2", ws1, 4, 900))),
             A({T("text-key"), B("u00"), B("u01"), B("u02")}));
  EXPECT_VEQ(Call(*c, "update_work_unit",
                  A({ws1, B("u00"), M({{"status", I(kFinished)}, {"data", M({{"done", I(1)}})}})})),
             OkPair());
  EXPECT_VEQ(Call(*c, "update_work_unit",
                  A({ws1, B("u01"),
                     M({{"status", I(kFailed)}, {"data", M({{"traceback", B("boom")}})}})})),
             OkPair());
  EXPECT_VEQ(Call(*c, "update_work_unit",
                  A({ws1, B("u02"), M({{"lease_time", I(1000)}, {"data", M({{"p", I(50)}})}})})),
             OkPair());
  EXPECT_VEQ(Call(*c, "update_work_unit", A({ws1, B("u16"), M({{"status", I(kAvailable)}})})),
             OkPair());
  EXPECT_VEQ(Call(*c, "add_work_units", A({ws1, A({Tup({B("u03"), M({{"re", I(1)}})})})})),
             OkPair());
  // A continuous unit: the interval (3600 s) now holds the spec back.
  ASSERT_EQ(WorkKeys(GetWork(*c, "w3", cont, 1, 300)).size(), 1u);
  EXPECT_TRUE(WorkKeys(GetWork(*c, "w3", cont, 1, 300)).empty());
  EXPECT_VEQ(Call(*c, "set_mode", A({B("IDLE")})), OkPair());
  // Workers: a parent and two children, one of which holds units.
  EXPECT_VEQ(
      Call(*c, "worker_heartbeat", A({B("parent"), B("RUN"), I(6000), M({{"pid", I(1)}}), Null()})),
      Pair(Bool(true), Null()));
  for (const char* w : {"w1", "w2"}) {
    EXPECT_VEQ(
        Call(*c, "worker_heartbeat",
             A({B(w), B("IDLE"), I(6000), M({{"pid", I(2)}, {"t", Tup({I(1)})}}), B("parent")})),
        Pair(Bool(true), Null()));
  }

  const std::vector<Value> specs = {ws1, ws2, cont};
  const Value before = Snapshot(*c, specs);
  d.Kill();
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  c = d.NewClient();
  ExpectConsistent(*c);
  const Value after = Snapshot(*c, specs);
  EXPECT_VEQ(after, before);

  // Spot checks of what the snapshot holds.
  EXPECT_VEQ(Call(*c, "get_work_spec", A({ws3})), Null());
  EXPECT_VEQ(Call(*c, "count_work_units", A({ws3})),
             Pair(Bool(false), B("no such work_spec 'ws3'")));
  Value st =
      Call(*c, "get_work_unit_status", A({ws1, A({B("u15"), B("u00"), B("u01"), B("u19")})}));
  ASSERT_TRUE(st.is_tuple() && st.items()[0].items().size() == 4) << st.ToDiagnostic();
  EXPECT_VEQ(*st.items()[0].items()[0].FindKey("status"), I(kPending));
  EXPECT_VEQ(*st.items()[0].items()[0].FindKey("worker_id"), B("w1"));
  EXPECT_VEQ(*st.items()[0].items()[1].FindKey("status"), I(kFinished));
  EXPECT_VEQ(*st.items()[0].items()[2].FindKey("traceback"), B("boom"));
  EXPECT_VEQ(st.items()[0].items()[3], Null());
  EXPECT_VEQ(Call(*c, "get_mode"), B("IDLE"));
  // ws2 is still paused; ws1 hands out the rest in priority order; cont waits for its interval.
  EXPECT_TRUE(WorkKeys(GetWork(*c, "w4", ws2, 1, 300)).empty());
  std::vector<Value> expected = {B("u16")};
  for (int i = 3; i <= 14; ++i) expected.push_back(B(fmt::format("u{:02d}", i)));
  expected.push_back(B("u18"));
  expected.push_back(B("u17"));
  EXPECT_VEQ(A(WorkKeys(GetWork(*c, "w4", ws1, 100, 300))), A(expected));
  EXPECT_TRUE(WorkKeys(GetWork(*c, "w4", cont, 1, 300)).empty());
  // Leased units are still held by their workers: nothing else is handed out.
  EXPECT_TRUE(WorkKeys(GetWork(*c, "w5", ws1, 10, 300)).empty());
  // The restored units can be changed and the change survives another crash.
  EXPECT_VEQ(Call(*c, "update_work_unit", A({ws1, B("u15"), M({{"status", I(kFinished)}})})),
             OkPair());
  d.Kill();
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  c = d.NewClient();
  Value st2 = Call(*c, "get_work_unit_status", A({ws1, A({B("u15")})}));
  EXPECT_VEQ(*st2.items()[0].items()[0].FindKey("status"), I(kFinished));
  ExpectConsistent(*c);
}

TEST(RestartTest, GracefulStopKeepsEverything) {
  TempDir dir;
  Daemon d(dir.path());
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  auto c = d.NewClient();
  EXPECT_VEQ(Call(*c, "set_work_spec", A({M({{"name", B("ws")}})})), OkPair());
  EXPECT_VEQ(Call(*c, "add_work_units",
                  A({B("ws"), A({Tup({B("a"), Value::Map()}), Tup({B("b"), Value::Map()})})})),
             OkPair());
  EXPECT_EQ(WorkKeys(GetWork(*c, "w", B("ws"), 1, 300)).size(), 1u);
  const Value before = Snapshot(*c, {B("ws")});
  EXPECT_EQ(d.Stop(), 0);
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  c = d.NewClient();
  EXPECT_VEQ(Snapshot(*c, {B("ws")}), before);
  ExpectConsistent(*c);
}

TEST(RestartTest, DeletedSpecsStayDeletedAndNamesAreReusable) {
  TempDir dir;
  Daemon d(dir.path());
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  auto c = d.NewClient();
  for (const char* n : {"a", "b", "c"}) {
    EXPECT_VEQ(Call(*c, "set_work_spec", A({M({{"name", B(n)}})})), OkPair());
    EXPECT_VEQ(Call(*c, "add_work_units",
                    A({B(n), A({Tup({B("u1"), Value::Map()}), Tup({B("u2"), Value::Map()})})})),
               OkPair());
  }
  EXPECT_VEQ(Call(*c, "del_work_spec", A({B("a")})), OkPair());
  d.Kill();
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  c = d.NewClient();
  EXPECT_VEQ(Call(*c, "get_work_spec", A({B("a")})), Null());
  EXPECT_VEQ(Call(*c, "clear"), I(2));
  d.Kill();
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  c = d.NewClient();
  EXPECT_VEQ(Call(*c, "list_work_specs", A({Value::Map()})), Pair(A(), Null()));
  // New specs (old and new names) start empty: no unit of a deleted spec comes back.
  for (const char* n : {"a", "b", "d", "e"}) {
    EXPECT_VEQ(Call(*c, "set_work_spec", A({M({{"name", B(n)}})})), OkPair());
    EXPECT_VEQ(Call(*c, "count_work_units", A({B(n)})), Pair(Value::Map(), Null()));
  }
  d.Kill();
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  c = d.NewClient();
  for (const char* n : {"a", "b", "d", "e"}) {
    EXPECT_VEQ(Call(*c, "count_work_units", A({B(n)})), Pair(Value::Map(), Null()));
  }
  EXPECT_TRUE(WorkKeys(Call(*c, "get_work", A({B("w"), Value::Map()}))).empty());
  ExpectConsistent(*c);
}

TEST(RestartTest, LeaseDeadlineSurvivesRestart) {
  TempDir dir;
  Daemon d(dir.path());
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  auto c = d.NewClient();
  EXPECT_VEQ(Call(*c, "set_work_spec", A({M({{"name", B("ws")}})})), OkPair());
  EXPECT_VEQ(Call(*c, "add_work_units", A({B("ws"), A({Tup({B("u1"), M({{"x", I(1)}})})})})),
             OkPair());
  const double t0 = Call(*c, "now").as_double();
  EXPECT_VEQ(A(WorkKeys(GetWork(*c, "w1", B("ws"), 1, 100))), A({B("u1")}));
  Value st = Call(*c, "get_work_unit_status", A({B("ws"), A({B("u1")})}));
  const Value leased = st.items()[0].items()[0];
  ASSERT_TRUE(leased.FindKey("expiration") && leased.FindKey("expiration")->is_double())
      << leased.ToDiagnostic();
  const double deadline = leased.FindKey("expiration")->as_double();
  EXPECT_NEAR(deadline, t0 + 100, 2);

  d.Kill();
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  c = d.NewClient();
  // The restarted daemon's clock is real time again: the lease is still running.
  Value st2 = Call(*c, "get_work_unit_status", A({B("ws"), A({B("u1")})}));
  EXPECT_VEQ(
      st2,
      Pair(A({M({{"status", I(kPending)}, {"expiration", D(deadline)}, {"worker_id", B("w1")}})}),
           Null()));
  EXPECT_TRUE(WorkKeys(GetWork(*c, "w2", B("ws"), 1, 300)).empty());
  AdvanceClock(*c, 50);
  EXPECT_TRUE(WorkKeys(GetWork(*c, "w2", B("ws"), 1, 300)).empty());
  Value pending = Value::Map();
  pending.AppendEntry(I(kPending), I(1));
  EXPECT_VEQ(Call(*c, "count_work_units", A({B("ws")})), Pair(pending, Null()));
  AdvanceClock(*c, 100);
  EXPECT_VEQ(Call(*c, "get_work", A({B("w2"), M({{"lease_time", I(300)}})})),
             Pair(Tup({B("ws"), B("u1"), M({{"x", I(1)}})}), Null()));
  Value st3 = Call(*c, "get_work_unit_status", A({B("ws"), A({B("u1")})}));
  EXPECT_VEQ(*st3.items()[0].items()[0].FindKey("worker_id"), B("w2"));
  ExpectConsistent(*c);
}

TEST(RestartTest, ArchivedCountsSurviveRestart) {
  TempDir dir;
  TempDir config_dir;
  const std::string config = config_dir.path() + "/coordinated.yaml";
  {
    std::ofstream out(config);
    out << "coordinate:\n  limit_completed_count: 1\n  archive_period_seconds: 100000\n";
  }
  DaemonOptions o;
  o.config_file = config;
  Daemon d(dir.path(), o);
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  auto c = d.NewClient();
  EXPECT_VEQ(Call(*c, "set_work_spec", A({M({{"name", B("ws")}})})), OkPair());
  EXPECT_VEQ(Call(*c, "add_work_units",
                  A({B("ws"), A({Tup({B("a"), Value::Map()}), Tup({B("b"), Value::Map()}),
                                 Tup({B("c"), Value::Map()})})})),
             OkPair());
  for (const char* k : {"a", "b", "c"}) {
    EXPECT_VEQ(Call(*c, "update_work_unit", A({B("ws"), B(k), M({{"status", I(kFinished)}})})),
               OkPair());
    AdvanceClock(*c, 1);
  }
  EXPECT_VEQ(Call(*c, "archive", A({Value::Map()})), Null());
  const Value before = Snapshot(*c, {B("ws")});
  d.Kill();
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  c = d.NewClient();
  EXPECT_VEQ(Snapshot(*c, {B("ws")}), before);
  Value counts = Value::Map();
  counts.AppendEntry(I(kFinished), I(3));
  EXPECT_VEQ(Call(*c, "count_work_units", A({B("ws")})), Pair(counts, Null()));
  EXPECT_VEQ(Call(*c, "del_work_units", A({B("ws"), M({{"state", I(kFinished)}})})),
             Pair(I(3), Null()));
  ExpectConsistent(*c);
}

// ---- a stream of acknowledged writes, killed at a random moment ------------------------------

enum class OpKind { kAdd, kFinish, kDel };
struct Op {
  OpKind kind;
  std::vector<std::string> keys;
};
struct WriterResult {
  std::vector<Op> acked;
  std::optional<Op> in_flight;  // sent, no reply: may or may not have been applied
  std::string unexpected;       // a reply that is neither success nor a transport failure
};

// Expected state of a key: 0 absent (deleted), 1 AVAILABLE with {"n": key}, 4 FINISHED with
// {"done": key}.
using Model = std::map<std::string, int>;

Value AddedData(const std::string& k) { return M({{"n", B(k)}}); }
Value DoneData(const std::string& k) { return M({{"done", B(k)}}); }

// Issues add/finish/delete calls as fast as replies come, starting from the keys of `model`,
// until a call fails (the daemon was killed) or `stop` is set.
WriterResult RunWriter(Client& c, const Model& model, int round, const std::atomic<bool>& stop) {
  WriterResult out;
  std::deque<std::string> available, finished;
  for (const auto& [k, s] : model) {
    if (s == kAvailable) available.push_back(k);
    if (s == kFinished) finished.push_back(k);
  }
  int n = 0;
  while (!stop.load()) {
    Op op;
    Value params, expect;
    if (finished.size() > 40) {
      op = Op{OpKind::kDel, {finished[0], finished[1]}};
      params = A({B("s"), M({{"work_unit_keys", A({B(op.keys[0]), B(op.keys[1])})}})});
      expect = Pair(I(2), Null());
    } else if (available.size() > 40) {
      op = Op{OpKind::kFinish, {available[0]}};
      params =
          A({B("s"), B(op.keys[0]), M({{"status", I(kFinished)}, {"data", DoneData(op.keys[0])}})});
      expect = OkPair();
    } else {
      std::string k1 = fmt::format("r{}-{:07d}", round, n++);
      std::string k2 = fmt::format("r{}-{:07d}", round, n++);
      op = Op{OpKind::kAdd, {k1, k2}};
      params = A({B("s"), A({Tup({B(k1), AddedData(k1)}), Tup({B(k2), AddedData(k2)})})});
      expect = OkPair();
    }
    const char* method = op.kind == OpKind::kAdd      ? "add_work_units"
                         : op.kind == OpKind::kFinish ? "update_work_unit"
                                                      : "del_work_units";
    auto r = c.Call(method, params);
    if (!r.ok()) {
      if (r.status().code() == Code::kIOError || r.status().code() == Code::kUnavailable) {
        out.in_flight = op;
      } else {
        out.unexpected = std::string(method) + ": " + r.status().ToString();
      }
      return out;
    }
    if (!(*r == expect)) {
      out.unexpected = std::string(method) + " replied " + r->ToDiagnostic();
      return out;
    }
    switch (op.kind) {
      case OpKind::kAdd:
        for (const auto& k : op.keys) available.push_back(k);
        break;
      case OpKind::kFinish:
        available.pop_front();
        finished.push_back(op.keys[0]);
        break;
      case OpKind::kDel:
        finished.pop_front();
        finished.pop_front();
        break;
    }
    out.acked.push_back(std::move(op));
  }
  return out;
}

// Every unit of spec "s": key -> (status, data).
std::map<std::string, std::pair<int, Value>> ReadAll(Client& c) {
  std::map<std::string, std::pair<int, Value>> out;
  for (int state : {kAvailable, 2, kPending, kFinished, kFailed}) {
    std::string start;
    while (true) {
      Value r =
          Call(c, "get_work_units",
               A({B("s"), M({{"state", I(state)}, {"start", B(start)}, {"limit", I(10000)}})}));
      if (!r.is_tuple() || !r.items()[0].is_array()) {
        ADD_FAILURE() << "bad get_work_units reply " << r.ToDiagnostic();
        return out;
      }
      const auto& units = r.items()[0].items();
      for (const auto& t : units) out[t.items()[0].str()] = {state, t.items()[1]};
      if (units.size() < 10000) break;
      start = units.back().items()[0].str() + std::string(1, '\0');
    }
  }
  return out;
}

// Checks the store against the model plus the one ambiguous call, then resolves the model to
// what the store holds.
void VerifyAndResolve(Client& c, Model& model, const std::optional<Op>& in_flight) {
  auto actual = ReadAll(c);
  std::set<std::string> ambiguous;
  if (in_flight) ambiguous.insert(in_flight->keys.begin(), in_flight->keys.end());
  std::vector<std::string> problems;
  auto problem = [&](std::string p) {
    if (problems.size() < 20) problems.push_back(std::move(p));
  };
  uint64_t live = 0;
  for (const auto& [k, expected] : model) {
    auto it = actual.find(k);
    const int got = it == actual.end() ? 0 : it->second.first;
    if (got != expected && !ambiguous.count(k)) {
      problem(fmt::format("{}: expected status {}, found {}", k, expected, got));
    }
    if (expected != 0) ++live;
  }
  for (const auto& [k, sd] : actual) {
    if (!model.count(k) && !ambiguous.count(k)) problem(fmt::format("{}: never added", k));
    if (sd.first == kAvailable && !(sd.second == AddedData(k))) {
      problem(fmt::format("{}: AVAILABLE with data {}", k, sd.second.ToDiagnostic()));
    }
    if (sd.first == kFinished && !(sd.second == DoneData(k))) {
      problem(fmt::format("{}: FINISHED with data {}", k, sd.second.ToDiagnostic()));
    }
    if (sd.first != kAvailable && sd.first != kFinished) {
      problem(fmt::format("{}: unexpected status {}", k, sd.first));
    }
  }
  if (in_flight) {
    // One call is all or nothing.
    std::set<int> states;
    for (const auto& k : in_flight->keys) {
      auto it = actual.find(k);
      states.insert(it == actual.end() ? 0 : it->second.first);
    }
    if (states.size() != 1) problem("the interrupted call was applied in part");
    for (const auto& k : in_flight->keys) {
      const int before = model.count(k) ? model[k] : 0;
      const int after = in_flight->kind == OpKind::kAdd      ? kAvailable
                        : in_flight->kind == OpKind::kFinish ? kFinished
                                                             : 0;
      auto it = actual.find(k);
      const int got = it == actual.end() ? 0 : it->second.first;
      if (got != before && got != after) {
        problem(fmt::format("{}: interrupted call left status {} (before {}, after {})", k, got,
                            before, after));
      }
    }
  }
  for (const auto& p : problems) ADD_FAILURE() << p;
  // The counters agree with the units.
  Value counts = Call(c, "count_work_units", A({B("s")}));
  uint64_t counted = 0;
  if (counts.is_tuple() && counts.items()[0].is_map()) {
    const Value& m = counts.items()[0];
    for (size_t i = 0; i < m.map_size(); ++i) counted += *m.value_at(i).AsInt64();
  }
  EXPECT_EQ(counted, actual.size()) << counts.ToDiagnostic();
  (void)live;
  // Resolve the ambiguous keys to what is stored.
  for (const auto& k : ambiguous) {
    auto it = actual.find(k);
    model[k] = it == actual.end() ? 0 : it->second.first;
  }
}

class RestartStreamTest : public ::testing::TestWithParam<bool> {};

TEST_P(RestartStreamTest, KillDuringAcknowledgedWrites) {
  const bool sync = GetParam();
  std::random_device rd;
  const unsigned seed = rd();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  std::mt19937 rng(seed);
  TempDir dir;
  DaemonOptions o;
  o.sync = sync;
  Daemon d(dir.path(), o);
  Model model;
  size_t total_acked = 0;
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    ASSERT_TRUE(d.Start().ok()) << d.Log();
    auto c = d.NewClient();
    if (round == 0) {
      EXPECT_VEQ(Call(*c, "set_work_spec", A({M({{"name", B("s")}})})), OkPair());
    } else {
      ExpectConsistent(*c);
    }
    auto writer_client = d.NewClient(10);
    ASSERT_TRUE(writer_client->Connect().ok());
    std::atomic<bool> stop{false};
    WriterResult result;
    std::thread writer([&] { result = RunWriter(*writer_client, model, round, stop); });
    const int delay_ms = std::uniform_int_distribution<int>(100, 1000)(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    d.Kill();
    stop = true;
    writer.join();
    EXPECT_EQ(result.unexpected, "");
    EXPECT_GT(result.acked.size(), 0u);
    total_acked += result.acked.size();
    for (const Op& op : result.acked) {
      for (const auto& k : op.keys) {
        model[k] = op.kind == OpKind::kAdd      ? kAvailable
                   : op.kind == OpKind::kFinish ? kFinished
                                                : 0;
      }
    }
    ASSERT_TRUE(d.Start().ok()) << d.Log();
    c = d.NewClient();
    VerifyAndResolve(*c, model, result.in_flight);
    ExpectConsistent(*c);
    d.Kill();
    if (HasFailure()) break;
  }
  RecordProperty("acknowledged_calls", static_cast<int>(total_acked));
}

INSTANTIATE_TEST_SUITE_P(RestartStream, RestartStreamTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Sync" : "NoSync");
                         });

}  // namespace
}  // namespace coordtest
