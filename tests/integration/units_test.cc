// Work-unit methods through the real daemon (reference-behavior.md §1.4, §9.3, §9.9, §9.10):
// add_work_units item forms and re-adds, get_work_units filters and limits, statuses, counts,
// prioritize, del_work_units precedence, binary keys and archive. Keys and names are byte
// strings, as Python 2 clients send them, unless a test is about text.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
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

Value Data(std::string_view k) { return M({{"k", B(k)}}); }
// A string literal with its embedded NULs.
template <size_t N>
std::string Raw(const char (&s)[N]) {
  return std::string(s, N - 1);
}
std::vector<Value> Bs(std::initializer_list<const char*> l) {
  std::vector<Value> v;
  for (const char* s : l) v.push_back(B(s));
  return v;
}

class UnitsTestBase : public ::testing::Test {
 protected:
  void StartDaemon(DaemonOptions options = DaemonOptions()) {
    daemon_ = std::make_unique<Daemon>(dir_.path(), std::move(options));
    ASSERT_TRUE(daemon_->Start().ok()) << daemon_->Log();
    c_ = daemon_->NewClient();
    SetSpec(M({{"name", B("ws")}}));
  }

  void TearDown() override {
    if (!daemon_ || !daemon_->running()) return;
    auto r = c_->Call("_test_check");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_VEQ(*r, A());
  }

  // A call that must succeed at the RPC level; returns its result.
  Value Call(std::string_view method, Value params = A()) {
    auto r = c_->Call(method, std::move(params));
    EXPECT_TRUE(r.ok()) << method << ": " << r.status().ToString();
    return r.ok() ? std::move(r).value() : Value::Undefined();
  }
  void SetSpec(const Value& def) { EXPECT_VEQ(Call("set_work_spec", A({def})), OkPair()); }
  Value Add(const Value& items, const Value& spec = B("ws")) {
    return Call("add_work_units", A({spec, items}));
  }
  // Adds (key, {"k": key}) for each key.
  void AddKeys(std::vector<std::string> keys, const Value& spec = B("ws")) {
    Value items = A();
    for (const auto& k : keys) items.Append(Tup({B(k), Data(k)}));
    EXPECT_VEQ(Add(items, spec), OkPair());
  }
  Value Units(Value options, const Value& spec = B("ws")) {
    return Call("get_work_units", A({spec, std::move(options)}));
  }
  // The keys of a get_work_units reply, in order.
  std::vector<Value> KeysOf(const Value& reply) {
    std::vector<Value> keys;
    if (!reply.is_tuple() || reply.items().size() != 2 || !reply.items()[0].is_array()) {
      ADD_FAILURE() << "bad get_work_units reply " << reply.ToDiagnostic();
      return keys;
    }
    EXPECT_TRUE(reply.items()[1].is_null()) << reply.ToDiagnostic();
    for (const auto& t : reply.items()[0].items()) {
      EXPECT_TRUE(t.is_tuple() && t.items().size() == 2) << t.ToDiagnostic();
      if (t.is_tuple() && !t.items().empty()) keys.push_back(t.items()[0]);
    }
    return keys;
  }
  std::vector<Value> Keys(Value options, const Value& spec = B("ws")) {
    return KeysOf(Units(std::move(options), spec));
  }
  Value Statuses(std::vector<Value> keys, const Value& spec = B("ws")) {
    Value r = Call("get_work_unit_status", A({spec, A(std::move(keys))}));
    if (!r.is_tuple() || r.items().size() != 2) {
      ADD_FAILURE() << "bad get_work_unit_status reply " << r.ToDiagnostic();
      return A();
    }
    return r.items()[0];
  }
  // The status code of one unit, 0 when missing.
  int StatusOf(const Value& key, const Value& spec = B("ws")) {
    Value s = Statuses({key}, spec);
    if (!s.is_array() || s.items().size() != 1) return -1;
    if (s.items()[0].is_null()) return 0;
    const Value* st = s.items()[0].FindKey("status");
    return st ? static_cast<int>(st->AsInt64().value_or(-1)) : -1;
  }
  Value Counts(const Value& spec = B("ws")) {
    Value r = Call("count_work_units", A({spec}));
    if (!r.is_tuple() || r.items().size() != 2) return r;
    EXPECT_TRUE(r.items()[1].is_null()) << r.ToDiagnostic();
    return r.items()[0];
  }
  // Leases up to n units of `spec`; returns their keys in the order handed out.
  std::vector<Value> Lease(int n, std::string_view worker = "w1", const Value& spec = B("ws"),
                           double lease = 300) {
    Value r = Call(
        "get_work",
        A({B(worker),
           M({{"max_jobs", I(n)}, {"lease_time", D(lease)}, {"work_spec_names", A({spec})}})}));
    std::vector<Value> keys;
    if (!r.is_tuple() || r.items().size() != 2) {
      ADD_FAILURE() << "bad get_work reply " << r.ToDiagnostic();
      return keys;
    }
    const Value& body = r.items()[0];
    if (n == 1) {
      if (body.is_tuple() && body.items().size() == 3 && !body.items()[0].is_null()) {
        keys.push_back(body.items()[1]);
      }
    } else {
      for (const auto& t : body.items()) keys.push_back(t.items()[1]);
    }
    return keys;
  }
  Value Update(const Value& key, Value options, const Value& spec = B("ws")) {
    return Call("update_work_unit", A({spec, key, std::move(options)}));
  }
  void Finish(const Value& key, const Value& spec = B("ws")) {
    EXPECT_VEQ(Update(key, M({{"status", I(kFinished)}}), spec), OkPair());
  }
  void Fail(const Value& key, std::string_view traceback, const Value& spec = B("ws")) {
    EXPECT_VEQ(
        Update(key, M({{"status", I(kFailed)}, {"data", M({{"traceback", B(traceback)}})}}), spec),
        OkPair());
  }
  Value Prioritize(Value options, const Value& spec = B("ws")) {
    return Call("prioritize_work_units", A({spec, std::move(options)}));
  }
  Value Del(Value options, const Value& spec = B("ws")) {
    return Call("del_work_units", A({spec, std::move(options)}));
  }
  double Now() {
    Value n = Call("now");
    return n.AsNumber().value_or(0);
  }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<Client> c_;
};

class UnitsTest : public UnitsTestBase {
 protected:
  void SetUp() override { StartDaemon(); }
};

// ---- add_work_units
// ------------------------------------------------------------------------------

