// Small helpers shared by the integration tests (one definition each, instead of a copy in
// every *_test.cc): unit status codes, value comparison, RPC calls that must succeed, work-spec
// and work-unit set-up, and raw-framing helpers for the wire-level tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/cbor.h"
#include "harness.h"

namespace coordtest {

// Work-unit status codes.
inline constexpr int kAvailable = 1;
inline constexpr int kBlocked = 2;
inline constexpr int kPending = 3;
inline constexpr int kFinished = 4;
inline constexpr int kFailed = 5;

#define EXPECT_VEQ(actual, expected)                                 \
  do {                                                               \
    const Value& va_ = (actual);                                     \
    const Value& ve_ = (expected);                                   \
    EXPECT_TRUE(va_ == ve_) << "actual:   " << va_.ToDiagnostic()    \
                            << "\nexpected: " << ve_.ToDiagnostic(); \
  } while (0)

inline testing::AssertionResult Same(const Value& actual, const Value& expected) {
  if (actual == expected) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "\n  actual:   " << actual.ToDiagnostic()
                                     << "\n  expected: " << expected.ToDiagnostic();
}

// One call whose transport and error form must succeed; its result (Undefined on failure).
inline Value Call(Client& c, std::string_view method, Value params = A()) {
  auto r = c.Call(method, std::move(params));
  EXPECT_TRUE(r.ok()) << method << ": " << r.status().ToString();
  return r.ok() ? std::move(r).value() : Value::Undefined();
}

// count_work_units(spec) as its {status: count} map; a reply that is not a pair fails the test
// and gives Undefined.
inline Value StatusCounts(Client& c, std::string_view spec) {
  Value r = Call(c, "count_work_units", A({B(spec)}));
  const bool pair = r.is_tuple() && r.items().size() == 2;
  EXPECT_TRUE(pair) << r.ToDiagnostic();
  return pair ? r.items()[0] : Value::Undefined();
}

// {status: count} as count_work_units replies (only non-zero entries, ascending).
inline Value CountMap(std::vector<std::pair<int, int>> entries) {
  Value m = Value::Map();
  for (auto [s, n] : entries) m.AppendEntry(I(s), I(n));
  return m;
}

inline Value Pair(Value a, Value b) { return Tup({std::move(a), std::move(b)}); }
inline Value FalseMsg(std::string_view m) { return Pair(Bool(false), B(m)); }

// A work-spec definition {name: b"name", extra...}.
inline Value SpecDef(std::string_view name, std::vector<std::pair<std::string, Value>> extra = {}) {
  Value m = M({{"name", B(name)}});
  for (auto& [k, v] : extra) m.Set(B(k), v);
  return m;
}

inline void SetSpec(Client& c, const Value& def) {
  EXPECT_TRUE(Same(Call(c, "set_work_spec", A({def})), OkPair()));
}

inline void AddUnits(Client& c, std::string_view spec, std::vector<Value> items) {
  EXPECT_TRUE(Same(Call(c, "add_work_units", A({B(spec), A(std::move(items))})), OkPair()));
}

// (spec, key, data) as get_work hands a unit out.
inline Value Triple(std::string_view spec, std::string_view key, Value data) {
  return Tup({B(spec), B(key), std::move(data)});
}

inline Value Update(Client& c, std::string_view spec, std::string_view key, Value options) {
  return Call(c, "update_work_unit", A({B(spec), B(key), std::move(options)}));
}

// The daemon's now().
inline double Now(Client& c) { return Call(c, "now").AsNumber().value_or(NAN); }

// ---- raw framing (wire-level tests) ---------------------------------------------------------

inline double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Tag 24 over a byte string holding the encoding of `msg`, as the Python client frames.
inline std::string Frame(const Value& msg) {
  std::string inner = coordinated::EncodeCbor(msg);
  std::string out;
  coordinated::EncodeHead(6, Value::kTagEncodedCbor, &out);
  coordinated::EncodeHead(2, inner.size(), &out);
  out += inner;
  return out;
}

// The message of an error reply, or "" when the reply is not in the error form.
inline std::string ErrorMessage(const Value& reply) {
  if (!reply.is_map()) return "";
  const Value* err = reply.FindKey("error");
  if (!err || !err->is_map()) return "";
  const Value* m = err->FindKey("message");
  return m && m->is_string() ? m->str() : "";
}

inline bool StartsWith(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// A test with its own daemon on a fresh data directory. SetUp starts it with default options
// (call Start with others instead); TearDown requires the store to pass the consistency check.
class DaemonTest : public testing::Test {
 protected:
  void SetUp() override { Start(DaemonOptions()); }
  void Start(DaemonOptions options) {
    d_ = std::make_unique<Daemon>(dir_.path(), std::move(options));
    ASSERT_TRUE(d_->Start().ok()) << d_->Log();
    c_ = d_->NewClient();
  }
  void TearDown() override {
    if (c_ && d_->running()) {
      auto problems = c_->Call("_test_check");
      ASSERT_TRUE(problems.ok()) << problems.status().ToString();
      EXPECT_TRUE(Same(*problems, A())) << "store inconsistent";
    }
  }
  // kill -9 and restart on the same data directory.
  void Restart() {
    d_->Kill();
    ASSERT_TRUE(d_->Start().ok()) << d_->Log();
    c_ = d_->NewClient();
  }
  Client& c() { return *c_; }

  TempDir dir_;
  std::unique_ptr<Daemon> d_;
  std::unique_ptr<Client> c_;
};

}  // namespace coordtest
