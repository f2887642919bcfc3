// Choosing a work spec through the real daemon: CONTRACT §4 tiers (spec priority, best unit
// priority, then-chain preemption, weights), both weight properties, pause, weight 0, nice, and
// continuous specs with intervals (reference-behavior.md §4, §9.3, §9.5, §9.6).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "u%05d", i);
  return buf;
}

// n units u00000.. with {} data, optionally with a priority.
void AddMany(Client& c, std::string_view spec, int n, std::optional<int> priority = std::nullopt,
             int first = 0) {
  for (int start = 0; start < n; start += 1000) {
    std::vector<Value> items;
    for (int i = start; i < std::min(n, start + 1000); ++i) {
      if (priority) {
        items.push_back(Tup({B(Key(first + i)), Value::Map(), Value::Map(), I(*priority)}));
      } else {
        items.push_back(Tup({B(Key(first + i)), Value::Map()}));
      }
    }
    AddUnits(c, spec, std::move(items));
  }
}

Value Control(Client& c, std::string_view spec, Value options) {
  return Call(c, "control_work_spec", A({B(spec), std::move(options)}));
}

// One get_work (single form): the triple, or Undefined on a malformed reply.
Value Work(Client& c, std::string_view worker = "w", Value options = Value::Map()) {
  Value r = Call(c, "get_work", A({B(worker), std::move(options)}));
  if (!r.is_tuple() || r.items().size() != 2 || !r.items()[0].is_tuple() ||
      r.items()[0].items().size() != 3) {
    ADD_FAILURE() << "bad get_work reply " << r.ToDiagnostic();
    return Value::Undefined();
  }
  return r.items()[0];
}

// The spec name of one get_work, "-" when there is no work.
std::string NextSpec(Client& c, std::string_view worker = "w") {
  Value t = Work(c, worker);
  if (!t.is_tuple()) return "?";
  if (t.items()[0].is_null()) return "-";
  return t.items()[0].str();
}

// Spec names of n successive get_work calls (units held, never finished), space separated.
std::string Sequence(Client& c, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i) out += ' ';
    out += NextSpec(c);
  }
  return out;
}

void Finish(Client& c, const Value& spec, const Value& key) {
  EXPECT_TRUE(
      Same(Call(c, "update_work_unit", A({spec, key, M({{"status", I(kFinished)}})})), OkPair()));
}

Value Meta(Client& c, std::string_view spec) {
  Value r = Call(c, "get_work_spec_meta", A({B(spec)}));
  if (!r.is_tuple() || r.items().size() != 2 || !r.items()[0].is_map()) {
    ADD_FAILURE() << r.ToDiagnostic();
    return Value::Map();
  }
  return r.items()[0];
}

int64_t MetaWeight(Client& c, std::string_view spec) {
  const Value m = Meta(c, spec);
  const Value* w = m.FindKey("weight");
  return w && w->AsInt64() ? *w->AsInt64() : INT64_MIN;
}

class SchedTest : public DaemonTest {};

// A fixture whose daemon does not sync, for the long grant sequences (scheduling, not
// durability, is under test there).
class SchedFastTest : public SchedTest {
 protected:
  void SetUp() override {
    DaemonOptions o;
    o.sync = false;
    Start(o);
  }
};

// ---- tier 4: weights -------------------------------------------------------------------------

TEST_F(SchedTest, WeightsWithHeldUnitsFollowPySequence) {
  SetSpec(c(), SpecDef("a", {{"weight", I(4)}}));
  SetSpec(c(), SpecDef("b", {{"weight", I(6)}}));
  AddMany(c(), "a", 100);
  AddMany(c(), "b", 100);
  EXPECT_EQ(Sequence(c(), 10), "b a b a b b a b a b");
}

TEST_F(SchedTest, NiceGivesTheSameSequenceAsWeight) {
  SetSpec(c(), SpecDef("a", {{"nice", I(16)}}));  // weight 4
  SetSpec(c(), SpecDef("b", {{"nice", I(14)}}));  // weight 6
  EXPECT_EQ(MetaWeight(c(), "a"), 4);
  EXPECT_EQ(MetaWeight(c(), "b"), 6);
  AddMany(c(), "a", 20);
  AddMany(c(), "b", 20);
  EXPECT_EQ(Sequence(c(), 10), "b a b a b b a b a b");
}

