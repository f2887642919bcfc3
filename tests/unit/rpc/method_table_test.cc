// The method registry and argument binding.
#include "rpc/method_table.h"

#include <gtest/gtest.h>

#include <set>

#include "common/cbor.h"
#include "rpc/envelope.h"

namespace coordinated::rpc {
namespace {

TEST(MethodTableTest, NamesAreUniqueAndRequiredFitsParams) {
  std::set<std::string_view> names;
  for (const auto& m : MethodTable()) {
    EXPECT_TRUE(names.insert(m.name).second) << "duplicate method " << m.name;
    EXPECT_LE(m.required, m.params.size()) << m.name;
    EXPECT_NE(m.handler, nullptr) << m.name;
  }
}

TEST(MethodTableTest, EveryContractMethodIsRegistered) {
  for (const char* name : {"set_work_spec",
                           "get_work_spec",
                           "list_work_specs",
                           "del_work_spec",
                           "clear",
                           "control_work_spec",
                           "get_work_spec_meta",
                           "add_work_units",
                           "get_work_units",
                           "get_work_unit_status",
                           "count_work_units",
                           "prioritize_work_units",
                           "del_work_units",
                           "update_work_unit",
                           "archive",
                           "get_work",
                           "worker_heartbeat",
                           "worker_unregister",
                           "list_worker_modes",
                           "get_worker_info",
                           "mode_counts",
                           "worker_stats",
                           "get_child_work_units",
                           "get_config",
                           "now",
                           "set_mode",
                           "get_mode",
                           "get_work_unit_attempts"}) {
    EXPECT_NE(FindMethod(name, false), nullptr) << name;
  }
}

TEST(MethodTableTest, TestOnlyMethodsHiddenWithoutHooks) {
  EXPECT_EQ(FindMethod("_test_advance_clock", false), nullptr);
  EXPECT_NE(FindMethod("_test_advance_clock", true), nullptr);
  EXPECT_EQ(FindMethod("no_such_method", true), nullptr);
}

TEST(BindArgsTest, PositionalArityIsChecked) {
  const MethodSpec* m = FindMethod("update_work_unit", false);
  ASSERT_NE(m, nullptr);
  auto ok = BindArgs(*m, Value::Array({Value::Bytes("s"), Value::Bytes("k"), Value::Map()}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[1], Value::Bytes("k"));
  auto few = BindArgs(*m, Value::Array({Value::Bytes("s")}));
  ASSERT_FALSE(few.ok());
  EXPECT_EQ(few.status().code(), Code::kInvalidArgument);
  EXPECT_NE(few.status().message().find("update_work_unit() takes 3 arguments (1 given)"),
            std::string::npos)
      << few.status().message();
}

TEST(BindArgsTest, OptionalParamsAreUndefinedWhenMissing) {
  const MethodSpec* m = FindMethod("get_work", false);
  ASSERT_NE(m, nullptr);
  auto args = BindArgs(*m, Value::Tuple({Value::Text("w")}));
  ASSERT_TRUE(args.ok());
  EXPECT_EQ((*args)[1].kind(), Value::Kind::kUndefined);
}

TEST(BindArgsTest, KeywordArgumentsByNameBytesOrText) {
  const MethodSpec* m = FindMethod("get_work", false);
  Value kw = Value::Map();
  kw.AppendEntry(Value::Text("options"), Value::Map());
  kw.AppendEntry(Value::Bytes("worker_id"), Value::Bytes("w1"));
  auto args = BindArgs(*m, kw);
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_EQ((*args)[0], Value::Bytes("w1"));
  EXPECT_EQ((*args)[1], Value::Map());

  Value unknown = Value::Map();
  unknown.AppendEntry(Value::Bytes("worker_id"), Value::Bytes("w1"));
  unknown.AppendEntry(Value::Bytes("bogus"), Value::UInt(1));
  EXPECT_EQ(BindArgs(*m, unknown).status().code(), Code::kInvalidArgument);

  Value missing = Value::Map();
  missing.AppendEntry(Value::Bytes("options"), Value::Map());
  auto r = BindArgs(*m, missing);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("worker_id"), std::string::npos);
}

TEST(EnvelopeTest, ParseRequestAcceptsBytesAndTextKeys) {
  Value msg = Value::Map();
  msg.AppendEntry(Value::Text("id"), Value::UInt(7));
  msg.AppendEntry(Value::Bytes("method"), Value::Text("now"));
  auto req = ParseRequest(msg);
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->id, Value::UInt(7));
  EXPECT_EQ(req->method, "now");
  EXPECT_EQ(req->params, Value::Array());
}

TEST(EnvelopeTest, ParseRequestRejectsBadShapes) {
  EXPECT_FALSE(ParseRequest(Value::UInt(1)).ok());
  Value no_method = Value::Map();
  no_method.AppendEntry(Value::Bytes("id"), Value::UInt(1));
  EXPECT_FALSE(ParseRequest(no_method).ok());
  Value bad_params =
      MapOf({{"id", Value::UInt(1)}, {"method", Value::Bytes("now")}, {"params", Value::UInt(3)}});
  auto r = ParseRequest(bad_params);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("don't understand params"), std::string::npos);
}

TEST(EnvelopeTest, ErrorReplyMatchesPythonBytes) {
  // reference-behavior.md §2.4: {id: 3, error: {message: b"boom"}} with a tag-24 envelope.
  // Build the exact PY reply by hand and compare the encoder's framing of it.
  Value err = Value::Map();
  err.AppendEntry(Value::Bytes("message"), Value::Bytes("boom"));
  Value reply = MapOf({{"id", Value::UInt(3)}, {"error", err}});
  const std::string expected(
      "\xD8\x18\x58\x19\xA2\x42\x69\x64\x03\x45\x65\x72\x72\x6F\x72\xA1\x47\x6D\x65\x73\x73\x61"
      "\x67\x65\x44\x62\x6F\x6F\x6D",
      29);
  EXPECT_EQ(EncodeFrame(reply), expected);
}

TEST(EnvelopeTest, ErrorReplyCarriesTheClassName) {
  Value r = ErrorReply(Value::UInt(1), Status::NoSuchMethod("no such method 'x'"));
  const Value* err = r.FindKey("error");
  ASSERT_NE(err, nullptr);
  const Value* msg = err->FindKey("message");
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(msg->str(), "NoSuchMethod: no such method 'x'");
}

}  // namespace
}  // namespace coordinated::rpc
