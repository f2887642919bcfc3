// Work-spec methods through the real daemon (reference-behavior.md §1.2 unknown-spec table and
// §1.3; CONTRACT.md §2 for the fixed list_work_specs paging). Names are byte strings, as Python 2
// clients send them, unless a test is about text.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

using coordinated::Code;

Value NoWork() { return Pair(Tup({Null(), Null(), Null()}), Null()); }

class SpecsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<Daemon>(dir_.path());
    ASSERT_TRUE(daemon_->Start().ok()) << daemon_->Log();
    c_ = daemon_->NewClient();
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
  void AddUnits(const Value& spec, std::vector<std::string> keys) {
    Value items = A();
    for (const auto& k : keys) items.Append(Tup({B(k), M({{"k", B(k)}})}));
    EXPECT_VEQ(Call("add_work_units", A({spec, items})), OkPair());
  }
  Value GetWork(std::string_view worker, Value options = Value::Map()) {
    return Call("get_work", A({B(worker), std::move(options)}));
  }
  Value Meta(const Value& spec) { return Call("get_work_spec_meta", A({spec})); }
  Value Counts(const Value& spec) { return Call("count_work_units", A({spec})); }
  Value Control(const Value& spec, Value options) {
    return Call("control_work_spec", A({spec, std::move(options)}));
  }
  // Spec names of list_work_specs' definitions, and its `next`.
  std::pair<std::vector<Value>, Value> ListNames(Value options) {
    Value r = Call("list_work_specs", A({std::move(options)}));
    std::vector<Value> names;
    if (!r.is_tuple() || r.items().size() != 2 || !r.items()[0].is_array()) {
      ADD_FAILURE() << "bad list_work_specs reply " << r.ToDiagnostic();
      return {names, Null()};
    }
    for (const auto& d : r.items()[0].items()) {
      const Value* n = d.FindKey("name");
      names.push_back(n ? *n : Null());
    }
    return {names, r.items()[1]};
  }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<Client> c_;
};

// The meta map's entries (keys are byte strings, as PY's str keys).
void ExpectMeta(const Value& reply, int64_t status, bool continuous, std::optional<double> interval,
                std::optional<int64_t> max_running, int64_t weight) {
  ASSERT_TRUE(reply.is_tuple() && reply.items().size() == 2) << reply.ToDiagnostic();
  EXPECT_TRUE(reply.items()[1].is_null()) << reply.ToDiagnostic();
  const Value& m = reply.items()[0];
  ASSERT_TRUE(m.is_map()) << reply.ToDiagnostic();
  EXPECT_EQ(m.map_size(), 5u) << m.ToDiagnostic();
  for (size_t i = 0; i < m.map_size(); ++i) {
    EXPECT_TRUE(m.key_at(i).is_bytes()) << m.ToDiagnostic();
  }
  const Value* st = m.FindKey("status");
  const Value* co = m.FindKey("continuous");
  const Value* in = m.FindKey("interval");
  const Value* mr = m.FindKey("max_running");
  const Value* we = m.FindKey("weight");
  ASSERT_TRUE(st && co && in && mr && we) << m.ToDiagnostic();
  EXPECT_VEQ(*st, I(status));
  EXPECT_VEQ(*co, Bool(continuous));
  if (interval) {
    ASSERT_TRUE(in->is_number()) << m.ToDiagnostic();
    EXPECT_DOUBLE_EQ(*in->AsNumber(), *interval);
  } else {
    EXPECT_TRUE(in->is_null()) << m.ToDiagnostic();
  }
  if (max_running) {
    EXPECT_VEQ(*mr, I(*max_running));
  } else {
    EXPECT_TRUE(mr->is_null()) << m.ToDiagnostic();
  }
  EXPECT_VEQ(*we, I(weight));
}

// ---- unknown work spec (§1.2) ------------------------------------------------------------------