TEST_F(SchedTest, NiceToWeightRules) {
  SetSpec(c(), SpecDef("plain"));
  SetSpec(c(), SpecDef("nice5", {{"nice", I(5)}}));
  SetSpec(c(), SpecDef("nice100", {{"nice", I(100)}}));
  SetSpec(c(), SpecDef("nice_neg", {{"nice", I(-80)}}));
  SetSpec(c(), SpecDef("both", {{"nice", I(5)}, {"weight", I(50)}}));
  EXPECT_EQ(MetaWeight(c(), "plain"), 20);
  EXPECT_EQ(MetaWeight(c(), "nice5"), 15);
  EXPECT_EQ(MetaWeight(c(), "nice100"), 1);
  EXPECT_EQ(MetaWeight(c(), "nice_neg"), 100);
  EXPECT_EQ(MetaWeight(c(), "both"), 50);
  // Re-submitting without nice or weight goes back to 20.
  SetSpec(c(), SpecDef("nice5"));
  EXPECT_EQ(MetaWeight(c(), "nice5"), 20);
}

TEST_F(SchedFastTest, WeightsWithUnitsFinishedAtOnceGiveProportionalGrants) {
  constexpr int kGrants = 10000;
  SetSpec(c(), SpecDef("a", {{"weight", I(1)}}));
  SetSpec(c(), SpecDef("b", {{"weight", I(3)}}));
  // Enough units that both stay backlogged through every grant.
  AddMany(c(), "a", kGrants / 2);
  AddMany(c(), "b", kGrants);
  std::string order;
  order.reserve(kGrants);
  Value prev_spec, prev_key;
  const Value get = A({B("w"), M({{"max_jobs", I(1)}})});
  for (int i = 0; i < kGrants; ++i) {
    std::vector<std::pair<std::string, Value>> calls;
    if (!prev_key.is_null()) {
      calls.emplace_back("update_work_unit",
                         A({prev_spec, prev_key, M({{"status", I(kFinished)}})}));
    }
    calls.emplace_back("get_work", get);
    auto replies = c().Batch(calls);
    ASSERT_EQ(replies.size(), calls.size());
    if (calls.size() == 2) {
      ASSERT_TRUE(replies[0].ok()) << replies[0].status().ToString();
      ASSERT_TRUE(Same(*replies[0], OkPair()));
    }
    const auto& w = replies.back();
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE(w->is_tuple() && w->items().size() == 2 && w->items()[0].is_tuple() &&
                w->items()[0].items().size() == 3 && w->items()[0].items()[0].is_string())
        << "grant " << i << ": " << w->ToDiagnostic();
    prev_spec = w->items()[0].items()[0];
    prev_key = w->items()[0].items()[1];
    order.push_back(prev_spec.str() == "a" ? 'a' : 'b');
  }
  Finish(c(), prev_spec, prev_key);
  const double share_a = static_cast<double>(std::count(order.begin(), order.end(), 'a')) / kGrants;
  EXPECT_NEAR(share_a, 0.25, 0.02);
  EXPECT_NEAR(1 - share_a, 0.75, 0.02);
  // No spec waits more than ceil(total_weight / weight) + 1 consecutive grants.
  auto longest_wait = [&](char spec) {
    int run = 0, worst = 0;
    for (char g : order) {
      run = g == spec ? 0 : run + 1;
      worst = std::max(worst, run);
    }
    return worst;
  };
  EXPECT_LE(longest_wait('a'), 4 + 1);  // ceil(4 / 1) + 1
  EXPECT_LE(longest_wait('b'), 2 + 1);  // ceil(4 / 3) + 1
  // Both specs were backlogged throughout.
  for (const char* spec : {"a", "b"}) {
    Value r = Call(c(), "count_work_units", A({B(spec)}));
    ASSERT_TRUE(r.is_tuple() && r.items()[0].is_map()) << r.ToDiagnostic();
    const Value* avail = r.items()[0].Find(I(kAvailable));
    EXPECT_TRUE(avail && avail->AsInt64().value_or(0) > 0) << spec << " ran out of units";
  }
}