TEST_F(UnitsTest, ItemForms) {
  Value items = A({
      Tup({B("k1"), Data("k1")}),                                 // (key, data)
      A({B("k2"), Data("k2")}),                                   // [key, data]
      Tup({B("k3"), Data("k3"), M({{"priority", I(5)}})}),        // meta priority
      Tup({B("k4"), Data("k4"), M({{"priority", I(1)}}), I(7)}),  // 4th element wins
      A({B("k5"), Data("k5"), M({{"priority", I(9)}}), Null()}),  // null 4th: meta
      B("k6"),                                                    // bare key: {} data
      Tup({B("k7"), Data("k7"), Null()}),                         // null meta
      Tup({B("k8"), Data("k8"), Value::Map(), D(2.5)}),           // float priority
  });
  EXPECT_VEQ(Add(items), OkPair());
  EXPECT_VEQ(Counts(), CountMap({{1, 8}}));
  // By state: priority descending, then key ascending; each element a (key, data) tuple.
  EXPECT_VEQ(
      Units(M({{"state", I(kAvailable)}})),
      Pair(A({Tup({B("k5"), Data("k5")}), Tup({B("k4"), Data("k4")}), Tup({B("k3"), Data("k3")}),
              Tup({B("k8"), Data("k8")}), Tup({B("k1"), Data("k1")}), Tup({B("k2"), Data("k2")}),
              Tup({B("k6"), Value::Map()}), Tup({B("k7"), Data("k7")})}),
           Null()));
  // get_work follows the same order.
  std::vector<Value> got = Lease(8);
  EXPECT_VEQ(A(got), A(Bs({"k5", "k4", "k3", "k8", "k1", "k2", "k6", "k7"})));
}

TEST_F(UnitsTest, BatchMayBeATuple) {
  EXPECT_VEQ(Add(Tup({Tup({B("a"), Data("a")}), Tup({B("b"), Data("b")})})), OkPair());
  EXPECT_VEQ(A(Keys(Value::Map())), A(Bs({"a", "b"})));
}

TEST_F(UnitsTest, DataKeepsItsTypes) {
  Value data = M({{"list", A({I(1), I(2), I(3)})},
                  {"tuple", Tup({I(4), I(5), I(6)})},
                  {"mixed", A({I(1), Tup({I(2), A({I(3), I(4)})})})},
                  {"uuid", Value::Uuid(std::string("\x12\x34\x56\x78\x12\x34\x56\x78"
                                                   "\x12\x34\x56\x78\x12\x34\x56\x78",
                                                   16))},
                  {"bytes", B("foo")},
                  {"text", T("foo")},
                  {"nonascii", T("f\xc3\xbc")},
                  {"float", D(0.25)},
                  {"neg", I(-3)},
                  {"null", Null()}});
  EXPECT_VEQ(Add(A({Tup({B("u"), data})})), OkPair());
  EXPECT_VEQ(Units(M({{"work_unit_keys", A({B("u")})}})), Pair(A({Tup({B("u"), data})}), Null()));
  Value r = Call("get_work", A({B("w"), Value::Map()}));
  EXPECT_VEQ(r, Pair(Tup({B("ws"), B("u"), data}), Null()));
}

TEST_F(UnitsTest, DuplicateKeysInOneBatchLastDataWins) {
  EXPECT_VEQ(
      Add(A({Tup({B("k"), Data("first")}), Tup({B("m"), Data("m")}), Tup({B("k"), Data("last")})})),
      OkPair());
  EXPECT_VEQ(Counts(), CountMap({{1, 2}}));
  EXPECT_VEQ(Units(M({{"work_unit_keys", A({B("k")})}})),
             Pair(A({Tup({B("k"), Data("last")})}), Null()));
}

TEST_F(UnitsTest, DuplicateKeysInOneBatchLastPriorityWins) {
  // PY builds {key: WorkUnit} from the batch first, so the last item wins entirely, priority
  // included.
  EXPECT_VEQ(Add(A({Tup({B("k"), Data("first"), M({{"priority", I(10)}})}),
                    Tup({B("m"), Data("m"), M({{"priority", I(5)}})}),
                    Tup({B("k"), Data("last"), M({{"priority", I(1)}})})})),
             OkPair());
  EXPECT_VEQ(A(Keys(M({{"state", I(kAvailable)}}))), A(Bs({"m", "k"})));
  EXPECT_VEQ(A(Lease(2)), A(Bs({"m", "k"})));
}

TEST_F(UnitsTest, ReAddingAnExistingKeyReplacesDataAndMakesItAvailableKeepingPriority) {
  EXPECT_VEQ(Add(A({Tup({B("a"), Data("a"), M({{"priority", I(5)}})})})), OkPair());
  AddKeys({"f", "g", "h"});
  EXPECT_VEQ(A(Lease(1, "w1")), A(Bs({"a"})));
  EXPECT_VEQ(A(Lease(2, "w2")), A(Bs({"f", "g"})));
  Finish(B("f"));
  Fail(B("g"), "boom");
  EXPECT_VEQ(Counts(), CountMap({{1, 1}, {3, 1}, {4, 1}, {5, 1}}));
  // Re-add the PENDING, FINISHED and FAILED units with new data and a higher priority.
  EXPECT_VEQ(Add(A({Tup({B("a"), Data("a2"), M({{"priority", I(100)}})}),
                    Tup({B("f"), Data("f2"), M({{"priority", I(100)}}), I(100)}),
                    Tup({B("g"), Data("g2")})})),
             OkPair());
  EXPECT_VEQ(Counts(), CountMap({{1, 4}}));
  Value st = Statuses(Bs({"a", "f", "g"}));
  ASSERT_EQ(st.items().size(), 3u) << st.ToDiagnostic();
  for (const auto& s : st.items()) {
    ASSERT_TRUE(s.is_map()) << st.ToDiagnostic();
    EXPECT_VEQ(*s.FindKey("status"), I(kAvailable));
    EXPECT_VEQ(*s.FindKey("expiration"), Null());
    EXPECT_EQ(s.FindKey("worker_id"), nullptr) << st.ToDiagnostic();
    EXPECT_EQ(s.FindKey("traceback"), nullptr) << st.ToDiagnostic();
  }
  EXPECT_VEQ(
      Units(M({{"work_unit_keys", A(Bs({"a", "f", "g"}))}})),
      Pair(A({Tup({B("a"), Data("a2")}), Tup({B("f"), Data("f2")}), Tup({B("g"), Data("g2")})}),
           Null()));
  // Priorities unchanged: a (5) before a new unit of priority 3, f and g (0) after it.
  EXPECT_VEQ(Add(A({Tup({B("z"), Data("z"), M({{"priority", I(3)}})})})), OkPair());
  EXPECT_VEQ(A(Keys(M({{"state", I(kAvailable)}}))), A(Bs({"a", "z", "f", "g", "h"})));
  // The re-added PENDING unit is handed out again, to anyone.
  EXPECT_VEQ(A(Lease(1, "w3")), A(Bs({"a"})));
}

TEST_F(UnitsTest, ReAddingAnAvailableUnitOnlyReplacesData) {
  EXPECT_VEQ(Add(A({Tup({B("a"), Data("a"), M({{"priority", I(2)}})}), Tup({B("b"), Data("b")})})),
             OkPair());
  EXPECT_VEQ(Add(A({Tup({B("a"), Data("a2"), M({{"priority", I(-5)}})})})), OkPair());
  EXPECT_VEQ(Counts(), CountMap({{1, 2}}));
  EXPECT_VEQ(Units(M({{"state", I(kAvailable)}})),
             Pair(A({Tup({B("a"), Data("a2")}), Tup({B("b"), Data("b")})}), Null()));
}