TEST_F(SpecsTest, UnknownSpecRepliesMatchPy) {
  const Value x = B("X");
  const std::string msg = "no such work_spec 'X'";
  EXPECT_VEQ(Call("get_work_spec", A({x})), Null());
  EXPECT_VEQ(Call("get_work_spec_meta", A({x})), Pair(Null(), B("no such work spec X")));
  EXPECT_VEQ(Control(x, M({{"status", I(2)}})), FalseMsg("no such work spec X"));
  EXPECT_VEQ(Call("del_work_spec", A({x})), FalseMsg(msg));
  EXPECT_VEQ(Call("add_work_units", A({x, A({Tup({B("k"), Value::Map()})})})), FalseMsg(msg));
  EXPECT_VEQ(Counts(x), FalseMsg(msg));
  EXPECT_VEQ(Call("get_work_units", A({x, Value::Map()})), Pair(Null(), B(msg)));
  EXPECT_VEQ(Call("get_work_unit_status", A({x, A({B("k")})})), Pair(Null(), B(msg)));
  EXPECT_VEQ(Call("prioritize_work_units",
                  A({x, M({{"work_unit_keys", A({B("k")})}, {"priority", I(3)}})})),
             FalseMsg(msg));
  EXPECT_VEQ(Call("del_work_units", A({x, M({{"all", Bool(true)}})})), Pair(I(0), B(msg)));
  EXPECT_VEQ(Call("update_work_unit", A({x, B("k"), M({{"status", I(4)}})})), FalseMsg(msg));
  // None of these created the spec.
  EXPECT_VEQ(Call("list_work_specs", A({Value::Map()})), Pair(A(), Null()));
}

TEST_F(SpecsTest, UnknownSpecWithTextNameUsesUnicodeRepr) {
  const Value x = T("X");
  EXPECT_VEQ(Call("del_work_spec", A({x})), FalseMsg("no such work_spec u'X'"));
  EXPECT_VEQ(Call("add_work_units", A({x, A({Tup({B("k"), Value::Map()})})})),
             FalseMsg("no such work_spec u'X'"));
  EXPECT_VEQ(Counts(x), FalseMsg("no such work_spec u'X'"));
  EXPECT_VEQ(Call("get_work_spec_meta", A({x})), Pair(Null(), B("no such work spec X")));
}

TEST_F(SpecsTest, GetWorkNamingMissingSpecIsNoWorkNotAnError) {
  SetSpec(M({{"name", B("real")}}));
  AddUnits(B("real"), {"u1"});
  EXPECT_VEQ(GetWork("w", M({{"work_spec_names", A({B("X")})}})), NoWork());
  EXPECT_VEQ(GetWork("w", M({{"work_spec_names", A({B("X")})}, {"max_jobs", I(5)}})),
             Pair(A(), Null()));
  // The unit is still there, and a list naming the missing and the real spec finds it.
  EXPECT_VEQ(GetWork("w", M({{"work_spec_names", A({B("X"), B("real")})}})),
             Pair(Tup({B("real"), B("u1"), M({{"k", B("u1")}})}), Null()));
}

TEST_F(SpecsTest, EmptyServer) {
  EXPECT_VEQ(Call("get_work_spec", A({B("ws")})), Null());
  EXPECT_VEQ(Call("list_work_specs", A({Value::Map()})), Pair(A(), Null()));
  EXPECT_VEQ(Call("list_work_specs", A({M({{"limit", I(5)}, {"start", B("a")}})})),
             Pair(A(), Null()));
  EXPECT_VEQ(GetWork("w"), NoWork());
  EXPECT_VEQ(Call("clear"), I(0));
}

// ---- set_work_spec / get_work_spec -------------------------------------------------------------