TEST_F(SchedFastTest, EqualWeightsShareEqually) {
  SetSpec(c(), SpecDef("a"));
  SetSpec(c(), SpecDef("b"));
  SetSpec(c(), SpecDef("c"));
  AddMany(c(), "a", 400);
  AddMany(c(), "b", 400);
  AddMany(c(), "c", 400);
  int n[3] = {0, 0, 0};
  for (int i = 0; i < 600; ++i) {
    Value t = Work(c());
    ASSERT_TRUE(t.is_tuple() && t.items()[0].is_string());
    ++n[t.items()[0].str()[0] - 'a'];
    Finish(c(), t.items()[0], t.items()[1]);
  }
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(n[i], 200, 10) << "spec " << static_cast<char>('a' + i);
}

TEST_F(SchedFastTest, HeldUnitsKeepPendingProportionalToWeight) {
  SetSpec(c(), SpecDef("a", {{"weight", I(1)}}));
  SetSpec(c(), SpecDef("b", {{"weight", I(3)}}));
  AddMany(c(), "a", 150);
  AddMany(c(), "b", 450);
  int n_a = 0;
  for (int i = 0; i < 400; ++i) n_a += NextSpec(c()) == "a";
  EXPECT_NEAR(n_a, 100, 2);
}

// Workers hold a's units for a long time and finish b's at once: the scheduler must keep the
// number of workers on each spec proportional to weight (PY's (1 + pending) / weight rule), not
// let the long-running spec collect every worker.
TEST_F(SchedFastTest, LongRunningSpecDoesNotCollectEveryWorker) {
  constexpr int kWorkers = 10;
  SetSpec(c(), SpecDef("a"));
  SetSpec(c(), SpecDef("b"));
  AddMany(c(), "a", 200);
  AddMany(c(), "b", 5000);
  std::vector<Value> held(kWorkers);  // each worker's current triple
  auto request = [&](int w) {
    held[w] = Work(c(), "worker" + std::to_string(w));
    ASSERT_TRUE(held[w].is_tuple() && held[w].items()[0].is_string()) << held[w].ToDiagnostic();
  };
  for (int w = 0; w < kWorkers; ++w) request(w);
  auto on_a = [&] {
    int n = 0;
    for (const auto& t : held) n += t.is_tuple() && NameEquals(t.items()[0], "a");
    return n;
  };
  EXPECT_EQ(on_a(), kWorkers / 2);
  for (int round = 0; round < 300; ++round) {
    for (int w = 0; w < kWorkers; ++w) {
      // a's units run "forever"; b's finish at once.
      if (!held[w].is_tuple() || !held[w].items()[0].is_string() ||
          held[w].items()[0].str() != "b") {
        continue;
      }
      Finish(c(), held[w].items()[0], held[w].items()[1]);
      request(w);
    }
  }
  const int a = on_a();
  // PY keeps exactly 5 on each; allow a bounded credit term some drift, never starvation.
  EXPECT_GE(a, 3) << "workers on a: " << a;
  EXPECT_LE(a, 7) << "workers on a: " << a;
}

// ---- tier 1: the spec's own priority ---------------------------------------------------------

TEST_F(SchedTest, SpecPriorityBeatsEverything) {
  // hi: spec priority 1, light, upstream of lo, its units at unit priority 0.
  // lo: heavy, downstream of hi (would preempt), its units at unit priority 10.
  SetSpec(c(), SpecDef("hi", {{"priority", I(1)}, {"weight", I(1)}, {"then", B("lo")}}));
  SetSpec(c(), SpecDef("lo", {{"weight", I(1000)}}));
  AddMany(c(), "hi", 3);
  AddMany(c(), "lo", 5, 10);
  EXPECT_EQ(Sequence(c(), 5), "hi hi hi lo lo");
}