TEST_F(UnitsTest, BadBatchesAreErrorsAndNothingIsHalfApplied) {
  AddKeys({"pre"});
  struct Case {
    const char* what;
    Value items;
  };
  std::vector<Case> cases = {
      {"batch is a map", M({{"k", Data("k")}})},
      {"batch is a string", B("k1")},
      {"batch is an int", I(3)},
      {"one-element item", A({Tup({B("pre"), Data("changed")}), Tup({B("k2")})})},
      {"five-element item",
       A({Tup({B("pre"), Data("changed")}), Tup({B("k2"), Data("k2"), Value::Map(), I(1), I(2)})})},
      {"int key", A({Tup({B("pre"), Data("changed")}), Tup({I(5), Data("k2")})})},
      {"null key", A({Tup({B("pre"), Data("changed")}), Tup({Null(), Data("k2")})})},
      {"list key", A({Tup({B("pre"), Data("changed")}), Tup({A({B("x")}), Data("k2")})})},
      {"null item", A({Tup({B("pre"), Data("changed")}), Null()})},
      {"int item", A({Tup({B("k3"), Data("k3")}), I(4)})},
      {"map item", A({Tup({B("k3"), Data("k3")}), M({{"k", B("v")}})})},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = c_->Call("add_work_units", A({B("ws"), c.items}));
    ASSERT_FALSE(r.ok()) << r->ToDiagnostic();
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
    EXPECT_VEQ(Counts(), CountMap({{1, 1}}));
    EXPECT_VEQ(Units(M({{"work_unit_keys", A(Bs({"pre"}))}})),
               Pair(A({Tup({B("pre"), Data("pre")})}), Null()));
  }
  EXPECT_VEQ(A(Keys(Value::Map())), A(Bs({"pre"})));
}

TEST_F(UnitsTest, EmptyBatchIsOk) {
  EXPECT_VEQ(Add(A()), OkPair());
  EXPECT_VEQ(Counts(), Value::Map());
}

// ---- get_work_units
// ------------------------------------------------------------------------------

TEST_F(UnitsTest, GetWorkUnitsByKeysKeepsRequestedOrderAndReportsMissing) {
  AddKeys({"a", "b", "c"});
  EXPECT_VEQ(
      Units(M({{"work_unit_keys", A(Bs({"c", "missing", "a"}))}})),
      Pair(A({Tup({B("c"), Data("c")}), Tup({B("missing"), Null()}), Tup({B("a"), Data("a")})}),
           Null()));
  // Other options are ignored when keys are given.
  EXPECT_VEQ(A(Keys(M({{"work_unit_keys", A(Bs({"b", "a", "c"}))},
                       {"state", I(kFinished)},
                       {"limit", I(1)},
                       {"start", B("c")}}))),
             A(Bs({"b", "a", "c"})));
  // An empty list means "not given" (PY): everything.
  EXPECT_VEQ(A(Keys(M({{"work_unit_keys", A()}}))), A(Bs({"a", "b", "c"})));
}

TEST_F(UnitsTest, GetWorkUnitsStateFilterAndOrder) {
  EXPECT_VEQ(Add(A({Tup({B("a"), Data("a")}), Tup({B("b"), Data("b"), M({{"priority", I(3)}})}),
                    Tup({B("c"), Data("c"), M({{"priority", I(1)}})}),
                    Tup({B("d"), Data("d"), M({{"priority", I(3)}})}), Tup({B("e"), Data("e")})})),
             OkPair());
  EXPECT_VEQ(A(Lease(2)), A(Bs({"b", "d"})));
  // Without state: key order, whatever the priority.
  EXPECT_VEQ(A(Keys(Value::Map())), A(Bs({"a", "b", "c", "d", "e"})));
  EXPECT_VEQ(A(Keys(M({{"state", I(kAvailable)}}))), A(Bs({"c", "a", "e"})));
  EXPECT_VEQ(A(Keys(M({{"state", I(kPending)}}))), A(Bs({"b", "d"})));
  EXPECT_VEQ(A(Keys(M({{"state", I(kFinished)}}))), A());
  EXPECT_VEQ(A(Keys(M({{"state", A({I(kAvailable), I(kPending)})}}))),
             A(Bs({"b", "d", "c", "a", "e"})));
  EXPECT_VEQ(A(Keys(M({{"state", Tup({I(kAvailable), I(kPending)})}}))),
             A(Bs({"b", "d", "c", "a", "e"})));
  EXPECT_VEQ(A(Keys(M({{"state", Tup({I(kPending), I(kFinished)})}}))), A(Bs({"b", "d"})));
  // start is an inclusive key, with and without state.
  EXPECT_VEQ(A(Keys(M({{"start", B("c")}}))), A(Bs({"c", "d", "e"})));
  EXPECT_VEQ(A(Keys(M({{"start", B("bb")}}))), A(Bs({"c", "d", "e"})));
  EXPECT_VEQ(A(Keys(M({{"start", B("f")}}))), A());
  EXPECT_VEQ(A(Keys(M({{"state", Tup({I(kAvailable), I(kPending)})}, {"start", B("b")}}))),
             A(Bs({"b", "d", "c", "e"})));
  // limit
  EXPECT_VEQ(A(Keys(M({{"limit", I(2)}}))), A(Bs({"a", "b"})));
  EXPECT_VEQ(A(Keys(M({{"state", A({I(kAvailable), I(kPending)})}, {"limit", I(3)}}))),
             A(Bs({"b", "d", "c"})));
  EXPECT_VEQ(A(Keys(M({{"start", B("b")}, {"limit", I(2)}}))), A(Bs({"b", "c"})));
  // Data comes with each key.
  EXPECT_VEQ(Units(M({{"state", I(kPending)}})),
             Pair(A({Tup({B("b"), Data("b")}), Tup({B("d"), Data("d")})}), Null()));
}

TEST_F(UnitsTest, GetWorkUnitsDefaultLimitAndClamp) {
  constexpr int kUnits = 10500;
  for (int batch = 0; batch * 1000 < kUnits; ++batch) {
    Value items = A();
    for (int i = batch * 1000; i < std::min(kUnits, (batch + 1) * 1000); ++i) {
      items.Append(Tup({B(fmt::format("u{:05d}", i)), Value::Map()}));
    }
    EXPECT_VEQ(Add(items), OkPair());
  }
  EXPECT_VEQ(Counts(), CountMap({{1, kUnits}}));
  auto check = [&](Value options, size_t n) {
    SCOPED_TRACE(options.ToDiagnostic());
    std::vector<Value> keys = Keys(std::move(options));
    ASSERT_EQ(keys.size(), n);
    EXPECT_VEQ(keys.front(), B("u00000"));
    EXPECT_VEQ(keys.back(), B(fmt::format("u{:05d}", n - 1)));
  };
  check(Value::Map(), 1000);
  check(M({{"state", I(kAvailable)}}), 1000);
  check(M({{"limit", I(10000)}}), 10000);
  check(M({{"limit", I(20000)}}), 10000);
  check(M({{"state", I(kAvailable)}, {"limit", I(20000)}}), 10000);
  check(M({{"limit", I(10001)}}), 10000);
  std::vector<Value> tail = Keys(M({{"start", B("u10400")}, {"limit", I(20000)}}));
  ASSERT_EQ(tail.size(), 100u);
  EXPECT_VEQ(tail.back(), B("u10499"));
}

