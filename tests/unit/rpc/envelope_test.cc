// Request parsing (src/rpc/envelope.h): the copying and the moving ParseRequest agree, the
// moving one takes the id and params out of the message, and a refused message is untouched.
#include "rpc/envelope.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/cbor.h"

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

namespace coordinated::rpc {
namespace {

// Every encoded item of `v` replaced by what it decodes to.
Value Materialized(const Value& v) {
  if (v.is_encoded()) return Materialized(v.Decoded());
  Value out = v;
  for (Value& item : out.mutable_items()) item = Materialized(item);
  return out;
}

size_t CountEncoded(const Value& v) {
  size_t n = v.is_encoded() ? 1 : 0;
  for (const Value& item : v.items()) n += CountEncoded(item);
  return n;
}

TEST(DecodeMessageTest, AddWorkUnitsKeepsEachUnitsDataAsItsBytes) {
  Value data = MapOf({{"payload", Value::Bytes(std::string(100, 'x'))}, {"n", Value::Int(-3)}});
  Value units = Value::Array({Value::Array({Value::Bytes("a"), data}),
                              Value::Tuple({Value::Text("b"), Value::Array({Value::Double(0.5)}),
                                            MapOf({{"priority", Value::Int(2)}})}),
                              Value::Bytes("bare key")});
  const Value msg = Request(Value::Array({Value::Text("spec"), units}));
  const std::string bytes = EncodeCbor(msg);
  auto got = DecodeMessage(bytes, {});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(CountEncoded(*got), 2u);
  const Value& first = got->FindKey("params")->items()[1].items()[0].items()[1];
  ASSERT_TRUE(first.is_encoded());
  EXPECT_EQ(first.encoded(), EncodeCbor(data));
  EXPECT_EQ(EncodeCbor(*got), bytes);  // written out again byte for byte
  EXPECT_TRUE(*got == msg);            // equality decodes
  const Value plain = Materialized(*got);
  EXPECT_EQ(CountEncoded(plain), 0u);
  EXPECT_EQ(plain.ToDiagnostic(), msg.ToDiagnostic());
  EXPECT_EQ(got->ToDiagnostic(), msg.ToDiagnostic());
}

TEST(DecodeMessageTest, OtherMessagesAreDecodedInFull) {
  const Value units =
      Value::Array({Value::Array({Value::Bytes("a"), MapOf({{"k", Value::Int(1)}})})});
  std::vector<Value> msgs;
  // Another method with the same shape, and "add_work_units" in a place other than the method.
  Value other = Request(Value::Array({Value::Text("add_work_units"), units}));
  other.mutable_value_at(1) = Value::Bytes("update_work_units");
  msgs.push_back(other);
  // Keyword params, a batch of requests, params before the method, a second "method" key.
  Value kw = Request(MapOf({{"work_spec_name", Value::Text("s")}, {"work_unit_key_vals", units}}));
  msgs.push_back(kw);
  msgs.push_back(Value::Array({Request(Value::Array({Value::Text("s"), units}))}));
  Value late = Value::Map();
  late.AppendEntry(Value::Text("params"), Value::Array({Value::Text("s"), units}));
  late.AppendEntry(Value::Text("method"), Value::Text("add_work_units"));
  Value twice = late;
  twice.AppendEntry(Value::Text("method"), Value::Text("get_work"));
  Value first_other = Value::Map();
  first_other.AppendEntry(Value::Text("method"), Value::Text("get_work"));
  first_other.AppendEntry(Value::Text("method"), Value::Text("add_work_units"));
  first_other.AppendEntry(Value::Text("params"), Value::Array({Value::Text("s"), units}));
  msgs.push_back(first_other);
  for (const Value& msg : msgs) {
    const std::string bytes = EncodeCbor(msg);
    auto got = DecodeMessage(bytes, {});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(CountEncoded(*got), 0u) << msg.ToDiagnostic();
    EXPECT_EQ(got->ToDiagnostic(), msg.ToDiagnostic());
  }
  // Params after the method's key still count: the data of `late` and `twice` stays encoded
  // (the first "method" names add_work_units).
  for (const Value& msg : {late, twice}) {
    auto got = DecodeMessage(EncodeCbor(msg), {});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(CountEncoded(*got), 1u) << msg.ToDiagnostic();
    EXPECT_TRUE(*got == msg);
  }
}

TEST(DecodeMessageTest, ErrorsAreThoseOfTheGeneralDecoder) {
  const Value units =
      Value::Array({Value::Array({Value::Bytes("a"), MapOf({{"k", Value::Int(1)}})})});
  const std::string good = EncodeCbor(Request(Value::Array({Value::Text("s"), units})));
  for (size_t cut = 1; cut < good.size(); ++cut) {
    const std::string bytes = good.substr(0, cut);
    auto got = DecodeMessage(bytes, {});
    auto want = DecodeCbor(bytes, {});
    ASSERT_EQ(got.ok(), want.ok()) << cut;
    if (!got.ok()) {
      EXPECT_EQ(got.status().message(), want.status().message()) << cut;
    }
  }
  // Limits: an item count the whole message exceeds is refused as before.
  DecodeLimits tight;
  tight.max_items = 10;
  auto got = DecodeMessage(good, tight);
  auto want = DecodeCbor(good, tight);
  ASSERT_FALSE(want.ok());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(), want.status().message());
}

}  // namespace
}  // namespace coordinated::rpc