TEST_F(SchedTest, SpecPriorityWithoutWorkLetsOthersShare) {
  SetSpec(c(), SpecDef("top", {{"priority", I(5)}}));
  SetSpec(c(), SpecDef("a"));
  SetSpec(c(), SpecDef("b"));
  AddMany(c(), "a", 10);
  AddMany(c(), "b", 10);
  const std::string seq = Sequence(c(), 4);
  EXPECT_EQ(std::count(seq.begin(), seq.end(), 'a'), 2) << seq;
  EXPECT_EQ(std::count(seq.begin(), seq.end(), 'b'), 2) << seq;
  AddMany(c(), "top", 2);
  EXPECT_EQ(Sequence(c(), 2), "top top");
  const std::string after = NextSpec(c());
  EXPECT_TRUE(after == "a" || after == "b") << after;
}

// ---- tier 2: the best unit's priority --------------------------------------------------------

TEST_F(SchedTest, SpecWithPriorityNineUnitsDrainedFirst) {
  SetSpec(c(), SpecDef("a", {{"weight", I(4)}}));
  SetSpec(c(), SpecDef("b", {{"weight", I(6)}}));
  SetSpec(c(), SpecDef("c", {{"weight", I(1)}}));
  AddMany(c(), "a", 100);
  AddMany(c(), "b", 100);
  AddMany(c(), "c", 4, 9);
  EXPECT_EQ(Sequence(c(), 14), "c c c c b a b a b b a b a b");
}

TEST_F(SchedTest, UnitPriorityAddedLaterTakesOver) {
  SetSpec(c(), SpecDef("a", {{"weight", I(1000)}}));
  SetSpec(c(), SpecDef("b", {{"weight", I(1)}}));
  AddMany(c(), "a", 10);
  AddMany(c(), "b", 10);
  EXPECT_EQ(NextSpec(c()), "a");
  ASSERT_TRUE(Same(Call(c(), "prioritize_work_units",
                        A({B("b"), M({{"work_unit_keys", A({B(Key(5))})}, {"priority", I(3)}})})),
                   OkPair()));
  Value t = Work(c());
  EXPECT_TRUE(Same(t, Tup({B("b"), B(Key(5)), Value::Map()})));
  EXPECT_EQ(NextSpec(c()), "a");
}

TEST_F(SchedTest, NegativePrioritySpecRunsWhenNothingElseHasWork) {
  SetSpec(c(), SpecDef("neg", {{"weight", I(1000)}}));
  SetSpec(c(), SpecDef("pos", {{"weight", I(1)}}));
  AddMany(c(), "neg", 2, -5);
  AddMany(c(), "pos", 2);
  EXPECT_EQ(Sequence(c(), 5), "pos pos neg neg -");
}

TEST_F(SchedTest, ExpiredSyntheticUnitStillRunsLater) {
  // An expired synthetic continuous unit is back in the queue at priority -1 (PY never ran it
  // again: a bug the contract fixes).
  SetSpec(c(), SpecDef("cont", {{"continuous", Bool(true)}, {"max_running", I(1)}}));
  Value first = Work(c(), "w", M({{"lease_time", I(10)}}));
  ASSERT_TRUE(first.is_tuple() && first.items()[1].is_string()) << first.ToDiagnostic();
  AdvanceClock(c(), 20);
  SetSpec(c(), SpecDef("other"));
  AddMany(c(), "other", 1);
  EXPECT_EQ(NextSpec(c()), "other");
  EXPECT_TRUE(Same(Work(c()), first));
}

// ---- tier 3: then chains ---------------------------------------------------------------------

TEST_F(SchedTest, DownstreamSpecPreemptsUpstream) {
  SetSpec(c(), SpecDef("a", {{"then", B("b")}, {"weight", I(100)}}));
  SetSpec(c(), SpecDef("b", {{"then", B("c")}, {"weight", I(50)}}));
  SetSpec(c(), SpecDef("c", {{"weight", I(1)}}));
  AddMany(c(), "a", 10);
  AddMany(c(), "b", 10);
  AddMany(c(), "c", 20);
  EXPECT_EQ(Sequence(c(), 10), "c c c c c c c c c c");
  AddMany(c(), "b", 10, std::nullopt, 100);
  EXPECT_EQ(Sequence(c(), 10), "c c c c c c c c c c");
  // c drained: b (20 units) is next, then a.
  EXPECT_EQ(Sequence(c(), 20), std::string("b b b b b b b b b b b b b b b b b b b b"));
  EXPECT_EQ(NextSpec(c()), "a");
}