TEST_F(UnitsTest, DataThatIsNotAMap) {
  const Value list = A({I(1), B("two"), Tup({I(3)})});
  EXPECT_VEQ(Add(A({Tup({B("l"), list})})), OkPair());
  EXPECT_VEQ(Units(Value::Map()), Pair(A({Tup({B("l"), list})}), Null()));
  EXPECT_VEQ(Statuses(Bs({"l"})), A({M({{"status", I(kAvailable)}, {"expiration", Null()}})}));
  EXPECT_VEQ(Call("get_work", A({B("w"), Value::Map()})),
             Pair(Tup({B("ws"), B("l"), list}), Null()));
  Finish(B("l"));
  EXPECT_VEQ(Units(M({{"state", I(kFinished)}})), Pair(A({Tup({B("l"), list})}), Null()));
}

// ---- get_work_unit_status / count_work_units
// -----------------------------------------------------

TEST_F(UnitsTest, GetWorkUnitStatusShape) {
  EXPECT_VEQ(Add(A({Tup({B("av"), Data("av")}), Tup({B("pe"), Data("pe")}),
                    Tup({B("fi"), Data("fi")}), Tup({B("fa"), Data("fa")}),
                    Tup({B("tb"), M({{"traceback", B("earlier")}}), M({{"priority", I(-1)}})})})),
             OkPair());
  // Lease fa, fi, pe (key order), then finish fi and fail fa.
  const double before = Now();
  EXPECT_VEQ(A(Lease(3, "w1", B("ws"), 600)), A(Bs({"av", "fa", "fi"})));
  const double after = Now();
  (void)after;
  // "av" was leased first by key; put it back and lease "pe" instead.
  EXPECT_VEQ(Update(B("av"), M({{"status", I(kAvailable)}})), OkPair());
  EXPECT_VEQ(
      Update(B("pe"), M({{"status", I(kPending)}, {"lease_time", I(600)}, {"worker_id", B("w1")}})),
      OkPair());
  const double t_pe = Now();
  Finish(B("fi"));
  Fail(B("fa"), "boom");
  const double done = Now();

  Value st = Statuses(Bs({"av", "pe", "fi", "fa", "tb", "nope"}));
  ASSERT_TRUE(st.is_array() && st.items().size() == 6) << st.ToDiagnostic();
  const Value& av = st.items()[0];
  const Value& pe = st.items()[1];
  const Value& fi = st.items()[2];
  const Value& fa = st.items()[3];
  const Value& tb = st.items()[4];
  // AVAILABLE after a retry: status and expiration only.
  EXPECT_VEQ(av, M({{"status", I(kAvailable)}, {"expiration", Null()}}));
  // PENDING: absolute lease deadline, worker.
  ASSERT_TRUE(pe.is_map()) << st.ToDiagnostic();
  EXPECT_EQ(pe.map_size(), 3u) << pe.ToDiagnostic();
  EXPECT_VEQ(*pe.FindKey("status"), I(kPending));
  EXPECT_VEQ(*pe.FindKey("worker_id"), B("w1"));
  ASSERT_TRUE(pe.FindKey("expiration")->is_double()) << pe.ToDiagnostic();
  EXPECT_NEAR(pe.FindKey("expiration")->as_double(), t_pe + 600, 2.0);
  EXPECT_GE(pe.FindKey("expiration")->as_double(), before + 600);
  // FINISHED: completion time in expiration, worker kept.
  ASSERT_TRUE(fi.is_map()) << st.ToDiagnostic();
  EXPECT_EQ(fi.map_size(), 3u) << fi.ToDiagnostic();
  EXPECT_VEQ(*fi.FindKey("status"), I(kFinished));
  EXPECT_VEQ(*fi.FindKey("worker_id"), B("w1"));
  ASSERT_TRUE(fi.FindKey("expiration")->is_double()) << fi.ToDiagnostic();
  EXPECT_GE(fi.FindKey("expiration")->as_double(), before - 1e-6);
  EXPECT_LE(fi.FindKey("expiration")->as_double(), done + 1e-6);
  // FAILED: traceback copied from the data.
  ASSERT_TRUE(fa.is_map()) << st.ToDiagnostic();
  EXPECT_EQ(fa.map_size(), 4u) << fa.ToDiagnostic();
  EXPECT_VEQ(*fa.FindKey("status"), I(kFailed));
  EXPECT_VEQ(*fa.FindKey("worker_id"), B("w1"));
  EXPECT_VEQ(*fa.FindKey("traceback"), B("boom"));
  ASSERT_TRUE(fa.FindKey("expiration")->is_double()) << fa.ToDiagnostic();
  EXPECT_LE(fa.FindKey("expiration")->as_double(), done + 1e-6);
  // A traceback in the data shows in any state.
  EXPECT_VEQ(tb,
             M({{"status", I(kAvailable)}, {"expiration", Null()}, {"traceback", B("earlier")}}));
  // Missing key: None in its position.
  EXPECT_VEQ(st.items()[5], Null());
  // Keys for the map come as byte strings, as PY's str keys.
  for (size_t i = 0; i < pe.map_size(); ++i) EXPECT_TRUE(pe.key_at(i).is_bytes());
}

TEST_F(UnitsTest, StatusSeesAnExpiredLease) {
  AddKeys({"a"});
  EXPECT_VEQ(A(Lease(1, "w1", B("ws"), 100)), A(Bs({"a"})));
  EXPECT_EQ(StatusOf(B("a")), kPending);
  AdvanceClock(*c_, 150);
  EXPECT_VEQ(Statuses(Bs({"a"})), A({M({{"status", I(kAvailable)}, {"expiration", Null()}})}));
  EXPECT_VEQ(Counts(), CountMap({{1, 1}}));
}

TEST_F(UnitsTest, CountWorkUnitsOnlyNonZero) {
  EXPECT_VEQ(Call("count_work_units", A({B("ws")})), Pair(Value::Map(), Null()));
  AddKeys({"a", "b", "c", "d", "e"});
  EXPECT_VEQ(Counts(), CountMap({{1, 5}}));
  EXPECT_VEQ(A(Lease(3)), A(Bs({"a", "b", "c"})));
  Finish(B("a"));
  EXPECT_VEQ(Counts(), CountMap({{1, 2}, {3, 2}, {4, 1}}));
  Fail(B("b"), "x");
  EXPECT_VEQ(Counts(), CountMap({{1, 2}, {3, 1}, {4, 1}, {5, 1}}));
  EXPECT_VEQ(Del(M({{"state", I(kAvailable)}})), Pair(I(2), Null()));
  EXPECT_VEQ(Counts(), CountMap({{3, 1}, {4, 1}, {5, 1}}));
}