TEST_F(SpecsTest, GetWorkSpecReturnsTheDefinitionExactly) {
  Value def = M({{"name", B("typed")},
                 {"desc", T("f\xc3\xbc")},
                 {"min_gb", D(1.5)},
                 {"weight", I(3)},
                 {"module", B("mod")},
                 {"run_function", T("run")},
                 {"config", M({{"list", A({I(1), I(2)})},
                               {"tup", Tup({I(4), B("x"), Tup()})},
                               {"neg", I(-7)},
                               {"big", Value::UInt(18446744073709551615ull)}})},
                 {"flag", Bool(true)},
                 {"nothing", Null()},
                 {"uuid", Value::Uuid(std::string(16, '\x5a'))},
                 {"empty_list", A()},
                 {"empty_map", Value::Map()},
                 {"raw", B(std::string("\x00\xff", 2))}});
  def.AppendEntry(T("text_key"), B("v"));
  def.AppendEntry(I(7), T("int key"));
  SetSpec(def);
  EXPECT_VEQ(Call("get_work_spec", A({B("typed")})), def);
  // Looked up by the text form of the same name: the same spec.
  EXPECT_VEQ(Call("get_work_spec", A({T("typed")})), def);
  auto [names, next] = ListNames(Value::Map());
  ASSERT_EQ(names.size(), 1u);
  EXPECT_VEQ(Call("list_work_specs", A({Value::Map()})), Pair(A({def}), Null()));
}

TEST_F(SpecsTest, TextSpecNameKeepsItsType) {
  Value def = M({{"name", T("txt")}, {"min_gb", I(1)}});
  SetSpec(def);
  EXPECT_VEQ(Call("get_work_spec", A({B("txt")})), def);
  AddUnits(B("txt"), {"u"});
  Value r = GetWork("w");
  ASSERT_TRUE(r.is_tuple() && r.items()[0].is_tuple()) << r.ToDiagnostic();
  EXPECT_VEQ(r.items()[0].items()[0], T("txt"));
}

TEST_F(SpecsTest, SetWorkSpecWithoutNameIsAnErrorAndConnectionStaysOpen) {
  auto r = c_->Call("set_work_spec", A({M({{"min_gb", I(1)}})}));
  EXPECT_FALSE(r.ok());
  auto r2 = c_->Call("set_work_spec", A({B("not a map")}));
  EXPECT_FALSE(r2.ok());
  EXPECT_VEQ(Call("list_work_specs", A({Value::Map()})), Pair(A(), Null()));
}

TEST_F(SpecsTest, SetWorkSpecReplacesTheDefinitionAndKeepsUnits) {
  SetSpec(M({{"name", B("ws")}, {"desc", B("one")}}));
  AddUnits(B("ws"), {"a", "b"});
  Value second = M({{"name", B("ws")}, {"desc", B("two")}, {"extra", I(1)}});
  SetSpec(second);
  EXPECT_VEQ(Call("get_work_spec", A({B("ws")})), second);
  Value counts = Value::Map();
  counts.AppendEntry(I(1), I(2));
  EXPECT_VEQ(Counts(B("ws")), Pair(counts, Null()));
  auto [names, next] = ListNames(Value::Map());
  EXPECT_EQ(names.size(), 1u);
}

TEST_F(SpecsTest, ResubmittingUnpausesAndDropsControlChanges) {
  Value def = M({{"name", B("ws")}, {"weight", I(7)}});
  SetSpec(def);
  AddUnits(B("ws"), {"a", "b", "c"});
  EXPECT_VEQ(
      Control(B("ws"),
              M({{"status", I(2)}, {"weight", I(3)}, {"interval", I(10)}, {"max_running", I(5)}})),
      OkPair());
  ExpectMeta(Meta(B("ws")), 2, false, 10.0, 5, 3);
  EXPECT_VEQ(GetWork("w"), NoWork());
  // Control changes do not touch the stored definition.
  EXPECT_VEQ(Call("get_work_spec", A({B("ws")})), def);
  SetSpec(def);
  ExpectMeta(Meta(B("ws")), 1, false, std::nullopt, std::nullopt, 7);
  Value r = GetWork("w");
  EXPECT_VEQ(r, Pair(Tup({B("ws"), B("a"), M({{"k", B("a")}})}), Null()));
}