TEST_F(SchedTest, ThenPreemptsFalseKeepsUpstreamWinning) {
  SetSpec(c(),
          SpecDef("a", {{"then", B("b")}, {"then_preempts", Bool(false)}, {"weight", I(100)}}));
  SetSpec(c(), SpecDef("b"));
  AddMany(c(), "a", 1);
  AddMany(c(), "b", 5);
  EXPECT_EQ(Sequence(c(), 3), "a b b");
}

TEST_F(SchedTest, ThenPreemptsDefaultLetsDownstreamWinDespiteWeight) {
  SetSpec(c(), SpecDef("a", {{"then", B("b")}, {"weight", I(100)}}));
  SetSpec(c(), SpecDef("b"));
  AddMany(c(), "a", 1);
  AddMany(c(), "b", 5);
  EXPECT_EQ(Sequence(c(), 7), "b b b b b a -");
}

TEST_F(SchedTest, MixedPreemptionFlagsInThreeChain) {
  SetSpec(c(), SpecDef("a", {{"then", B("b")}, {"then_preempts", Bool(false)}}));
  SetSpec(c(), SpecDef("b", {{"then", B("c")}}));
  SetSpec(c(), SpecDef("c"));
  AddMany(c(), "a", 1);
  AddMany(c(), "b", 1);
  AddMany(c(), "c", 1);
  EXPECT_EQ(NextSpec(c()), "c");
  // a does not let b preempt it: a and b compete on weight (a tie); both run, then nothing.
  const std::string rest = Sequence(c(), 3);
  EXPECT_TRUE(rest == "a b -" || rest == "b a -") << rest;
}

TEST_F(SchedTest, SelfLoopIsSchedulable) {
  SetSpec(c(), SpecDef("a", {{"then", B("a")}}));
  AddMany(c(), "a", 2);
  EXPECT_EQ(Sequence(c(), 3), "a a -");
}

TEST_F(SchedTest, PausedSpecInChainIsSkipped) {
  SetSpec(c(), SpecDef("a", {{"then", B("b")}}));
  SetSpec(c(), SpecDef("b", {{"then", B("c")}}));
  SetSpec(c(), SpecDef("c"));
  AddMany(c(), "a", 3);
  AddMany(c(), "b", 3);
  AddMany(c(), "c", 3);
  EXPECT_TRUE(Same(Control(c(), "c", M({{"status", I(2)}})), OkPair()));
  EXPECT_EQ(Sequence(c(), 2), "b b");
  EXPECT_TRUE(Same(Control(c(), "c", M({{"status", I(1)}})), OkPair()));
  EXPECT_EQ(NextSpec(c()), "c");
}

// ---- pause, weight 0, max_running ------------------------------------------------------------

TEST_F(SchedTest, PausedSpecIsNeverChosen) {
  SetSpec(c(), SpecDef("a", {{"weight", I(1000)}}));
  SetSpec(c(), SpecDef("b"));
  AddMany(c(), "a", 3);
  AddMany(c(), "b", 2);
  EXPECT_TRUE(Same(Control(c(), "a", M({{"status", I(2)}})), OkPair()));
  EXPECT_EQ(Sequence(c(), 3), "b b -");
  Value r = Call(c(), "get_work", A({B("w"), M({{"work_spec_names", A({B("a")})}})}));
  EXPECT_TRUE(Same(r, Tup({Tup({Null(), Null(), Null()}), Null()})));
  EXPECT_TRUE(Same(Control(c(), "a", M({{"status", I(1)}})), OkPair()));
  EXPECT_EQ(NextSpec(c()), "a");
}

TEST_F(SchedTest, DisabledSpecStartsPaused) {
  SetSpec(c(), SpecDef("a", {{"disabled", Bool(true)}}));
  AddMany(c(), "a", 1);
  EXPECT_EQ(NextSpec(c()), "-");
  // Re-submitting the spec without `disabled` un-pauses it (PY).
  SetSpec(c(), SpecDef("a"));
  EXPECT_EQ(NextSpec(c()), "a");
}