// ---- prioritize_work_units (§9.3) ---------------------------------------------------------------

TEST_F(UnitsTest, PrioritizeMakesAUnitRunFirst) {
  AddKeys({"a", "b", "c"});
  EXPECT_VEQ(A(Lease(1)), A(Bs({"a"})));
  EXPECT_VEQ(Prioritize(M({{"work_unit_keys", A(Bs({"c"}))}, {"priority", I(1)}})), OkPair());
  EXPECT_VEQ(A(Lease(1)), A(Bs({"c"})));
  EXPECT_VEQ(A(Lease(1)), A(Bs({"b"})));
}

TEST_F(UnitsTest, PrioritizeAdjustments) {
  AddKeys({"a", "b", "c"});
  EXPECT_VEQ(Prioritize(M({{"work_unit_keys", A(Bs({"a"}))}, {"adjustment", I(10)}})), OkPair());
  EXPECT_VEQ(Prioritize(M({{"work_unit_keys", A(Bs({"b"}))}, {"adjustment", I(20)}})), OkPair());
  EXPECT_VEQ(Prioritize(M({{"work_unit_keys", A(Bs({"c"}))}, {"adjustment", I(30)}})), OkPair());
  EXPECT_VEQ(A(Keys(M({{"state", I(kAvailable)}}))), A(Bs({"c", "b", "a"})));
  EXPECT_VEQ(A(Lease(3)), A(Bs({"c", "b", "a"})));
}

TEST_F(UnitsTest, PrioritizeSetThenAdjust) {
  AddKeys({"a", "b", "c"});
  EXPECT_VEQ(Prioritize(M({{"work_unit_keys", A(Bs({"a"}))}, {"priority", I(10)}})), OkPair());
  EXPECT_VEQ(Prioritize(M({{"work_unit_keys", A(Bs({"b"}))}, {"priority", I(20)}})), OkPair());
  EXPECT_VEQ(Prioritize(M({{"work_unit_keys", A(Bs({"c"}))}, {"priority", I(30)}})), OkPair());
  EXPECT_VEQ(A(Lease(1)), A(Bs({"c"})));
  // The Python client sends both keys, one of them null.
  EXPECT_VEQ(Prioritize(M(
                 {{"work_unit_keys", A(Bs({"a"}))}, {"priority", Null()}, {"adjustment", I(15)}})),
             OkPair());
  EXPECT_VEQ(A(Lease(1)), A(Bs({"a"})));
  EXPECT_VEQ(A(Lease(1)), A(Bs({"b"})));
}

TEST_F(UnitsTest, PrioritizePriorityWinsOverAdjustment) {
  AddKeys({"a", "b"});
  EXPECT_VEQ(Prioritize(M(
                 {{"work_unit_keys", A(Bs({"a"}))}, {"priority", I(-5)}, {"adjustment", I(100)}})),
             OkPair());
  EXPECT_VEQ(A(Keys(M({{"state", I(kAvailable)}}))), A(Bs({"b", "a"})));
}

TEST_F(UnitsTest, PrioritizeWithNeitherIsANoOp) {
  AddKeys({"a", "b", "c"});
  EXPECT_VEQ(Prioritize(M({{"work_unit_keys", A(Bs({"c"}))}})), OkPair());
  EXPECT_VEQ(Prioritize(M(
                 {{"work_unit_keys", A(Bs({"c"}))}, {"priority", Null()}, {"adjustment", Null()}})),
             OkPair());
  EXPECT_VEQ(A(Keys(M({{"state", I(kAvailable)}}))), A(Bs({"a", "b", "c"})));
}

TEST_F(UnitsTest, PrioritizeWithoutKeys) {
  AddKeys({"a"});
  EXPECT_VEQ(Prioritize(M({{"priority", I(3)}})), FalseMsg("missing work_unit_keys"));
  EXPECT_VEQ(Prioritize(Value::Map()), FalseMsg("missing work_unit_keys"));
}

TEST_F(UnitsTest, PrioritizeIgnoresMissingKeys) {
  AddKeys({"a", "b"});
  EXPECT_VEQ(Prioritize(M({{"work_unit_keys", A(Bs({"nope", "b"}))}, {"priority", I(4)}})),
             OkPair());
  EXPECT_VEQ(A(Keys(M({{"state", I(kAvailable)}}))), A(Bs({"b", "a"})));
  EXPECT_VEQ(A(Keys(Value::Map())), A(Bs({"a", "b"})));
}

TEST_F(UnitsTest, PrioritizeAppliesToNonAvailableUnitsAndSurvivesRetry) {
  AddKeys({"x", "y", "z"});
  EXPECT_VEQ(A(Lease(3)), A(Bs({"x", "y", "z"})));
  AddKeys({"a"});
  EXPECT_VEQ(Prioritize(M({{"work_unit_keys", A(Bs({"y"}))}, {"priority", I(10)}})), OkPair());
  Finish(B("z"));
  EXPECT_VEQ(Prioritize(M({{"work_unit_keys", A(Bs({"z"}))}, {"adjustment", I(5)}})), OkPair());
  // The pending and finished units keep their states...
  EXPECT_EQ(StatusOf(B("y")), kPending);
  EXPECT_EQ(StatusOf(B("z")), kFinished);
  EXPECT_VEQ(A(Keys(M({{"state", I(kAvailable)}}))), A(Bs({"a"})));
  // ...and their priorities count once they are AVAILABLE again.
  for (const char* k : {"x", "y", "z"}) {
    EXPECT_VEQ(Update(B(k), M({{"status", I(kAvailable)}})), OkPair());
  }
  EXPECT_VEQ(A(Keys(M({{"state", I(kAvailable)}}))), A(Bs({"y", "z", "a", "x"})));
  EXPECT_VEQ(A(Lease(4, "w2")), A(Bs({"y", "z", "a", "x"})));
}

TEST_F(UnitsTest, PrioritizeSurvivesLeaseExpiry) {
  AddKeys({"a", "b"});
  EXPECT_VEQ(A(Lease(1, "w1", B("ws"), 10)), A(Bs({"a"})));
  EXPECT_VEQ(Prioritize(M({{"work_unit_keys", A(Bs({"b"}))}, {"priority", I(1)}})), OkPair());
  EXPECT_VEQ(Prioritize(M({{"work_unit_keys", A(Bs({"a"}))}, {"priority", I(2)}})), OkPair());
  AdvanceClock(*c_, 20);
  EXPECT_VEQ(A(Lease(2, "w2")), A(Bs({"a", "b"})));
}

// ---- del_work_units
// ------------------------------------------------------------------------------