TEST_F(SpecsTest, ResubmittingWithDisabledPauses) {
  SetSpec(M({{"name", B("ws")}}));
  AddUnits(B("ws"), {"a"});
  SetSpec(M({{"name", B("ws")}, {"disabled", Bool(true)}}));
  ExpectMeta(Meta(B("ws")), 2, false, std::nullopt, std::nullopt, 20);
  EXPECT_VEQ(GetWork("w"), NoWork());
  EXPECT_VEQ(Control(B("ws"), M({{"status", I(1)}})), OkPair());
  EXPECT_VEQ(GetWork("w"), Pair(Tup({B("ws"), B("a"), M({{"k", B("a")}})}), Null()));
}

// ---- list_work_specs
// -----------------------------------------------------------------------------

TEST_F(SpecsTest, ListWorkSpecsIsSortedByName) {
  for (const char* n : {"c", "a", "b"}) SetSpec(M({{"name", B(n)}, {"desc", T(n)}}));
  Value r = Call("list_work_specs", A({Value::Map()}));
  EXPECT_VEQ(
      r, Pair(A({M({{"name", B("a")}, {"desc", T("a")}}), M({{"name", B("b")}, {"desc", T("b")}}),
                 M({{"name", B("c")}, {"desc", T("c")}})}),
              Null()));
  // No options at all works like an empty map.
  EXPECT_VEQ(Call("list_work_specs"), r);
}

TEST_F(SpecsTest, ListWorkSpecsPagingStartIsInclusiveNextIsFirstNotReturned) {
  for (const char* n : {"e", "b", "d", "a", "c"}) SetSpec(M({{"name", B(n)}}));
  auto names_of = [](std::initializer_list<const char*> l) {
    std::vector<Value> v;
    for (const char* n : l) v.push_back(B(n));
    return v;
  };
  auto expect = [&](Value opts, std::vector<Value> names, Value next) {
    SCOPED_TRACE(opts.ToDiagnostic());
    auto [got, got_next] = ListNames(std::move(opts));
    EXPECT_VEQ(A(got), A(names));
    EXPECT_VEQ(got_next, next);
  };
  expect(M({{"limit", I(2)}}), names_of({"a", "b"}), B("c"));
  expect(M({{"start", B("c")}}), names_of({"c", "d", "e"}), Null());
  expect(M({{"start", B("b")}, {"limit", I(2)}}), names_of({"b", "c"}), B("d"));
  expect(M({{"start", B("d")}, {"limit", I(2)}}), names_of({"d", "e"}), Null());
  expect(M({{"start", B("a")}}), names_of({"a", "b", "c", "d", "e"}), Null());
  // A start between names begins at the next one; one past the end gives nothing.
  expect(M({{"start", B("bb")}, {"limit", I(1)}}), names_of({"c"}), B("d"));
  expect(M({{"start", B("f")}}), {}, Null());
  // A start sorting before every name returns everything (PY returned nothing: a bug).
  expect(M({{"start", B("0")}}), names_of({"a", "b", "c", "d", "e"}), Null());
  expect(M({{"limit", I(5)}}), names_of({"a", "b", "c", "d", "e"}), Null());
  expect(M({{"limit", I(10)}}), names_of({"a", "b", "c", "d", "e"}), Null());
  // Looping on `next` visits every spec exactly once.
  std::vector<Value> all;
  Value start = Null();
  for (int page = 0; page < 10; ++page) {
    Value opts = M({{"limit", I(2)}});
    if (!start.is_null()) opts.Set(B("start"), start);
    auto [got, next] = ListNames(opts);
    all.insert(all.end(), got.begin(), got.end());
    if (next.is_null()) break;
    start = next;
  }
  EXPECT_VEQ(A(all), A(names_of({"a", "b", "c", "d", "e"})));
}