TEST_F(SchedTest, WeightZeroOrNegativeIsNeverScheduled) {
  SetSpec(c(), SpecDef("zero", {{"weight", I(0)}}));
  SetSpec(c(), SpecDef("neg", {{"weight", I(-3)}}));
  SetSpec(c(), SpecDef("live"));
  AddMany(c(), "zero", 3, 50);
  AddMany(c(), "neg", 3, 50);
  AddMany(c(), "live", 2);
  EXPECT_EQ(Sequence(c(), 3), "live live -");
  for (const char* name : {"zero", "neg"}) {
    Value r = Call(c(), "get_work",
                   A({B("w"), M({{"work_spec_names", A({B(name)})}, {"max_jobs", I(5)}})}));
    EXPECT_TRUE(Same(r, Tup({A(), Null()}))) << name;
  }
  // control_work_spec weight 0 stops a spec too; the daemon keeps answering.
  SetSpec(c(), SpecDef("other"));
  AddMany(c(), "other", 2);
  EXPECT_TRUE(Same(Control(c(), "other", M({{"weight", I(0)}})), OkPair()));
  EXPECT_EQ(NextSpec(c()), "-");
  EXPECT_TRUE(Call(c(), "now").is_double());
  EXPECT_TRUE(Same(Control(c(), "other", M({{"weight", I(5)}})), OkPair()));
  EXPECT_EQ(NextSpec(c()), "other");
}

TEST_F(SchedTest, FullSpecIsSkippedForAnother) {
  SetSpec(c(), SpecDef("a", {{"weight", I(1000)}, {"max_running", I(1)}}));
  SetSpec(c(), SpecDef("b", {{"weight", I(1)}}));
  AddMany(c(), "a", 5);
  AddMany(c(), "b", 5);
  EXPECT_EQ(Sequence(c(), 3), "a b b");
}

// ---- continuous specs (§9.5) -----------------------------------------------------------------

bool LooksSynthetic(const Value& key) {
  static const std::regex re("^[0-9]+\\.[0-9]+$");
  return key.is_bytes() && std::regex_match(key.str(), re);
}

TEST_F(SchedTest, ContinuousSpecSynthesisesUnitsAndServesRealOnes) {
  SetSpec(c(), SpecDef("cont", {{"continuous", Bool(true)}}));
  Value t1 = Work(c());
  ASSERT_TRUE(t1.is_tuple());
  EXPECT_TRUE(Same(t1.items()[0], B("cont")));
  EXPECT_TRUE(LooksSynthetic(t1.items()[1])) << t1.ToDiagnostic();
  EXPECT_TRUE(Same(t1.items()[2], Value::Map()));
  Value st = Call(c(), "get_work_unit_status", A({B("cont"), A({t1.items()[1]})}));
  ASSERT_TRUE(st.is_tuple() && st.items()[0].is_array() && st.items()[0].items().size() == 1)
      << st.ToDiagnostic();
  const Value* code = st.items()[0].items()[0].FindKey("status");
  ASSERT_NE(code, nullptr) << st.ToDiagnostic();
  EXPECT_EQ(code->AsInt64().value_or(0), kPending);

  Value t2 = Work(c());
  ASSERT_TRUE(t2.is_tuple());
  EXPECT_TRUE(LooksSynthetic(t2.items()[1])) << t2.ToDiagnostic();
  EXPECT_NE(t1.items()[1], t2.items()[1]);

  AddUnits(c(), "cont", {Tup({B("real"), M({{"r", I(1)}})})});
  EXPECT_TRUE(Same(Work(c()), Tup({B("cont"), B("real"), M({{"r", I(1)}})})));
  Value t3 = Work(c());
  ASSERT_TRUE(t3.is_tuple());
  EXPECT_TRUE(LooksSynthetic(t3.items()[1])) << t3.ToDiagnostic();
}