TEST_F(UnitsTest, DelWorkUnitsByKey) {
  AddKeys({"foo", "bar"});
  EXPECT_VEQ(Del(M({{"work_unit_keys", A(Bs({"foo"}))}})), Pair(I(1), Null()));
  EXPECT_VEQ(A(Keys(Value::Map())), A(Bs({"bar"})));
  EXPECT_VEQ(Del(M({{"work_unit_keys", A(Bs({"foo", "nope"}))}})), Pair(I(0), Null()));
  EXPECT_VEQ(A(Keys(Value::Map())), A(Bs({"bar"})));
}

TEST_F(UnitsTest, DelWorkUnitsAllWinsOverEverythingElse) {
  AddKeys({"a", "b", "c"});
  EXPECT_VEQ(A(Lease(1)), A(Bs({"a"})));
  Finish(B("a"));
  EXPECT_VEQ(
      Del(M({{"all", Bool(true)}, {"work_unit_keys", A(Bs({"b"}))}, {"state", I(kFinished)}})),
      Pair(I(3), Null()));
  EXPECT_VEQ(Counts(), Value::Map());
  EXPECT_VEQ(A(Keys(Value::Map())), A());
  // The spec itself stays, and takes new units.
  AddKeys({"d"});
  EXPECT_VEQ(A(Lease(1)), A(Bs({"d"})));
}

TEST_F(UnitsTest, DelWorkUnitsWithoutUsableOptions) {
  AddKeys({"a", "b"});
  const Value msg = Pair(I(0), B("no usable options to del_work_units"));
  EXPECT_VEQ(Del(Value::Map()), msg);
  EXPECT_VEQ(Del(M({{"all", Bool(false)}})), msg);
  EXPECT_VEQ(Del(M({{"all", Bool(false)}, {"state", Null()}, {"work_unit_keys", Null()}})), msg);
  EXPECT_VEQ(Counts(), CountMap({{1, 2}}));
}

TEST_F(UnitsTest, DelWorkUnitsWithAnEmptyKeyListDeletesNothing) {
  // PY tests `work_unit_keys is not None`: an empty list is "these zero keys", even with a
  // state, never "every unit in that state".
  AddKeys({"a", "b"});
  EXPECT_VEQ(Del(M({{"work_unit_keys", A()}, {"state", I(kAvailable)}})), Pair(I(0), Null()));
  EXPECT_VEQ(Counts(), CountMap({{1, 2}}));
  EXPECT_VEQ(Del(M({{"work_unit_keys", A()}})), Pair(I(0), Null()));
  EXPECT_VEQ(Counts(), CountMap({{1, 2}}));
}

TEST_F(UnitsTest, DeletedPendingUnitCannotBeUpdated) {
  AddKeys({"a"});
  EXPECT_VEQ(A(Lease(1)), A(Bs({"a"})));
  EXPECT_VEQ(Del(M({{"work_unit_keys", A(Bs({"a"}))}})), Pair(I(1), Null()));
  EXPECT_VEQ(Update(B("a"), M({{"status", I(kFinished)}})), FalseMsg("no such work unit key='a'"));
  EXPECT_VEQ(Counts(), Value::Map());
  EXPECT_VEQ(A(Lease(1)), A());
}

// One or two units in each of the four states, named after it (§9.9, parametrised by state).
class UnitsDelByStateTest : public UnitsTestBase, public ::testing::WithParamInterface<int> {
 public:
  static std::string Name(int state) {
    switch (state) {
      case kAvailable:
        return "AV";
      case kPending:
        return "PE";
      case kFinished:
        return "FI";
      default:
        return "FA";
    }
  }

 protected:
  void SetUp() override { StartDaemon(); }

  // (Re)creates spec "ws" with `per_state` units per state: FA0, FI0, PE0, AV0, ...
  void Build(int per_state) {
    EXPECT_VEQ(Call("del_work_spec", A({B("ws")})), OkPair());
    SetSpec(M({{"name", B("ws")}}));
    std::vector<std::string> first;
    for (int i = 0; i < per_state; ++i) {
      for (const char* s : {"FA", "FI", "PE"}) first.push_back(fmt::format("{}{}", s, i));
    }
    AddKeys(first);
    ASSERT_EQ(Lease(3 * per_state).size(), static_cast<size_t>(3 * per_state));
    std::vector<std::string> available;
    for (int i = 0; i < per_state; ++i) {
      Finish(B(fmt::format("FI{}", i)));
      Fail(B(fmt::format("FA{}", i)), "x");
      available.push_back(fmt::format("AV{}", i));
    }
    AddKeys(available);
    for (int s : {kAvailable, kPending, kFinished, kFailed}) {
      for (int i = 0; i < per_state; ++i) {
        ASSERT_EQ(StatusOf(B(fmt::format("{}{}", Name(s), i))), s);
      }
    }
  }

  // Every unit except `gone` is present, in its own state.
  void ExpectAllBut(int per_state, const std::vector<std::string>& gone) {
    for (int s : {kAvailable, kPending, kFinished, kFailed}) {
      for (int i = 0; i < per_state; ++i) {
        const std::string k = fmt::format("{}{}", Name(s), i);
        const bool deleted = std::find(gone.begin(), gone.end(), k) != gone.end();
        EXPECT_EQ(StatusOf(B(k)), deleted ? 0 : s) << k;
      }
    }
    Value counts = Counts();
    uint64_t total = 0;
    for (size_t i = 0; i < counts.map_size(); ++i) total += *counts.value_at(i).AsInt64();
    EXPECT_EQ(total, static_cast<uint64_t>(4 * per_state) - gone.size()) << counts.ToDiagnostic();
  }
};

TEST_P(UnitsDelByStateTest, OneUnitPerState) {
  const int state = GetParam();
  const std::string key = Name(state) + "0";
  const int other = state == kAvailable ? kFinished : kAvailable;

  Build(1);
  EXPECT_VEQ(Del(M({{"work_unit_keys", A({B(key)})}})), Pair(I(1), Null()));
  ExpectAllBut(1, {key});

  Build(1);
  EXPECT_VEQ(Del(M({{"state", I(state)}})), Pair(I(1), Null()));
  ExpectAllBut(1, {key});

  Build(1);
  EXPECT_VEQ(Del(M({{"work_unit_keys", A({B(key)})}, {"state", I(state)}})), Pair(I(1), Null()));
  ExpectAllBut(1, {key});

  Build(1);
  EXPECT_VEQ(Del(M({{"work_unit_keys", A({B(key)})}, {"state", I(other)}})), Pair(I(0), Null()));
  ExpectAllBut(1, {});
}

TEST_P(UnitsDelByStateTest, TwoUnitsPerState) {
  const int state = GetParam();
  const std::string k0 = Name(state) + "0";
  const std::string k1 = Name(state) + "1";

  Build(2);
  EXPECT_VEQ(Del(M({{"work_unit_keys", A({B(k0)})}})), Pair(I(1), Null()));
  ExpectAllBut(2, {k0});

  Build(2);
  EXPECT_VEQ(Del(M({{"state", I(state)}})), Pair(I(2), Null()));
  ExpectAllBut(2, {k0, k1});

  Build(2);
  EXPECT_VEQ(Del(M({{"work_unit_keys", A({B(k1)})}, {"state", I(state)}})), Pair(I(1), Null()));
  ExpectAllBut(2, {k1});
}