TEST_F(SpecsTest, ListWorkSpecsNextKeepsTheNameType) {
  SetSpec(M({{"name", T("a")}}));
  SetSpec(M({{"name", B("b")}}));
  SetSpec(M({{"name", T("c")}}));
  auto [names, next] = ListNames(M({{"limit", I(2)}}));
  EXPECT_VEQ(A(names), A({T("a"), B("b")}));
  EXPECT_VEQ(next, T("c"));
  auto [names2, next2] = ListNames(M({{"start", T("b")}}));
  EXPECT_VEQ(A(names2), A({B("b"), T("c")}));
  EXPECT_VEQ(next2, Null());
}

// ---- del_work_spec / clear ---------------------------------------------------------------------

TEST_F(SpecsTest, DelWorkSpecRemovesTheSpecAndItsUnits) {
  SetSpec(M({{"name", B("ws")}}));
  SetSpec(M({{"name", B("other")}}));
  AddUnits(B("ws"), {"a", "b", "c"});
  AddUnits(B("other"), {"z"});
  Value leased = GetWork("w", M({{"work_spec_names", A({B("ws")})}, {"max_jobs", I(2)}}));
  ASSERT_EQ(leased.items()[0].items().size(), 2u) << leased.ToDiagnostic();
  EXPECT_VEQ(Call("update_work_unit", A({B("ws"), B("a"), M({{"status", I(4)}})})), OkPair());

  EXPECT_VEQ(Call("del_work_spec", A({B("ws")})), OkPair());
  EXPECT_VEQ(Call("get_work_spec", A({B("ws")})), Null());
  EXPECT_VEQ(Counts(B("ws")), FalseMsg("no such work_spec 'ws'"));
  EXPECT_VEQ(Call("del_work_spec", A({B("ws")})), FalseMsg("no such work_spec 'ws'"));
  auto [names, next] = ListNames(Value::Map());
  EXPECT_VEQ(A(names), A({B("other")}));
  // Re-created under the same name it starts empty.
  SetSpec(M({{"name", B("ws")}}));
  EXPECT_VEQ(Counts(B("ws")), Pair(Value::Map(), Null()));
  EXPECT_VEQ(Call("get_work_units", A({B("ws"), Value::Map()})), Pair(A(), Null()));
  EXPECT_VEQ(GetWork("w", M({{"work_spec_names", A({B("ws")})}})), NoWork());
  // The other spec is untouched.
  Value counts = Value::Map();
  counts.AppendEntry(I(1), I(1));
  EXPECT_VEQ(Counts(B("other")), Pair(counts, Null()));
}

TEST_F(SpecsTest, ClearReturnsTheNumberOfSpecsAndEmptiesEverything) {
  for (const char* n : {"a", "b", "c"}) {
    SetSpec(M({{"name", B(n)}}));
    AddUnits(B(n), {"u1", "u2"});
  }
  Value g = GetWork("w");
  ASSERT_FALSE(g.items()[0].items()[0].is_null());
  EXPECT_VEQ(Call("clear"), I(3));
  EXPECT_VEQ(Call("list_work_specs", A({Value::Map()})), Pair(A(), Null()));
  for (const char* n : {"a", "b", "c"}) {
    EXPECT_VEQ(Call("get_work_spec", A({B(n)})), Null());
    EXPECT_VEQ(Counts(B(n)), FalseMsg(std::string("no such work_spec '") + n + "'"));
  }
  EXPECT_VEQ(GetWork("w"), NoWork());
  EXPECT_VEQ(Call("clear"), I(0));
  // The server is usable afterwards.
  SetSpec(M({{"name", B("a")}}));
  EXPECT_VEQ(Counts(B("a")), Pair(Value::Map(), Null()));
}

// ---- control_work_spec / get_work_spec_meta ----------------------------------------------------

TEST_F(SpecsTest, MetaDefaults) {
  SetSpec(M({{"name", B("ws")}}));
  ExpectMeta(Meta(B("ws")), 1, false, std::nullopt, std::nullopt, 20);
}

