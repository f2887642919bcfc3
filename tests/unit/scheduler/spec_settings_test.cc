// Unit tests for SpecSettings (src/scheduler/spec_settings.h): how a work spec's definition and
// its control_work_spec overrides become scheduling settings (reference-behavior.md section 3.2
// and section 1.3 control_work_spec; contract section 4 for weights and nice).
#include "scheduler/spec_settings.h"

#include <gtest/gtest.h>

#include <string>

#include "common/cbor.h"
#include "common/value.h"

namespace coordinated::scheduler {
namespace {

Value B(std::string_view s) { return Value::Bytes(s); }
Value U(uint64_t n) { return Value::UInt(n); }
Value I(int64_t n) { return Value::Int(n); }
Value D(double d) { return Value::Double(d); }

// A definition with a name plus the given entries.
Value Def(std::initializer_list<std::pair<std::string_view, Value>> entries = {}) {
  Value m = MapOf({{"name", B("spec")}});
  for (const auto& [k, v] : entries) m.Set(B(k), v);
  return m;
}

SpecSettings Derive(const Value& def, const Value& control = Value::Map()) {
  return DeriveSettings(def, control);
}

TEST(SpecSettingsTest, Defaults) {
  SpecSettings s = Derive(Def());
  EXPECT_FALSE(s.paused);
  EXPECT_FALSE(s.continuous);
  EXPECT_FALSE(s.can_be_continuous);
  EXPECT_FALSE(s.interval.has_value());
  EXPECT_FALSE(s.max_running.has_value());
  EXPECT_FALSE(s.max_getwork.has_value());
  EXPECT_EQ(s.weight, 20);
  EXPECT_EQ(s.priority, 0);
  EXPECT_TRUE(s.then.is_null());
  EXPECT_TRUE(s.then_preempts);
  EXPECT_EQ(s.max_retries, 0);
  // Not a map at all: defaults too, no crash.
  SpecSettings n = Derive(Value::Array(), B("junk"));
  EXPECT_EQ(n.weight, 20);
  EXPECT_FALSE(n.paused);
}

TEST(SpecSettingsTest, WeightAsGivenIsIntOfTheValue) {
  EXPECT_EQ(Derive(Def({{"weight", U(7)}})).weight, 7);
  EXPECT_EQ(Derive(Def({{"weight", D(7.9)}})).weight, 7) << "int() truncates";
  EXPECT_EQ(Derive(Def({{"weight", B("5")}})).weight, 5) << "int('5') as PY";
  EXPECT_EQ(Derive(Def({{"weight", U(1000000)}})).weight, 1000000) << "no clamp";
  // 0 and below are kept: such a spec is never scheduled (contract section 2).
  EXPECT_EQ(Derive(Def({{"weight", U(0)}})).weight, 0);
  EXPECT_EQ(Derive(Def({{"weight", I(-3)}})).weight, -3);
  // A weight wins over nice.
  EXPECT_EQ(Derive(Def({{"weight", U(50)}, {"nice", U(5)}})).weight, 50);
  // An unparseable weight falls back to the default.
  EXPECT_EQ(Derive(Def({{"weight", B("heavy")}})).weight, 20);
}

TEST(SpecSettingsTest, NiceGivesTwentyMinusNiceAtLeastOne) {
  EXPECT_EQ(Derive(Def({{"nice", U(5)}})).weight, 15);
  EXPECT_EQ(Derive(Def({{"nice", U(19)}})).weight, 1);
  EXPECT_EQ(Derive(Def({{"nice", U(20)}})).weight, 1) << "max(1, 20 - nice)";
  EXPECT_EQ(Derive(Def({{"nice", U(100)}})).weight, 1);
  EXPECT_EQ(Derive(Def({{"nice", I(-80)}})).weight, 100) << "no lower bound on nice";
  EXPECT_EQ(Derive(Def({{"nice", U(0)}})).weight, 20);
  // A null weight is "no weight": nice applies.
  EXPECT_EQ(Derive(Def({{"weight", Value()}, {"nice", U(4)}})).weight, 16);
  EXPECT_EQ(Derive(Def({{"nice", B("3")}})).weight, 17);
}

TEST(SpecSettingsTest, DisabledPauses) {
  EXPECT_TRUE(Derive(Def({{"disabled", Value::Bool(true)}})).paused);
  EXPECT_FALSE(Derive(Def({{"disabled", Value::Bool(false)}})).paused);
  EXPECT_TRUE(Derive(Def({{"disabled", U(1)}})).paused) << "Python truthiness";
  EXPECT_FALSE(Derive(Def({{"disabled", B("")}})).paused);
  // The definition's "status" key is not a pause switch; only control's is.
  EXPECT_FALSE(Derive(Def({{"status", U(2)}})).paused);
}

TEST(SpecSettingsTest, ContinuousAndInterval) {
  SpecSettings c = Derive(Def({{"continuous", Value::Bool(true)}, {"interval", U(60)}}));
  EXPECT_TRUE(c.continuous);
  EXPECT_TRUE(c.can_be_continuous);
  ASSERT_TRUE(c.interval.has_value());
  EXPECT_EQ(*c.interval, 60);
  // Interval from a string, as PY's float().
  EXPECT_EQ(*Derive(Def({{"interval", B("1.5")}})).interval, 1.5);
  EXPECT_EQ(*Derive(Def({{"interval", Value::Text("60")}})).interval, 60);
  EXPECT_EQ(*Derive(Def({{"interval", D(0.25)}})).interval, 0.25);
  EXPECT_FALSE(Derive(Def({{"interval", B("soon")}})).interval.has_value());
  EXPECT_FALSE(Derive(Def({{"interval", B("60s")}})).interval.has_value());
  EXPECT_FALSE(Derive(Def({{"interval", Value()}})).interval.has_value());
  EXPECT_FALSE(Derive(Def({{"continuous", Value::Bool(false)}})).can_be_continuous);
}

TEST(SpecSettingsTest, LimitsPriorityThenAndRetries) {
  SpecSettings s = Derive(Def({{"max_running", U(3)},
                               {"max_getwork", U(5)},
                               {"priority", I(-2)},
                               {"then", B("next")},
                               {"then_preempts", Value::Bool(false)},
                               {"max_retries", U(4)}}));
  EXPECT_EQ(*s.max_running, 3);
  EXPECT_EQ(*s.max_getwork, 5);
  EXPECT_EQ(s.priority, -2);
  EXPECT_EQ(EncodeCbor(s.then), EncodeCbor(B("next")));
  EXPECT_FALSE(s.then_preempts);
  EXPECT_EQ(s.max_retries, 4);
  // then keeps its CBOR type; a non-string then is no successor.
  EXPECT_TRUE(Derive(Def({{"then", Value::Text("t")}})).then.is_text());
  EXPECT_TRUE(Derive(Def({{"then", U(3)}})).then.is_null());
  // Numeric strings and floats are read as numbers; nonsense as unlimited.
  EXPECT_EQ(*Derive(Def({{"max_running", B("2")}})).max_running, 2);
  EXPECT_EQ(*Derive(Def({{"max_getwork", D(2.9)}})).max_getwork, 2);
  EXPECT_FALSE(Derive(Def({{"max_running", B("lots")}})).max_running.has_value());
  EXPECT_EQ(Derive(Def({{"max_retries", B("x")}})).max_retries, 0);
  // Huge values saturate instead of overflowing.
  EXPECT_EQ(*Derive(Def({{"max_running", D(1e300)}})).max_running, INT64_MAX);
  EXPECT_EQ(Derive(Def({{"priority", D(-1e300)}})).priority, INT64_MIN);
}

TEST(SpecSettingsTest, ControlOverridesTheDefinition) {
  const Value def = Def({{"weight", U(5)},
                         {"interval", U(10)},
                         {"max_running", U(2)},
                         {"continuous", Value::Bool(true)},
                         {"disabled", Value::Bool(true)}});
  SpecSettings base = Derive(def);
  EXPECT_TRUE(base.paused);
  SpecSettings s = Derive(def, MapOf({{"status", U(1)},
                                      {"weight", U(9)},
                                      {"interval", D(2.5)},
                                      {"max_running", U(7)},
                                      {"continuous", Value::Bool(false)}}));
  EXPECT_FALSE(s.paused) << "status 1 resumes a disabled spec";
  EXPECT_EQ(s.weight, 9);
  EXPECT_EQ(*s.interval, 2.5);
  EXPECT_EQ(*s.max_running, 7);
  EXPECT_FALSE(s.continuous);
  EXPECT_TRUE(s.can_be_continuous) << "control cannot clear can-be-continuous";
  EXPECT_TRUE(Derive(def, MapOf({{"status", U(2)}})).paused);
  // max_running None = unlimited; interval None = none.
  SpecSettings cleared = Derive(def, MapOf({{"max_running", Value()}, {"interval", Value()}}));
  EXPECT_FALSE(cleared.max_running.has_value());
  EXPECT_FALSE(cleared.interval.has_value());
  // A null weight in control leaves the weight alone.
  EXPECT_EQ(Derive(def, MapOf({{"weight", Value()}})).weight, 5);
  // Control weight 0: never scheduled.
  EXPECT_EQ(Derive(def, MapOf({{"weight", U(0)}})).weight, 0);
  // Continuous cannot be turned on for a spec whose definition lacks it.
  EXPECT_FALSE(Derive(Def(), MapOf({{"continuous", Value::Bool(true)}})).continuous);
  // Keys that control cannot change are ignored there.
  SpecSettings ignored = Derive(
      Def({{"max_getwork", U(3)}}),
      MapOf({{"max_getwork", U(9)}, {"then", B("x")}, {"priority", U(5)}, {"max_retries", U(1)}}));
  EXPECT_EQ(*ignored.max_getwork, 3);
  EXPECT_TRUE(ignored.then.is_null());
  EXPECT_EQ(ignored.priority, 0);
  EXPECT_EQ(ignored.max_retries, 0);
}

TEST(SpecSettingsTest, ValidateControl) {
  EXPECT_TRUE(ValidateControl(Value::Map()).ok());
  EXPECT_TRUE(ValidateControl(MapOf({{"status", U(1)}})).ok());
  EXPECT_TRUE(ValidateControl(MapOf({{"status", U(2)}})).ok());
  EXPECT_TRUE(ValidateControl(MapOf({{"weight", U(3)},
                                     {"max_running", Value()},
                                     {"interval", B("30")},
                                     {"continuous", B("anything")},
                                     {"unknown_key", B("ignored")}}))
                  .ok());
  EXPECT_TRUE(ValidateControl(MapOf({{"weight", D(2.5)}, {"interval", D(0.5)}})).ok());
  const Value bad[] = {
      Value::Array(),             // not a map
      B("status"),                // not a map
      MapOf({{"status", U(0)}}),  // status 1 or 2 only
      MapOf({{"status", U(3)}}),
      MapOf({{"status", B("1")}}),
      MapOf({{"status", Value()}}),
      MapOf({{"weight", B("heavy")}}),  // weight a number
      MapOf({{"weight", B("5")}}),
      MapOf({{"max_running", B("x")}}),  // max_running a number
      MapOf({{"interval", B("soon")}}),  // interval a number or numeric string
      MapOf({{"interval", Value::Array()}}),
  };
  for (const Value& v : bad) {
    Status s = ValidateControl(v);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << v.ToDiagnostic();
    EXPECT_FALSE(s.message().empty());
  }
  Value int_key = Value::Map();
  int_key.AppendEntry(U(1), U(1));
  EXPECT_EQ(ValidateControl(int_key).code(), Code::kInvalidArgument);
}

TEST(SpecSettingsTest, SettingsToMetaHasPyShape) {
  EXPECT_EQ(EncodeCbor(SettingsToMeta(Derive(Def()))),
            EncodeCbor(MapOf({{"status", U(1)},
                              {"continuous", Value::Bool(false)},
                              {"interval", Value()},
                              {"max_running", Value()},
                              {"weight", U(20)}})));
  SpecSettings s = Derive(Def({{"continuous", Value::Bool(true)},
                               {"interval", U(60)},
                               {"max_running", U(2)},
                               {"weight", I(-1)},
                               {"disabled", Value::Bool(true)}}));
  EXPECT_EQ(EncodeCbor(SettingsToMeta(s)), EncodeCbor(MapOf({{"status", U(2)},
                                                             {"continuous", Value::Bool(true)},
                                                             {"interval", D(60)},
                                                             {"max_running", U(2)},
                                                             {"weight", I(-1)}})));
}

}  // namespace
}  // namespace coordinated::scheduler