TEST_F(SchedTest, ContinuousCanBeSwitchedOffAndOn) {
  SetSpec(c(), SpecDef("cont", {{"continuous", Bool(true)}}));
  EXPECT_EQ(NextSpec(c()), "cont");
  EXPECT_TRUE(Same(Control(c(), "cont", M({{"continuous", Bool(false)}})), OkPair()));
  EXPECT_EQ(NextSpec(c()), "-");
  EXPECT_TRUE(Same(Control(c(), "cont", M({{"continuous", Bool(true)}})), OkPair()));
  EXPECT_EQ(NextSpec(c()), "cont");
  // A spec not defined continuous cannot be made so.
  SetSpec(c(), SpecDef("plain"));
  Value r = Control(c(), "plain", M({{"continuous", Bool(true)}}));
  ASSERT_TRUE(r.is_tuple() && r.items().size() == 2) << r.ToDiagnostic();
  EXPECT_TRUE(Same(r.items()[0], Bool(false)));
  EXPECT_EQ(Sequence(c(), 1), "cont");
}

TEST_F(SchedTest, ContinuousIntervalWithMaxRunningOne) {
  SetSpec(c(), SpecDef("cont",
                       {{"continuous", Bool(true)}, {"interval", I(60)}, {"max_running", I(1)}}));
  Value u1 = Work(c());
  ASSERT_TRUE(u1.is_tuple() && LooksSynthetic(u1.items()[1])) << u1.ToDiagnostic();
  EXPECT_EQ(NextSpec(c()), "-");  // same instant
  Finish(c(), u1.items()[0], u1.items()[1]);
  EXPECT_EQ(NextSpec(c()), "-");  // still inside the interval
  AdvanceClock(c(), 59);
  EXPECT_EQ(NextSpec(c()), "-");
  AdvanceClock(c(), 1);  // +60
  Value u2 = Work(c());
  ASSERT_TRUE(u2.is_tuple() && LooksSynthetic(u2.items()[1])) << u2.ToDiagnostic();
  AdvanceClock(c(), 30);  // +90: finishing does not move the schedule
  Finish(c(), u2.items()[0], u2.items()[1]);
  EXPECT_EQ(NextSpec(c()), "-");
  AdvanceClock(c(), 29);  // +119
  EXPECT_EQ(NextSpec(c()), "-");
  AdvanceClock(c(), 1);  // +120
  Value u3 = Work(c());
  ASSERT_TRUE(u3.is_tuple() && LooksSynthetic(u3.items()[1])) << u3.ToDiagnostic();
  EXPECT_NE(u3.items()[1], u2.items()[1]);
}

TEST_F(SchedTest, IntervalThrottlesQueuedUnitsOfContinuousSpec) {
  SetSpec(c(), SpecDef("cont", {{"continuous", Bool(true)}, {"interval", I(60)}}));
  AddMany(c(), "cont", 3);
  EXPECT_TRUE(Same(Work(c()), Tup({B("cont"), B(Key(0)), Value::Map()})));
  EXPECT_EQ(NextSpec(c()), "-");
  AdvanceClock(c(), 30);
  EXPECT_EQ(NextSpec(c()), "-");
  AdvanceClock(c(), 30);
  EXPECT_TRUE(Same(Work(c()), Tup({B("cont"), B(Key(1)), Value::Map()})));
  EXPECT_EQ(NextSpec(c()), "-");
  // A non-continuous spec with an interval is not throttled (PY gates continuous specs only).
  SetSpec(c(), SpecDef("plain", {{"interval", I(60)}}));
  AddMany(c(), "plain", 2);
  EXPECT_EQ(Sequence(c(), 3), "plain plain -");
}

TEST_F(SchedTest, ContinuousIntervalDoesNotCatchUp) {
  SetSpec(c(), SpecDef("cont", {{"continuous", Bool(true)}, {"interval", I(60)}}));
  EXPECT_EQ(NextSpec(c()), "cont");
  AdvanceClock(c(), 30);
  EXPECT_EQ(NextSpec(c()), "-");
  AdvanceClock(c(), 30);
  EXPECT_EQ(NextSpec(c()), "cont");
  AdvanceClock(c(), 200);  // several intervals pass: one unit, not several
  EXPECT_EQ(Sequence(c(), 2), "cont -");
}

}  // namespace
}  // namespace coordtest