TEST_F(SpecsTest, MetaWeightFromNiceAndExplicitWeight) {
  SetSpec(M({{"name", B("nice5")}, {"nice", I(5)}}));
  ExpectMeta(Meta(B("nice5")), 1, false, std::nullopt, std::nullopt, 15);
  SetSpec(M({{"name", B("both")}, {"nice", I(5)}, {"weight", I(50)}}));
  ExpectMeta(Meta(B("both")), 1, false, std::nullopt, std::nullopt, 50);
  SetSpec(M({{"name", B("nice100")}, {"nice", I(100)}}));
  ExpectMeta(Meta(B("nice100")), 1, false, std::nullopt, std::nullopt, 1);
  SetSpec(M({{"name", B("nice-80")}, {"nice", I(-80)}}));
  ExpectMeta(Meta(B("nice-80")), 1, false, std::nullopt, std::nullopt, 100);
  SetSpec(M({{"name", B("w3")}, {"weight", I(3)}}));
  ExpectMeta(Meta(B("w3")), 1, false, std::nullopt, std::nullopt, 3);
  // Re-submitting without either goes back to the default.
  SetSpec(M({{"name", B("both")}}));
  ExpectMeta(Meta(B("both")), 1, false, std::nullopt, std::nullopt, 20);
}

TEST_F(SpecsTest, MetaFromDefinition) {
  SetSpec(M({{"name", B("ws")},
             {"disabled", Bool(true)},
             {"continuous", Bool(true)},
             {"interval", I(60)},
             {"max_running", I(3)},
             {"weight", I(9)}}));
  ExpectMeta(Meta(B("ws")), 2, true, 60.0, 3, 9);
  SetSpec(M({{"name", B("f")}, {"interval", D(2.5)}}));
  ExpectMeta(Meta(B("f")), 1, false, 2.5, std::nullopt, 20);
}

TEST_F(SpecsTest, ControlStatusPausesAndResumes) {
  SetSpec(M({{"name", B("ws")}}));
  AddUnits(B("ws"), {"a"});
  EXPECT_VEQ(Control(B("ws"), M({{"status", I(2)}})), OkPair());
  ExpectMeta(Meta(B("ws")), 2, false, std::nullopt, std::nullopt, 20);
  EXPECT_VEQ(GetWork("w"), NoWork());
  // The unit stays AVAILABLE while paused.
  Value counts = Value::Map();
  counts.AppendEntry(I(1), I(1));
  EXPECT_VEQ(Counts(B("ws")), Pair(counts, Null()));
  EXPECT_VEQ(Control(B("ws"), M({{"status", I(1)}})), OkPair());
  ExpectMeta(Meta(B("ws")), 1, false, std::nullopt, std::nullopt, 20);
  EXPECT_VEQ(GetWork("w"), Pair(Tup({B("ws"), B("a"), M({{"k", B("a")}})}), Null()));
}

TEST_F(SpecsTest, ControlWeightIntervalMaxRunning) {
  SetSpec(M({{"name", B("ws")}}));
  AddUnits(B("ws"), {"a", "b", "c"});
  EXPECT_VEQ(Control(B("ws"), M({{"weight", I(42)}})), OkPair());
  ExpectMeta(Meta(B("ws")), 1, false, std::nullopt, std::nullopt, 42);
  EXPECT_VEQ(Control(B("ws"), M({{"interval", D(12.5)}})), OkPair());
  ExpectMeta(Meta(B("ws")), 1, false, 12.5, std::nullopt, 42);
  EXPECT_VEQ(Control(B("ws"), M({{"max_running", I(1)}})), OkPair());
  ExpectMeta(Meta(B("ws")), 1, false, 12.5, 1, 42);
  // Each option changed only itself; an empty options map changes nothing.
  EXPECT_VEQ(Control(B("ws"), Value::Map()), OkPair());
  ExpectMeta(Meta(B("ws")), 1, false, 12.5, 1, 42);
  // max_running 1: one unit out, then nothing until it finishes.
  Value first = GetWork("w1");
  EXPECT_VEQ(first, Pair(Tup({B("ws"), B("a"), M({{"k", B("a")}})}), Null()));
  EXPECT_VEQ(GetWork("w2"), NoWork());
  EXPECT_VEQ(GetWork("w2", M({{"max_jobs", I(10)}})), Pair(A(), Null()));
  EXPECT_VEQ(Call("update_work_unit", A({B("ws"), B("a"), M({{"status", I(4)}})})), OkPair());
  EXPECT_VEQ(GetWork("w2"), Pair(Tup({B("ws"), B("b"), M({{"k", B("b")}})}), Null()));
  // Lifting the cap (PY: None = unlimited) lets the rest out.
  EXPECT_VEQ(Control(B("ws"), M({{"max_running", Null()}})), OkPair());
  ExpectMeta(Meta(B("ws")), 1, false, 12.5, std::nullopt, 42);
  EXPECT_VEQ(GetWork("w3"), Pair(Tup({B("ws"), B("c"), M({{"k", B("c")}})}), Null()));
}