INSTANTIATE_TEST_SUITE_P(UnitsDelByState, UnitsDelByStateTest,
                         ::testing::Values(kAvailable, kPending, kFinished, kFailed),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return UnitsDelByStateTest::Name(info.param);
                         });

// ---- key fidelity (§9.10) -----------------------------------------------------------------------

TEST_F(UnitsTest, BinaryKeysSurviveEveryPath) {
  const std::vector<std::string> raw = {
      Raw("\0"),
      Raw("a\0b"),
      Raw("\xff\x80"),
      Raw("\xff"),
      Raw("\xf0\x0f"),
      Raw("\x01\x02\x1f\x7f"),
      Raw("\n\r\t"),
      Raw("f\xc3\xbc\xe2\x82\xac"),  // UTF-8
      Raw("f\xfc"),                  // Latin-1
      Raw("\377\376a\0"),            // UTF-16LE with BOM
      Raw("\0a\0b"),                 // UTF-16BE fragment
      Raw("\xd8\x00"),               // lone surrogate half
      Raw("plain"),
      Raw(""),   // the empty key
      Raw("a"),  // a prefix of "a\0b"
  };
  std::vector<std::string> sorted = raw;
  std::sort(sorted.begin(), sorted.end());
  Value items = A();
  for (const auto& k : raw) items.Append(Tup({B(k), M({{"key", B(k)}})}));
  EXPECT_VEQ(Add(items), OkPair());

  Value expected_list = A();
  std::vector<Value> sorted_keys;
  for (const auto& k : sorted) {
    expected_list.Append(Tup({B(k), M({{"key", B(k)}})}));
    sorted_keys.push_back(B(k));
  }
  EXPECT_VEQ(Units(Value::Map()), Pair(expected_list, Null()));
  EXPECT_VEQ(Units(M({{"state", I(kAvailable)}})), Pair(expected_list, Null()));
  std::vector<Value> raw_keys;
  for (const auto& k : raw) raw_keys.push_back(B(k));
  Value by_key = Units(M({{"work_unit_keys", A(raw_keys)}}));
  ASSERT_EQ(by_key.items()[0].items().size(), raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    EXPECT_VEQ(by_key.items()[0].items()[i], Tup({B(raw[i]), M({{"key", B(raw[i])}})}));
  }
  for (const auto& k : raw) EXPECT_EQ(StatusOf(B(k)), kAvailable) << Value(B(k)).ToDiagnostic();

  // get_work hands them out in byte order, as byte strings, with their data.
  Value got = Call("get_work", A({B("w"), M({{"max_jobs", I(100)}})}));
  Value expected_work = A();
  for (const auto& k : sorted) expected_work.Append(Tup({B("ws"), B(k), M({{"key", B(k)}})}));
  EXPECT_VEQ(got, Pair(expected_work, Null()));

  for (const auto& k : raw) Finish(B(k));
  EXPECT_VEQ(A(Keys(M({{"state", I(kFinished)}}))), A(sorted_keys));
  for (const auto& k : raw) EXPECT_EQ(StatusOf(B(k)), kFinished) << Value(B(k)).ToDiagnostic();
  EXPECT_VEQ(Counts(), CountMap({{4, static_cast<int>(raw.size())}}));
  // Deleting by a binary key removes exactly that unit.
  EXPECT_VEQ(Del(M({{"work_unit_keys", A({B(Raw("\0"))})}})), Pair(I(1), Null()));
  EXPECT_EQ(StatusOf(B(Raw("\0"))), 0);
  EXPECT_EQ(StatusOf(B(Raw("a\0b"))), kFinished);
  EXPECT_EQ(StatusOf(B(Raw(""))), kFinished);
}

TEST_F(UnitsTest, TextKeysComeBackAsText) {
  EXPECT_VEQ(Add(A({Tup({T("t1"), Data("t1")}), Tup({T("\xc3\xbcn\xc3\xaf"), Data("u")}),
                    Tup({B("b1"), Data("b1")})})),
             OkPair());
  EXPECT_VEQ(A(Keys(Value::Map())), A({B("b1"), T("t1"), T("\xc3\xbcn\xc3\xaf")}));
  EXPECT_VEQ(A(Keys(M({{"state", I(kAvailable)}}))), A({B("b1"), T("t1"), T("\xc3\xbcn\xc3\xaf")}));
  // Looked up by either string type, the same unit, its key in its own type.
  EXPECT_VEQ(Units(M({{"work_unit_keys", A({B("t1"), T("b1")})}})),
             Pair(A({Tup({T("t1"), Data("t1")}), Tup({B("b1"), Data("b1")})}), Null()));
  Value got = Call("get_work", A({B("w"), M({{"max_jobs", I(3)}})}));
  EXPECT_VEQ(got, Pair(A({Tup({B("ws"), B("b1"), Data("b1")}), Tup({B("ws"), T("t1"), Data("t1")}),
                          Tup({B("ws"), T("\xc3\xbcn\xc3\xaf"), Data("u")})}),
                       Null()));
  // A byte-string update finishes the text-keyed unit; it stays text.
  Finish(B("t1"));
  EXPECT_EQ(StatusOf(T("t1")), kFinished);
  EXPECT_VEQ(A(Keys(M({{"state", I(kFinished)}}))), A({T("t1")}));
  // Re-adding under the other string type is the same unit and keeps the original type.
  EXPECT_VEQ(Add(A({Tup({B("t1"), Data("again")})})), OkPair());
  EXPECT_VEQ(Counts(), CountMap({{1, 1}, {3, 2}}));
  EXPECT_VEQ(Units(M({{"work_unit_keys", A({B("t1")})}})),
             Pair(A({Tup({T("t1"), Data("again")})}), Null()));
}

// ---- archive (§1.4 archive, §9.9)
// -----------------------------------------------------------------

class UnitsArchiveTest : public UnitsTestBase {
 protected:
  void StartWithConfig(const std::string& coordinate_section) {
    config_path_ = config_dir_.path() + "/coordinated.yaml";
    std::ofstream out(config_path_);
    out << "coordinate:\n" << coordinate_section;
    out.close();
    DaemonOptions o;
    o.config_file = config_path_;
    StartDaemon(o);
  }
  // Finishes (or fails) `keys` one second apart, oldest first.
  void CompleteInOrder(const std::vector<std::string>& keys, int status,
                       const Value& spec = B("ws"), double gap = 1) {
    for (const auto& k : keys) {
      if (status == kFinished) {
        Finish(B(k), spec);
      } else {
        Fail(B(k), "x", spec);
      }
      AdvanceClock(*c_, gap);
    }
  }

