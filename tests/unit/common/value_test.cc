// Unit tests for the Value data model (src/common/value.h).
#include "common/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>

namespace coordinated {
namespace {

using Kind = Value::Kind;

constexpr uint64_t kInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// ---------------------------------------------------------------------------------------------
// Constructors and kinds

TEST(ValueTest, DefaultConstructedValueIsNull) {
  Value v;
  EXPECT_EQ(v.kind(), Kind::kNull);
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(v, Value::Null());
}

TEST(ValueTest, EachFactoryProducesItsKind) {
  EXPECT_EQ(Value::Undefined().kind(), Kind::kUndefined);
  EXPECT_EQ(Value::Bool(true).kind(), Kind::kBool);
  EXPECT_EQ(Value::Int(5).kind(), Kind::kUInt);
  EXPECT_EQ(Value::Int(0).kind(), Kind::kUInt);
  EXPECT_EQ(Value::Int(-1).kind(), Kind::kNegInt);
  EXPECT_EQ(Value::UInt(UINT64_MAX).kind(), Kind::kUInt);
  EXPECT_EQ(Value::NegIntArg(0).kind(), Kind::kNegInt);
  EXPECT_EQ(Value::Double(1.5).kind(), Kind::kDouble);
  EXPECT_EQ(Value::Bytes("a").kind(), Kind::kBytes);
  EXPECT_EQ(Value::Text("a").kind(), Kind::kText);
  EXPECT_EQ(Value::Array().kind(), Kind::kArray);
  EXPECT_EQ(Value::Tuple().kind(), Kind::kTuple);
  EXPECT_EQ(Value::Map().kind(), Kind::kMap);
  EXPECT_EQ(Value::Tag(1, Value::UInt(0)).kind(), Kind::kTag);
  EXPECT_EQ(Value::Simple(16).kind(), Kind::kSimple);
  EXPECT_EQ(Value::String(Kind::kText, "x").kind(), Kind::kText);
  EXPECT_EQ(Value::String(Kind::kBytes, "x").kind(), Kind::kBytes);
}

TEST(ValueTest, ArrayOfAndTupleOfMoveTheirElementsIn) {
  // Same values as the braced-list factories...
  EXPECT_EQ(Value::ArrayOf(Value::UInt(1), Value::Bytes("b")),
            Value::Array({Value::UInt(1), Value::Bytes("b")}));
  EXPECT_EQ(Value::TupleOf(Value::Null(), Value::Text("t"), Value::Map()),
            Value::Tuple({Value::Null(), Value::Text("t"), Value::Map()}));
  EXPECT_EQ(Value::TupleOf().kind(), Kind::kTuple);
  // ...but each element is moved, not copied: a long string keeps its buffer, and so does a
  // nested sequence's element.
  Value big = Value::Bytes(std::string(4096, 'x'));
  const char* const buffer = big.str().data();
  Value inner = Value::ArrayOf(std::move(big));
  Value outer = Value::TupleOf(std::move(inner), Value::Null());
  ASSERT_EQ(outer.items().size(), 2u);
  ASSERT_EQ(outer.items()[0].items().size(), 1u);
  EXPECT_EQ(outer.items()[0].items()[0].str().data(), buffer);
  EXPECT_EQ(outer.items()[0].items()[0].str(), std::string(4096, 'x'));
}

TEST(ValueTest, PredicatesGroupKinds) {
  EXPECT_TRUE(Value::Int(-3).is_int());
  EXPECT_TRUE(Value::Int(-3).is_number());
  EXPECT_FALSE(Value::Int(-3).is_double());
  EXPECT_TRUE(Value::Double(0).is_number());
  EXPECT_FALSE(Value::Double(0).is_int());
  EXPECT_TRUE(Value::Bytes("").is_string());
  EXPECT_TRUE(Value::Text("").is_string());
  EXPECT_FALSE(Value::Bytes("").is_text());
  EXPECT_TRUE(Value::Array().is_sequence());
  EXPECT_TRUE(Value::Tuple().is_sequence());
  EXPECT_FALSE(Value::Tuple().is_array());
  EXPECT_FALSE(Value::Map().is_sequence());
  EXPECT_FALSE(Value::Bool(false).is_number());
  EXPECT_FALSE(Value::Null().is_string());
}

TEST(ValueTest, ScalarAccessorsReturnWhatWasStored) {
  EXPECT_TRUE(Value::Bool(true).as_bool());
  EXPECT_FALSE(Value::Bool(false).as_bool());
  EXPECT_EQ(Value::Double(-2.25).as_double(), -2.25);
  EXPECT_EQ(Value::Bytes(std::string("a\0b", 3)).str(), std::string("a\0b", 3));
  EXPECT_EQ(Value::Text("f\xc3\xbc").str(), "f\xc3\xbc");
  EXPECT_EQ(Value::UInt(7).raw_num(), 7u);
  // kNegInt keeps the CBOR argument m of -1 - m.
  EXPECT_EQ(Value::Int(-1).raw_num(), 0u);
  EXPECT_EQ(Value::Int(-10).raw_num(), 9u);
  EXPECT_EQ(Value::Simple(16).raw_num(), 16u);
}

TEST(ValueTest, IntOfInt64MinIsNegIntWithArgumentInt64Max) {
  Value v = Value::Int(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(v.kind(), Kind::kNegInt);
  EXPECT_EQ(v.raw_num(), kInt64Max);
}

TEST(ValueTest, TagHoldsNumberAndItem) {
  Value t = Value::Tag(1234, Value::Text("x"));
  EXPECT_TRUE(t.is_tag());
  EXPECT_EQ(t.tag(), 1234u);
  EXPECT_EQ(t.tagged(), Value::Text("x"));
}

TEST(ValueTest, Tag128OverArrayBecomesTuple) {
  Value t = Value::Tag(Value::kTagTuple, Value::Array({Value::Int(1), Value::Int(2)}));
  EXPECT_EQ(t.kind(), Kind::kTuple);
  EXPECT_EQ(t, Value::Tuple({Value::Int(1), Value::Int(2)}));
  EXPECT_EQ(t.items().size(), 2u);
}

TEST(ValueTest, Tag128OverNonArrayStaysATag) {
  Value t = Value::Tag(Value::kTagTuple, Value::Text("x"));
  EXPECT_EQ(t.kind(), Kind::kTag);
  EXPECT_EQ(t.tag(), Value::kTagTuple);
}

TEST(ValueTest, UuidIsTag37OverSixteenBytes) {
  const std::string raw(16, '\x42');
  Value u = Value::Uuid(raw);
  ASSERT_TRUE(u.is_tag());
  EXPECT_EQ(u.tag(), 37u);
  EXPECT_EQ(u.tagged(), Value::Bytes(raw));
}

TEST(ValueTest, SizeCountsBytesElementsOrEntries) {
  EXPECT_EQ(Value::Text("abc").size(), 3u);
  EXPECT_EQ(Value::Bytes("").size(), 0u);
  EXPECT_EQ(Value::Array({Value(), Value()}).size(), 2u);
  EXPECT_EQ(Value::Tuple({Value()}).size(), 1u);
  Value m = MapOf({{"a", Value::Int(1)}, {"b", Value::Int(2)}, {"c", Value::Int(3)}});
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.map_size(), 3u);
}

TEST(ValueTest, AppendAddsToSequence) {
  Value a = Value::Array();
  a.Append(Value::Int(1));
  a.Append(Value::Text("x"));
  EXPECT_EQ(a, Value::Array({Value::Int(1), Value::Text("x")}));
  a.mutable_items()[0] = Value::Int(9);
  EXPECT_EQ(a.items()[0], Value::Int(9));
}

// ---------------------------------------------------------------------------------------------
// AsInt64 / AsNumber

TEST(ValueAsInt64Test, SmallIntegers) {
  EXPECT_EQ(Value::Int(0).AsInt64(), 0);
  EXPECT_EQ(Value::Int(42).AsInt64(), 42);
  EXPECT_EQ(Value::Int(-1).AsInt64(), -1);
  EXPECT_EQ(Value::Int(-42).AsInt64(), -42);
}

TEST(ValueAsInt64Test, UnsignedBoundaryAtInt64Max) {
  EXPECT_EQ(Value::UInt(kInt64Max).AsInt64(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Value::UInt(kInt64Max + 1).AsInt64(), std::nullopt);
  EXPECT_EQ(Value::UInt(UINT64_MAX).AsInt64(), std::nullopt);
}

TEST(ValueAsInt64Test, NegativeBoundaryAtInt64Min) {
  // -1 - (2^63 - 1) = -2^63 fits; -1 - 2^63 does not.
  EXPECT_EQ(Value::NegIntArg(kInt64Max).AsInt64(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Value::Int(std::numeric_limits<int64_t>::min()).AsInt64(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Value::NegIntArg(kInt64Max + 1).AsInt64(), std::nullopt);
  EXPECT_EQ(Value::NegIntArg(UINT64_MAX).AsInt64(), std::nullopt);
}

TEST(ValueAsInt64Test, NonIntegersHaveNoInt64) {
  EXPECT_EQ(Value::Double(1.0).AsInt64(), std::nullopt);
  EXPECT_EQ(Value::Bool(true).AsInt64(), std::nullopt);
  EXPECT_EQ(Value::Text("1").AsInt64(), std::nullopt);
  EXPECT_EQ(Value::Null().AsInt64(), std::nullopt);
  EXPECT_EQ(Value::Simple(16).AsInt64(), std::nullopt);
}

TEST(ValueAsNumberTest, IntegersAndDoublesConvert) {
  EXPECT_EQ(Value::Int(3).AsNumber(), 3.0);
  EXPECT_EQ(Value::Int(-3).AsNumber(), -3.0);
  EXPECT_EQ(Value::Double(2.5).AsNumber(), 2.5);
  EXPECT_EQ(Value::UInt(UINT64_MAX).AsNumber(), 18446744073709551615.0);
  EXPECT_EQ(Value::NegIntArg(UINT64_MAX).AsNumber(), -18446744073709551616.0);
}

TEST(ValueAsNumberTest, NonNumbersHaveNoNumber) {
  EXPECT_EQ(Value::Bool(true).AsNumber(), std::nullopt);
  EXPECT_EQ(Value::Text("1.5").AsNumber(), std::nullopt);
  EXPECT_EQ(Value::Null().AsNumber(), std::nullopt);
  EXPECT_EQ(Value::Array({Value::Int(1)}).AsNumber(), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Truthy (Python truthiness)

TEST(ValueTruthyTest, FalsyValuesFollowPython) {
  EXPECT_FALSE(Value::Null().Truthy());
  EXPECT_FALSE(Value::Undefined().Truthy());
  EXPECT_FALSE(Value::Bool(false).Truthy());
  EXPECT_FALSE(Value::Int(0).Truthy());
  EXPECT_FALSE(Value::Double(0.0).Truthy());
  EXPECT_FALSE(Value::Double(-0.0).Truthy());
  EXPECT_FALSE(Value::Bytes("").Truthy());
  EXPECT_FALSE(Value::Text("").Truthy());
  EXPECT_FALSE(Value::Array().Truthy());
  EXPECT_FALSE(Value::Tuple().Truthy());
  EXPECT_FALSE(Value::Map().Truthy());
}

TEST(ValueTruthyTest, TruthyValuesFollowPython) {
  EXPECT_TRUE(Value::Bool(true).Truthy());
  EXPECT_TRUE(Value::Int(1).Truthy());
  EXPECT_TRUE(Value::Int(-1).Truthy());  // kNegInt with argument 0 is still -1
  EXPECT_TRUE(Value::UInt(UINT64_MAX).Truthy());
  EXPECT_TRUE(Value::Double(0.5).Truthy());
  EXPECT_TRUE(Value::Double(std::nan("")).Truthy());
  EXPECT_TRUE(Value::Bytes(std::string(1, '\0')).Truthy());
  EXPECT_TRUE(Value::Text(" ").Truthy());
  EXPECT_TRUE(Value::Array({Value::Null()}).Truthy());
  EXPECT_TRUE(Value::Tuple({Value::Bool(false)}).Truthy());
  EXPECT_TRUE(MapOf({{"k", Value::Null()}}).Truthy());
  EXPECT_TRUE(Value::Uuid(std::string(16, '\0')).Truthy());
}

// ---------------------------------------------------------------------------------------------
// Maps

TEST(ValueMapTest, MapOfUsesByteStringKeysInOrder) {
  Value m = MapOf({{"id", Value::Int(1)}, {"method", Value::Bytes("m")}});
  ASSERT_EQ(m.map_size(), 2u);
  EXPECT_EQ(m.key_at(0), Value::Bytes("id"));
  EXPECT_EQ(m.value_at(0), Value::Int(1));
  EXPECT_EQ(m.key_at(1), Value::Bytes("method"));
  EXPECT_EQ(m.value_at(1), Value::Bytes("m"));
}

TEST(ValueMapTest, FindKeyMatchesBytesAndTextKeysByContent) {
  Value m = Value::Map();
  m.AppendEntry(Value::Bytes("id"), Value::Int(1));
  m.AppendEntry(Value::Text("message"), Value::Text("boom"));
  ASSERT_NE(m.FindKey("id"), nullptr);
  EXPECT_EQ(*m.FindKey("id"), Value::Int(1));
  ASSERT_NE(m.FindKey("message"), nullptr);
  EXPECT_EQ(*m.FindKey("message"), Value::Text("boom"));
  EXPECT_EQ(m.FindKey("missing"), nullptr);
  EXPECT_EQ(m.FindKey("i"), nullptr);  // no prefix matching
}

TEST(ValueMapTest, FindKeyIgnoresNonStringKeys) {
  Value m = Value::Map();
  m.AppendEntry(Value::Int(1), Value::Text("one"));
  m.AppendEntry(Value::Array({Value::Text("1")}), Value::Text("list"));
  EXPECT_EQ(m.FindKey("1"), nullptr);
}

TEST(ValueMapTest, FindKeyOnNonMapReturnsNull) {
  EXPECT_EQ(Value::Array({Value::Text("a")}).FindKey("a"), nullptr);
  EXPECT_EQ(Value::Text("a").FindKey("a"), nullptr);
  EXPECT_EQ(Value::Null().Find(Value::Text("a")), nullptr);
}

TEST(ValueMapTest, FindKeyReturnsFirstOfDuplicateKeys) {
  Value m = Value::Map();
  m.AppendEntry(Value::Text("k"), Value::Int(1));
  m.AppendEntry(Value::Bytes("k"), Value::Int(2));
  EXPECT_EQ(m.map_size(), 2u);  // duplicates kept as sent
  ASSERT_NE(m.FindKey("k"), nullptr);
  EXPECT_EQ(*m.FindKey("k"), Value::Int(1));
}

TEST(ValueMapTest, FindMutableKeyAllowsInPlaceUpdate) {
  Value m = MapOf({{"n", Value::Int(1)}});
  Value* v = m.FindMutableKey("n");
  ASSERT_NE(v, nullptr);
  *v = Value::Int(2);
  EXPECT_EQ(*m.FindKey("n"), Value::Int(2));
  EXPECT_EQ(m.FindMutableKey("absent"), nullptr);
  m.mutable_value_at(0) = Value::Int(3);
  EXPECT_EQ(m.value_at(0), Value::Int(3));
}

TEST(ValueMapTest, FindByValueIsKindSensitiveExceptForStrings) {
  Value m = Value::Map();
  m.AppendEntry(Value::Int(1), Value::Text("int"));
  m.AppendEntry(Value::Double(2.0), Value::Text("double"));
  m.AppendEntry(Value::Bytes("s"), Value::Text("bytes"));
  m.AppendEntry(Value::Tuple({Value::Int(1), Value::Int(3)}), Value::Text("tuple"));

  ASSERT_NE(m.Find(Value::Int(1)), nullptr);
  EXPECT_EQ(*m.Find(Value::Int(1)), Value::Text("int"));
  EXPECT_EQ(m.Find(Value::Double(1.0)), nullptr);
  EXPECT_EQ(m.Find(Value::Int(2)), nullptr);
  ASSERT_NE(m.Find(Value::Double(2.0)), nullptr);
  ASSERT_NE(m.Find(Value::Text("s")), nullptr);  // bytes/text by content
  EXPECT_EQ(*m.Find(Value::Text("s")), Value::Text("bytes"));
  ASSERT_NE(m.Find(Value::Tuple({Value::Int(1), Value::Int(3)})), nullptr);
  EXPECT_EQ(m.Find(Value::Array({Value::Int(1), Value::Int(3)})), nullptr);
}

TEST(ValueMapTest, SetReplacesNameEqualKeyAcrossBytesAndText) {
  Value m = MapOf({{"a", Value::Int(1)}, {"b", Value::Int(2)}});
  m.Set(Value::Text("a"), Value::Int(10));
  ASSERT_EQ(m.map_size(), 2u);
  // The original byte-string key stays in place; only the value changes.
  EXPECT_EQ(m.key_at(0), Value::Bytes("a"));
  EXPECT_EQ(m.value_at(0), Value::Int(10));
  EXPECT_EQ(m.value_at(1), Value::Int(2));
}

TEST(ValueMapTest, SetAppendsNewKeyAtEnd) {
  Value m = MapOf({{"a", Value::Int(1)}});
  m.Set(Value::Text("z"), Value::Int(26));
  m.Set(Value::Int(5), Value::Int(50));
  ASSERT_EQ(m.map_size(), 3u);
  EXPECT_EQ(m.key_at(1), Value::Text("z"));
  EXPECT_EQ(m.key_at(2), Value::Int(5));
  m.Set(Value::Int(5), Value::Int(55));
  EXPECT_EQ(m.map_size(), 3u);
  EXPECT_EQ(*m.Find(Value::Int(5)), Value::Int(55));
  // An int key is not a double key.
  m.Set(Value::Double(5.0), Value::Int(0));
  EXPECT_EQ(m.map_size(), 4u);
}

TEST(ValueMapTest, EraseKeyRemovesAllNameEqualEntries) {
  Value m = Value::Map();
  m.AppendEntry(Value::Bytes("k"), Value::Int(1));
  m.AppendEntry(Value::Bytes("other"), Value::Int(2));
  m.AppendEntry(Value::Text("k"), Value::Int(3));
  EXPECT_TRUE(m.EraseKey("k"));
  ASSERT_EQ(m.map_size(), 1u);
  EXPECT_EQ(m.key_at(0), Value::Bytes("other"));
  EXPECT_EQ(m.value_at(0), Value::Int(2));
  EXPECT_FALSE(m.EraseKey("k"));
  EXPECT_FALSE(m.EraseKey("missing"));
  EXPECT_EQ(m.map_size(), 1u);
}

TEST(ValueMapTest, EraseKeyOnNonMapIsFalse) {
  Value a = Value::Array({Value::Text("k")});
  EXPECT_FALSE(a.EraseKey("k"));
  EXPECT_EQ(a.size(), 1u);
}

TEST(ValueMapTest, NameEqualsAcceptsOnlyStrings) {
  EXPECT_TRUE(NameEquals(Value::Bytes("id"), "id"));
  EXPECT_TRUE(NameEquals(Value::Text("id"), "id"));
  EXPECT_FALSE(NameEquals(Value::Text("id "), "id"));
  EXPECT_FALSE(NameEquals(Value::Int(1), "1"));
  EXPECT_FALSE(NameEquals(Value::Null(), ""));
  EXPECT_TRUE(NameEquals(Value::Bytes(""), ""));
}

// ---------------------------------------------------------------------------------------------
// Equality

TEST(ValueEqualityTest, BytesAndTextWithSameContentDiffer) {
  EXPECT_NE(Value::Bytes("a"), Value::Text("a"));
  EXPECT_EQ(Value::Bytes("a"), Value::Bytes("a"));
  EXPECT_EQ(Value::Text("a"), Value::Text("a"));
  EXPECT_NE(Value::Text("a"), Value::Text("b"));
  EXPECT_NE(Value::Bytes(std::string("a\0", 2)), Value::Bytes("a"));
}

TEST(ValueEqualityTest, IntAndDoubleDiffer) {
  EXPECT_NE(Value::Int(1), Value::Double(1.0));
  EXPECT_NE(Value::Int(0), Value::Double(0.0));
  EXPECT_EQ(Value::Double(1.0), Value::Double(1.0));
  EXPECT_NE(Value::Double(1.0), Value::Double(1.5));
}

TEST(ValueEqualityTest, IntegerSignMatters) {
  EXPECT_NE(Value::UInt(0), Value::NegIntArg(0));  // 0 vs -1
  EXPECT_EQ(Value::Int(-1), Value::NegIntArg(0));
  EXPECT_EQ(Value::Int(5), Value::UInt(5));
}

TEST(ValueEqualityTest, NanEqualsNanAndSignedZerosAreEqual) {
  EXPECT_EQ(Value::Double(std::nan("")), Value::Double(std::nan("")));
  EXPECT_EQ(Value::Double(0.0), Value::Double(-0.0));
  EXPECT_NE(Value::Double(std::nan("")), Value::Double(0.0));
}

TEST(ValueEqualityTest, TupleAndArrayDiffer) {
  EXPECT_NE(Value::Tuple({Value::Int(1)}), Value::Array({Value::Int(1)}));
  EXPECT_NE(Value::Tuple(), Value::Array());
  EXPECT_EQ(Value::Tuple({Value::Int(1)}), Value::Tuple({Value::Int(1)}));
}

TEST(ValueEqualityTest, NullUndefinedFalseAndZeroAllDiffer) {
  const Value vals[] = {Value::Null(), Value::Undefined(), Value::Bool(false), Value::Int(0),
                        Value::Simple(0)};
  for (size_t i = 0; i < std::size(vals); ++i) {
    for (size_t j = 0; j < std::size(vals); ++j) {
      EXPECT_EQ(vals[i] == vals[j], i == j)
          << vals[i].ToDiagnostic() << " vs " << vals[j].ToDiagnostic();
    }
  }
}

TEST(ValueEqualityTest, ContainersCompareDeeplyAndByOrder) {
  Value a = Value::Array({Value::Int(1), Value::Tuple({Value::Bytes("x")})});
  Value b = Value::Array({Value::Int(1), Value::Tuple({Value::Bytes("x")})});
  Value c = Value::Array({Value::Int(1), Value::Tuple({Value::Text("x")})});
  Value d = Value::Array({Value::Tuple({Value::Bytes("x")}), Value::Int(1)});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  EXPECT_NE(a, Value::Array({Value::Int(1)}));
}

TEST(ValueEqualityTest, MapsCompareEntriesInOrderAndKeysByKind) {
  Value m1 = MapOf({{"a", Value::Int(1)}, {"b", Value::Int(2)}});
  Value m2 = MapOf({{"a", Value::Int(1)}, {"b", Value::Int(2)}});
  Value m3 = MapOf({{"b", Value::Int(2)}, {"a", Value::Int(1)}});
  Value m4 = Value::Map();
  m4.AppendEntry(Value::Text("a"), Value::Int(1));
  m4.AppendEntry(Value::Text("b"), Value::Int(2));
  EXPECT_EQ(m1, m2);
  EXPECT_NE(m1, m3);  // structural: insertion order is part of the value
  EXPECT_NE(m1, m4);  // byte keys vs text keys
  EXPECT_NE(Value::Map(), Value::Array());
}

TEST(ValueEqualityTest, TagsCompareNumberAndItem) {
  EXPECT_EQ(Value::Tag(1, Value::Int(2)), Value::Tag(1, Value::Int(2)));
  EXPECT_NE(Value::Tag(1, Value::Int(2)), Value::Tag(2, Value::Int(2)));
  EXPECT_NE(Value::Tag(1, Value::Int(2)), Value::Tag(1, Value::Int(3)));
  EXPECT_NE(Value::Tag(1, Value::Int(2)), Value::Int(2));
  EXPECT_NE(Value::Uuid(std::string(16, 'a')), Value::Bytes(std::string(16, 'a')));
  EXPECT_EQ(Value::Simple(5), Value::Simple(5));
  EXPECT_NE(Value::Simple(5), Value::Simple(6));
}

// ---------------------------------------------------------------------------------------------
// ToDiagnostic

TEST(ValueDiagnosticTest, ScalarsUseCborDiagnosticNotation) {
  EXPECT_EQ(Value::Null().ToDiagnostic(), "null");
  EXPECT_EQ(Value::Undefined().ToDiagnostic(), "undefined");
  EXPECT_EQ(Value::Bool(true).ToDiagnostic(), "true");
  EXPECT_EQ(Value::Bool(false).ToDiagnostic(), "false");
  EXPECT_EQ(Value::Int(23).ToDiagnostic(), "23");
  EXPECT_EQ(Value::Int(-25).ToDiagnostic(), "-25");
  EXPECT_EQ(Value::UInt(UINT64_MAX).ToDiagnostic(), "18446744073709551615");
  EXPECT_EQ(Value::NegIntArg(UINT64_MAX).ToDiagnostic(), "-18446744073709551616");
  EXPECT_EQ(Value::Double(1.5).ToDiagnostic(), "1.5");
  EXPECT_EQ(Value::Bytes("\x01\xff").ToDiagnostic(), "h'01ff'");
  EXPECT_EQ(Value::Text("a\"b\\c\n").ToDiagnostic(), "\"a\\\"b\\\\c\\u000a\"");
  EXPECT_EQ(Value::Simple(16).ToDiagnostic(), "simple(16)");
}

TEST(ValueDiagnosticTest, NestedValueRendersEveryLevel) {
  Value inner = Value::Map();
  inner.AppendEntry(Value::Int(1), Value::Int(2));
  inner.AppendEntry(Value::Text("t"), Value::Array({Value::Bool(true), Value::Null()}));
  Value v = MapOf({{"id", Value::Int(2)},
                   {"result", Value::Tuple({Value::Tuple({Value::Bytes("ws1"), inner}),
                                            Value::Uuid(std::string(16, '\0'))})}});
  EXPECT_EQ(v.ToDiagnostic(),
            "{h'6964': 2, h'726573756c74': 128([128([h'777331', {1: 2, \"t\": [true, null]}]), "
            "37(h'00000000000000000000000000000000')])}");
  EXPECT_EQ(Value::Tag(7, Value::Array()).ToDiagnostic(), "7([])");
  EXPECT_EQ(Value::Tuple().ToDiagnostic(), "128([])");
  EXPECT_EQ(Value::Map().ToDiagnostic(), "{}");
}

TEST(ValueDiagnosticTest, IntegralDoubleIsDistinguishableFromInt) {
  // RFC 8949 section 8: a floating-point number always has a decimal point or an exponent. expected
  // \"1.0\"";
  EXPECT_EQ(Value::Double(1.0).ToDiagnostic(), "1.0");
  EXPECT_NE(Value::Array({Value::Int(1)}).ToDiagnostic(),
            Value::Array({Value::Double(1.0)}).ToDiagnostic());
}

}  // namespace
}  // namespace coordinated