TEST_F(SpecsTest, ControlIgnoresUnknownOptions) {
  SetSpec(M({{"name", B("ws")}}));
  EXPECT_VEQ(Control(B("ws"), M({{"bogus", I(1)}, {"max_getwork", I(3)}})), OkPair());
  ExpectMeta(Meta(B("ws")), 1, false, std::nullopt, std::nullopt, 20);
}

TEST_F(SpecsTest, ControlCannotMakeANonContinuousSpecContinuous) {
  SetSpec(M({{"name", B("X")}}));
  EXPECT_VEQ(Control(B("X"), M({{"continuous", Bool(true)}})),
             FalseMsg("cannot make non-continuous work spec X continuous"));
  ExpectMeta(Meta(B("X")), 1, false, std::nullopt, std::nullopt, 20);
  // Turning it off is fine.
  EXPECT_VEQ(Control(B("X"), M({{"continuous", Bool(false)}})), OkPair());
  ExpectMeta(Meta(B("X")), 1, false, std::nullopt, std::nullopt, 20);
  // A refused call changes nothing else either.
  EXPECT_VEQ(Control(B("X"), M({{"continuous", Bool(true)}, {"weight", I(5)}})),
             FalseMsg("cannot make non-continuous work spec X continuous"));
  ExpectMeta(Meta(B("X")), 1, false, std::nullopt, std::nullopt, 20);
}

TEST_F(SpecsTest, ControlContinuousOffAndOnForAContinuousSpec) {
  SetSpec(M({{"name", B("cont")}, {"continuous", Bool(true)}}));
  ExpectMeta(Meta(B("cont")), 1, true, std::nullopt, std::nullopt, 20);
  EXPECT_VEQ(Control(B("cont"), M({{"continuous", Bool(false)}})), OkPair());
  ExpectMeta(Meta(B("cont")), 1, false, std::nullopt, std::nullopt, 20);
  // Not continuous: no synthetic units.
  EXPECT_VEQ(GetWork("w"), NoWork());
  EXPECT_VEQ(Control(B("cont"), M({{"continuous", Bool(true)}})), OkPair());
  ExpectMeta(Meta(B("cont")), 1, true, std::nullopt, std::nullopt, 20);
  Value r = GetWork("w");
  ASSERT_TRUE(r.is_tuple() && r.items()[0].is_tuple()) << r.ToDiagnostic();
  EXPECT_VEQ(r.items()[0].items()[0], B("cont"));
  EXPECT_VEQ(r.items()[0].items()[2], Value::Map());
}

