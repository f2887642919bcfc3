// Request parsing (src/rpc/envelope.h): the copying and the moving ParseRequest agree, the
// moving one takes the id and params out of the message, and a refused message is untouched.
#include "rpc/envelope.h"

#include <gtest/gtest.h>

#include <vector>

namespace coordinated::rpc {
namespace {

Value Request(Value params) {
  Value m = Value::Map();
  m.AppendEntry(Value::Bytes("id"), Value::UInt(7));
  m.AppendEntry(Value::Bytes("method"), Value::Bytes("add_work_units"));
  m.AppendEntry(Value::Bytes("params"), std::move(params));
  return m;
}

TEST(ParseRequestTest, MovingAndCopyingGiveTheSameRequest) {
  const Value params = Value::Array({Value::Text("spec"), Value::Array({Value::Bytes("k")})});
  for (const Value& msg : {Request(params), Request(Value::Null()), Request(Value::Map())}) {
    auto copied = ParseRequest(msg);
    Value mutable_msg = msg;
    auto moved = ParseRequest(&mutable_msg);
    ASSERT_TRUE(copied.ok()) << copied.status().ToString();
    ASSERT_TRUE(moved.ok()) << moved.status().ToString();
    EXPECT_EQ(moved->id, copied->id);
    EXPECT_EQ(moved->method, copied->method);
    EXPECT_EQ(moved->params, copied->params);
  }
  Value msg = Request(params);
  auto moved = ParseRequest(&msg);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->id, Value::UInt(7));
  EXPECT_EQ(moved->params, params);
}

TEST(ParseRequestTest, RefusedMessageIsLeftAsItWas) {
  std::vector<Value> bad;
  bad.push_back(Request(Value::UInt(3)));  // params neither a sequence nor a map
  Value no_method = Value::Map();
  no_method.AppendEntry(Value::Bytes("id"), Value::UInt(1));
  no_method.AppendEntry(Value::Bytes("params"), Value::Array());
  bad.push_back(no_method);
  Value method_not_string = Request(Value::Array());
  *method_not_string.FindMutableKey("method") = Value::UInt(5);
  bad.push_back(method_not_string);
  bad.push_back(Value::Array());
  for (const Value& original : bad) {
    Value msg = original;
    auto r = ParseRequest(&msg);
    EXPECT_FALSE(r.ok()) << original.ToDiagnostic();
    EXPECT_EQ(r.status().code(), ParseRequest(original).status().code());
    EXPECT_EQ(msg, original);
  }
}

}  // namespace
}  // namespace coordinated::rpc