  TempDir config_dir_;
  std::string config_path_;
};

TEST_F(UnitsArchiveTest, ByCountKeepsTheNewestAndCountsTheRest) {
  StartWithConfig("  limit_completed_count: 2\n  archive_period_seconds: 100000\n");
  AddKeys({"u1", "u2", "u3", "v1", "v2", "v3", "w"});
  CompleteInOrder({"u1", "u2", "u3"}, kFinished);
  CompleteInOrder({"v3", "v1", "v2"}, kFailed);
  // Nothing is archived before archive() runs.
  EXPECT_VEQ(A(Keys(M({{"state", I(kFinished)}}))), A(Bs({"u1", "u2", "u3"})));
  EXPECT_VEQ(Call("archive", A({Value::Map()})), Null());
  EXPECT_VEQ(Counts(), CountMap({{1, 1}, {4, 3}, {5, 3}}));
  EXPECT_VEQ(A(Keys(M({{"state", I(kFinished)}}))), A(Bs({"u2", "u3"})));
  EXPECT_VEQ(A(Keys(M({{"state", I(kFailed)}}))), A(Bs({"v1", "v2"})));
  EXPECT_VEQ(A(Keys(Value::Map())), A(Bs({"u2", "u3", "v1", "v2", "w"})));
  EXPECT_VEQ(Units(M({{"work_unit_keys", A(Bs({"u1", "v3"}))}})),
             Pair(A({Tup({B("u1"), Null()}), Tup({B("v3"), Null()})}), Null()));
  Value st = Statuses(Bs({"u1", "u2"}));
  ASSERT_EQ(st.items().size(), 2u) << st.ToDiagnostic();
  EXPECT_VEQ(st.items()[0], Null());
  EXPECT_EQ(StatusOf(B("u2")), kFinished);
  // Archiving again changes nothing.
  EXPECT_VEQ(Call("archive", A({Value::Map()})), Null());
  EXPECT_VEQ(Counts(), CountMap({{1, 1}, {4, 3}, {5, 3}}));
  // Deleting by state also clears the archived count of that state.
  EXPECT_VEQ(Del(M({{"state", I(kFinished)}})), Pair(I(3), Null()));
  EXPECT_VEQ(Counts(), CountMap({{1, 1}, {5, 3}}));
  // del all counts the archived units too.
  EXPECT_VEQ(Del(M({{"all", Bool(true)}})), Pair(I(4), Null()));
  EXPECT_VEQ(Counts(), Value::Map());
}

TEST_F(UnitsArchiveTest, DelByKeysDoesNotTouchArchivedCounts) {
  StartWithConfig("  limit_completed_count: 1\n  archive_period_seconds: 100000\n");
  AddKeys({"a", "b"});
  CompleteInOrder({"a", "b"}, kFinished);
  EXPECT_VEQ(Call("archive", A({Value::Map()})), Null());
  EXPECT_VEQ(Counts(), CountMap({{4, 2}}));
  EXPECT_VEQ(Del(M({{"work_unit_keys", A(Bs({"a", "b"}))}})), Pair(I(1), Null()));
  EXPECT_VEQ(Counts(), CountMap({{4, 1}}));
}

TEST_F(UnitsArchiveTest, OnlyTheNamedSpecs) {
  StartWithConfig("  limit_completed_count: 2\n  archive_period_seconds: 100000\n");
  SetSpec(M({{"name", B("other")}}));
  AddKeys({"u1", "u2", "u3"});
  AddKeys({"u1", "u2", "u3"}, B("other"));
  CompleteInOrder({"u1", "u2", "u3"}, kFinished);
  CompleteInOrder({"u1", "u2", "u3"}, kFinished, B("other"));
  EXPECT_VEQ(Call("archive", A({M({{"work_spec_names", A({B("other"), B("missing")})}})})), Null());
  EXPECT_VEQ(A(Keys(M({{"state", I(kFinished)}}))), A(Bs({"u1", "u2", "u3"})));
  EXPECT_VEQ(A(Keys(M({{"state", I(kFinished)}}), B("other"))), A(Bs({"u2", "u3"})));
  EXPECT_VEQ(Counts(B("other")), CountMap({{4, 3}}));
  // Without work_spec_names: every spec.
  EXPECT_VEQ(Call("archive", A({Value::Map()})), Null());
  EXPECT_VEQ(A(Keys(M({{"state", I(kFinished)}}))), A(Bs({"u2", "u3"})));
}

TEST_F(UnitsArchiveTest, ByAgeUnitsAgeOutWhileTheCountStays) {
  StartWithConfig("  limit_completed_age: 15\n  archive_period_seconds: 100000\n");
  AddKeys({"u1", "u2", "u3"});
  // Finished at t, t+10, t+20; now is t+20.
  Finish(B("u1"));
  AdvanceClock(*c_, 10);
  Finish(B("u2"));
  AdvanceClock(*c_, 10);
  Finish(B("u3"));
  EXPECT_VEQ(Call("archive", A({Value::Map()})), Null());
  EXPECT_VEQ(A(Keys(M({{"state", I(kFinished)}}))), A(Bs({"u2", "u3"})));
  EXPECT_VEQ(Counts(), CountMap({{4, 3}}));
  AdvanceClock(*c_, 10);
  EXPECT_VEQ(Call("archive", A({Value::Map()})), Null());
  EXPECT_VEQ(A(Keys(M({{"state", I(kFinished)}}))), A(Bs({"u3"})));
  EXPECT_VEQ(Counts(), CountMap({{4, 3}}));
  AdvanceClock(*c_, 10);
  EXPECT_VEQ(Call("archive", A({Value::Map()})), Null());
  EXPECT_VEQ(A(Keys(M({{"state", I(kFinished)}}))), A());
  EXPECT_VEQ(Counts(), CountMap({{4, 3}}));
}

TEST_F(UnitsArchiveTest, RunsOnItsTimer) {
  StartWithConfig("  limit_completed_count: 2\n  archive_period_seconds: 60\n");
  AddKeys({"u1", "u2", "u3"});
  CompleteInOrder({"u1", "u2", "u3"}, kFinished);
  AdvanceClock(*c_, 61);
  std::vector<Value> keys;
  for (int i = 0; i < 30; ++i) {
    keys = Keys(M({{"state", I(kFinished)}}));
    if (keys.size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_VEQ(A(keys), A(Bs({"u2", "u3"})));
  EXPECT_VEQ(Counts(), CountMap({{4, 3}}));
}

TEST_F(UnitsArchiveTest, WithoutLimitsArchiveKeepsEverything) {
  StartDaemon();
  AddKeys({"u1", "u2", "u3"});
  CompleteInOrder({"u1", "u2", "u3"}, kFinished);
  EXPECT_VEQ(Call("archive", A({Value::Map()})), Null());
  EXPECT_VEQ(A(Keys(M({{"state", I(kFinished)}}))), A(Bs({"u1", "u2", "u3"})));
}

}  // namespace
}  // namespace coordtest