TEST_F(SpecsTest, WeightZeroOrBelowIsNeverScheduledNeverACrash) {
  SetSpec(M({{"name", B("ws")}}));
  AddUnits(B("ws"), {"a"});
  for (int64_t w : {0, -3}) {
    SCOPED_TRACE(w);
    EXPECT_VEQ(Control(B("ws"), M({{"weight", I(w)}})), OkPair());
    ExpectMeta(Meta(B("ws")), 1, false, std::nullopt, std::nullopt, w);
    EXPECT_VEQ(GetWork("w"), NoWork());
    EXPECT_VEQ(GetWork("w", M({{"max_jobs", I(3)}})), Pair(A(), Null()));
  }
  EXPECT_VEQ(Control(B("ws"), M({{"weight", I(1)}})), OkPair());
  EXPECT_VEQ(GetWork("w"), Pair(Tup({B("ws"), B("a"), M({{"k", B("a")}})}), Null()));
  // The same from the definition.
  SetSpec(M({{"name", B("zero")}, {"weight", I(0)}}));
  AddUnits(B("zero"), {"z"});
  ExpectMeta(Meta(B("zero")), 1, false, std::nullopt, std::nullopt, 0);
  EXPECT_VEQ(GetWork("w"), NoWork());
}

TEST_F(SpecsTest, ResubmittingWhileAUnitRunsThenAddingWorks) {
  SetSpec(M({{"name", B("ws")}, {"desc", B("v1")}}));
  AddUnits(B("ws"), {"u1"});
  EXPECT_VEQ(GetWork("w1"), Pair(Tup({B("ws"), B("u1"), M({{"k", B("u1")}})}), Null()));
  SetSpec(M({{"name", B("ws")}, {"desc", B("v2")}}));
  AddUnits(B("ws"), {"u2"});
  EXPECT_VEQ(GetWork("w2"), Pair(Tup({B("ws"), B("u2"), M({{"k", B("u2")}})}), Null()));
  Value counts = Value::Map();
  counts.AppendEntry(I(3), I(2));
  EXPECT_VEQ(Counts(B("ws")), Pair(counts, Null()));
  EXPECT_VEQ(Call("update_work_unit", A({B("ws"), B("u1"), M({{"status", I(4)}})})), OkPair());
}

TEST_F(SpecsTest, UpdatesAfterTheSpecIsDeletedFailInBand) {
  SetSpec(M({{"name", B("ws")}}));
  AddUnits(B("ws"), {"u1"});
  EXPECT_VEQ(GetWork("w1"), Pair(Tup({B("ws"), B("u1"), M({{"k", B("u1")}})}), Null()));
  EXPECT_VEQ(Call("del_work_spec", A({B("ws")})), OkPair());
  EXPECT_VEQ(Call("update_work_unit", A({B("ws"), B("u1"), M({{"status", I(4)}})})),
             FalseMsg("no such work_spec 'ws'"));
  EXPECT_VEQ(GetWork("w1"), NoWork());
}

TEST_F(SpecsTest, UnknownSpecMessagesUsePythonRepr) {
  auto del = [&](const Value& name) { return Call("del_work_spec", A({name})); };
  EXPECT_VEQ(del(B("it's")), FalseMsg("no such work_spec \"it's\""));
  EXPECT_VEQ(del(B("a\"b'c")), FalseMsg("no such work_spec 'a\"b\\'c'"));
  EXPECT_VEQ(del(B(std::string("\x00\xff\n\\", 4))),
             FalseMsg("no such work_spec '\\x00\\xff\\n\\\\'"));
  EXPECT_VEQ(del(T("it's")), FalseMsg("no such work_spec u\"it's\""));
}

TEST_F(SpecsTest, UnknownSpecMessagesUsePythonReprForNonAsciiText) {
  // Python 2 repr(u"f\xfc") is u'f\xfc' and repr(u"\u20ac") is u'\u20ac' (code points,
  // not UTF-8 bytes).
  auto del = [&](const Value& name) { return Call("del_work_spec", A({name})); };
  EXPECT_VEQ(del(T("f\xc3\xbc")), FalseMsg("no such work_spec u'f\\xfc'"));
  EXPECT_VEQ(del(T("\xe2\x82\xac")), FalseMsg("no such work_spec u'\\u20ac'"));
}

}  // namespace
}  // namespace coordtest
