// Unit tests for the CBOR codec (src/common/cbor.h): golden wire bytes from the reference
// behaviour (spec section 2.4), head-size boundaries, float widths, indefinite lengths, a random
// round-trip property, decoder limits and malformed input, and incremental StreamDecoder feeding.
#include "common/cbor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/value.h"

namespace coordinated {
namespace {

using Kind = Value::Kind;
using Result = StreamDecoder::Result;

// ---------------------------------------------------------------------------------------------
// Helpers

// "D8 18 58" -> bytes. Whitespace is ignored; anything else must be a hex digit.
std::string Hex(std::string_view hex) {
  std::string out;
  int hi = -1;
  for (char c : hex) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    const int d = std::isdigit(static_cast<unsigned char>(c))
                      ? c - '0'
                      : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    EXPECT_TRUE(d >= 0 && d < 16) << "bad hex digit in test vector: " << c;
    if (hi < 0) {
      hi = d;
    } else {
      out.push_back(static_cast<char>(hi << 4 | d));
      hi = -1;
    }
  }
  EXPECT_EQ(hi, -1) << "odd number of hex digits in test vector";
  return out;
}

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// The wire envelope: tag 24 over a byte string holding the encoded inner map.
Value Envelope(const Value& inner) {
  return Value::Tag(Value::kTagEncodedCbor, Value::Bytes(EncodeCbor(inner)));
}

// Encodes `v` and requires exactly `hex`; decodes `hex` and requires `v` back.
void ExpectCodec(const Value& v, std::string_view hex) {
  SCOPED_TRACE(v.ToDiagnostic());
  const std::string bytes = Hex(hex);
  EXPECT_EQ(ToHex(EncodeCbor(v)), ToHex(bytes));
  StatusOr<Value> back = DecodeCbor(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, v) << "decoded: " << back->ToDiagnostic();
  EXPECT_EQ(back->kind(), v.kind());
}

// Decodes `hex` and requires `want` (decode-only vectors such as non-preferred encodings).
void ExpectDecodes(std::string_view hex, const Value& want) {
  SCOPED_TRACE(hex);
  StatusOr<Value> got = DecodeCbor(Hex(hex));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, want) << "decoded: " << got->ToDiagnostic() << " want " << want.ToDiagnostic();
}

// Requires that decoding `bytes` fails with `code`.
void ExpectDecodeError(const std::string& bytes, Code code, const DecodeLimits& limits = {}) {
  SCOPED_TRACE(bytes.size() <= 64 ? ToHex(bytes) : ToHex(bytes.substr(0, 64)) + " ...");
  StatusOr<Value> got = DecodeCbor(bytes, limits);
  ASSERT_FALSE(got.ok()) << "unexpectedly decoded: " << got->ToDiagnostic();
  EXPECT_EQ(got.status().code(), code) << got.status().ToString();
}

// Unwraps a decoded envelope and decodes the inner message.
Value DecodeEnvelope(const std::string& bytes) {
  StatusOr<Value> outer = DecodeCbor(bytes);
  EXPECT_TRUE(outer.ok()) << outer.status().ToString();
  if (!outer.ok()) return Value();
  EXPECT_TRUE(outer->is_tag() && outer->tag() == Value::kTagEncodedCbor &&
              outer->tagged().is_bytes())
      << outer->ToDiagnostic();
  if (!outer->is_tag() || !outer->tagged().is_bytes()) return Value();
  StatusOr<Value> inner = DecodeCbor(outer->tagged().str());
  EXPECT_TRUE(inner.ok()) << inner.status().ToString();
  return inner.ok() ? *inner : Value();
}

// A message: golden envelope bytes and the inner map they carry.
struct Golden {
  const char* name;
  Value inner;
  const char* hex;  // the whole envelope
};

std::vector<Golden> SpecExamples() {
  std::vector<Golden> g;
  g.push_back({"count_work_units request",
               MapOf({{"id", Value::UInt(1)},
                      {"method", Value::Bytes("count_work_units")},
                      {"params", Value::Array({Value::Bytes("ws1")})}}),
               "D8 18 58 29 A3 42 69 64 01 46 6D 65 74 68 6F 64"
               " 50 63 6F 75 6E 74 5F 77 6F 72 6B 5F 75 6E 69 74 73"
               " 46 70 61 72 61 6D 73 81 43 77 73 31"});
  Value counts = Value::Map();
  counts.AppendEntry(Value::UInt(1), Value::UInt(2));
  counts.AppendEntry(Value::UInt(3), Value::UInt(1));
  g.push_back({"PY count_work_units response",
               MapOf({{"id", Value::UInt(1)}, {"result", Value::Tuple({counts, Value::Null()})}}),
               "D8 18 55 A2 42 69 64 01 46 72 65 73 75 6C 74 D8 80 82 A2 01 02 03 01 F6"});
  g.push_back({"GO count_work_units response",
               MapOf({{"id", Value::UInt(1)}, {"result", Value::Array({counts, Value::Null()})}}),
               "D8 18 53 A2 42 69 64 01 46 72 65 73 75 6C 74 82 A2 01 02 03 01 F6"});
  g.push_back(
      {"get_work request",
       MapOf({{"id", Value::UInt(2)},
              {"method", Value::Bytes("get_work")},
              {"params", Value::Array({Value::Bytes("worker-1"),
                                       MapOf({{"max_jobs", Value::UInt(1)},
                                              {"lease_time", Value::UInt(900)}})})}}),
       "D8 18 58 3F A3 42 69 64 02 46 6D 65 74 68 6F 64 48 67 65 74 5F 77 6F 72 6B 46 70 61 72 61"
       " 6D 73 82 48 77 6F 72 6B 65 72 2D 31 A2 48 6D 61 78 5F 6A 6F 62 73 01 4A 6C 65 61 73 65 5F"
       " 74 69 6D 65 19 03 84"});
  g.push_back(
      {"PY get_work response",
       MapOf({{"id", Value::UInt(2)},
              {"result", Value::Tuple({Value::Tuple({Value::Bytes("ws1"), Value::Bytes("wu1"),
                                                     MapOf({{"x", Value::UInt(1)}})}),
                                       Value::Null()})}}),
       "D8 18 58 1F A2 42 69 64 02 46 72 65 73 75 6C 74 D8 80 82 D8 80 83 43 77 73 31 43 77 75 31"
       " A1 41 78 01 F6"});
  g.push_back(
      {"error response",
       MapOf({{"id", Value::UInt(3)}, {"error", MapOf({{"message", Value::Bytes("boom")}})}}),
       "D8 18 58 19 A2 42 69 64 03 45 65 72 72 6F 72 A1 47 6D 65 73 73 61 67 65 44 62 6F 6F"
       " 6D"});
  return g;
}

// ---------------------------------------------------------------------------------------------
// Golden bytes (spec 2.4)

TEST(CborGoldenTest, SpecHexExamplesEncodeExactly) {
  for (const Golden& g : SpecExamples()) {
    SCOPED_TRACE(g.name);
    EXPECT_EQ(ToHex(EncodeCbor(Envelope(g.inner))), ToHex(Hex(g.hex)));
  }
}

TEST(CborGoldenTest, SpecHexExamplesDecodeToTheSameValues) {
  for (const Golden& g : SpecExamples()) {
    SCOPED_TRACE(g.name);
    StatusOr<Value> outer = DecodeCbor(Hex(g.hex));
    ASSERT_TRUE(outer.ok()) << outer.status().ToString();
    EXPECT_EQ(*outer, Envelope(g.inner));
    EXPECT_EQ(DecodeEnvelope(Hex(g.hex)), g.inner);
  }
}

TEST(CborGoldenTest, CountWorkUnitsInnerMapIs41Bytes) {
  const std::string inner = EncodeCbor(SpecExamples()[0].inner);
  EXPECT_EQ(inner.size(), 41u);
  EXPECT_EQ(ToHex(inner.substr(0, 1)), "A3");
}

TEST(CborGoldenTest, DecodedMessageKeysAreByteStringsAndTuplesSurvive) {
  const Value inner = DecodeEnvelope(Hex(SpecExamples()[4].hex));
  ASSERT_TRUE(inner.is_map());
  EXPECT_EQ(inner.key_at(0).kind(), Kind::kBytes);
  const Value* result = inner.FindKey("result");
  ASSERT_NE(result, nullptr);
  ASSERT_TRUE(result->is_tuple());
  ASSERT_EQ(result->items().size(), 2u);
  EXPECT_TRUE(result->items()[0].is_tuple());  // the nested tag 128
  EXPECT_TRUE(result->items()[1].is_null());
}

TEST(CborGoldenTest, GoEmptyTupleVector) { ExpectCodec(Value::Tuple(), "D8 80 80"); }

TEST(CborGoldenTest, GoUuidVector) {
  const std::string raw = Hex("00 11 22 33 44 55 46 77 88 99 AA BB CC DD EE FF");
  ExpectCodec(Value::Uuid(raw), "D8 25 50 00 11 22 33 44 55 46 77 88 99 AA BB CC DD EE FF");
}

TEST(CborGoldenTest, GoParamsListHoldingTupleWithTextKey) {
  const Value params = Value::Array({Value::Tuple({Value::Text("k"), Value::Map()})});
  ExpectCodec(params, "81 D8 80 82 61 6B A0");
  // And inside a whole PY-style request, the encoding ends with those bytes.
  const Value request = MapOf({{"id", Value::UInt(7)},
                               {"method", Value::Bytes("get_work_unit_status")},
                               {"params", params}});
  const std::string enc = EncodeCbor(Envelope(request));
  const std::string tail = Hex("81 D8 80 82 61 6B A0");
  ASSERT_GE(enc.size(), tail.size());
  EXPECT_EQ(ToHex(enc.substr(enc.size() - tail.size())), ToHex(tail));
  EXPECT_EQ(DecodeEnvelope(enc), request);
}

TEST(CborGoldenTest, RequestMapEntriesDecodeInAnyOfTheSixOrders) {
  const std::array<std::string, 3> entries = {
      Hex("42 69 64 01"),
      Hex("46 6D 65 74 68 6F 64 50 63 6F 75 6E 74 5F 77 6F 72 6B 5F 75 6E 69"
          " 74 73"),
      Hex("46 70 61 72 61 6D 73 81 43 77 73 31")};
  std::array<int, 3> order = {0, 1, 2};
  int permutations = 0;
  do {
    ++permutations;
    const std::string bytes = Hex("A3") + entries[order[0]] + entries[order[1]] + entries[order[2]];
    StatusOr<Value> m = DecodeCbor(bytes);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_EQ(m->map_size(), 3u);
    ASSERT_NE(m->FindKey("id"), nullptr);
    EXPECT_EQ(*m->FindKey("id"), Value::UInt(1));
    ASSERT_NE(m->FindKey("method"), nullptr);
    EXPECT_EQ(*m->FindKey("method"), Value::Bytes("count_work_units"));
    ASSERT_NE(m->FindKey("params"), nullptr);
    EXPECT_EQ(*m->FindKey("params"), Value::Array({Value::Bytes("ws1")}));
    // Insertion order is kept exactly as sent.
    EXPECT_EQ(EncodeCbor(*m), bytes);
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 6);
}

TEST(CborGoldenTest, TextKeysAndTextMessageFromGoDecode) {
  // GO sends a text "message" key and a text value inside the error map.
  const Value inner = MapOf({{"id", Value::UInt(3)}, {"error", Value::Map()}});
  Value with_text = inner;
  with_text.FindMutableKey("error")->AppendEntry(Value::Text("message"), Value::Text("boom"));
  const std::string enc = EncodeCbor(with_text);
  EXPECT_NE(enc.find(Hex("67 6D 65 73 73 61 67 65 64 62 6F 6F 6D")), std::string::npos)
      << ToHex(enc);
  StatusOr<Value> back = DecodeCbor(enc);
  ASSERT_TRUE(back.ok());
  const Value* err = back->FindKey("error");
  ASSERT_NE(err, nullptr);
  ASSERT_NE(err->FindKey("message"), nullptr);
  EXPECT_EQ(*err->FindKey("message"), Value::Text("boom"));
}

TEST(CborGoldenTest, SpecValueFixtureRoundTripsWithTypes) {
  // The value round-trip fixture of both reference suites (spec 2.3).
  const std::vector<std::pair<Value, const char*>> fixture = {
      {Value::Array({Value::Int(1), Value::Int(2), Value::Int(3)}), "83 01 02 03"},
      {Value::Tuple({Value::Int(4), Value::Int(5), Value::Int(6)}), "D8 80 83 04 05 06"},
      {Value::Array({Value::Int(1),
                     Value::Tuple({Value::Int(2), Value::Array({Value::Int(3), Value::Int(4)})})}),
       "82 01 D8 80 82 02 82 03 04"},
      {Value::Bytes("foo"), "43 66 6F 6F"},
      {Value::Text("foo"), "63 66 6F 6F"},
      {Value::Text("f\xc3\xbc"), "63 66 C3 BC"},
  };
  for (const auto& [v, hex] : fixture) ExpectCodec(v, hex);
}

TEST(CborEncodeTest, AppendingOverloadKeepsExistingContent) {
  std::string out = "xy";
  EncodeCbor(Value::UInt(1), &out);
  EncodeCbor(Value::Text("a"), &out);
  EXPECT_EQ(out, std::string("xy\x01\x61\x61"));
}

// ---------------------------------------------------------------------------------------------
// Integers, lengths and tags at every head-size boundary

TEST(CborIntegerTest, UnsignedHeadSizeBoundaries) {
  ExpectCodec(Value::UInt(0), "00");
  ExpectCodec(Value::UInt(23), "17");
  ExpectCodec(Value::UInt(24), "18 18");
  ExpectCodec(Value::UInt(255), "18 FF");
  ExpectCodec(Value::UInt(256), "19 01 00");
  ExpectCodec(Value::UInt(65535), "19 FF FF");
  ExpectCodec(Value::UInt(65536), "1A 00 01 00 00");
  ExpectCodec(Value::UInt(0xFFFFFFFFull), "1A FF FF FF FF");
  ExpectCodec(Value::UInt(0x100000000ull), "1B 00 00 00 01 00 00 00 00");
  ExpectCodec(Value::UInt(UINT64_MAX), "1B FF FF FF FF FF FF FF FF");
}

TEST(CborIntegerTest, NegativeHeadSizeBoundaries) {
  ExpectCodec(Value::Int(-1), "20");
  ExpectCodec(Value::Int(-24), "37");
  ExpectCodec(Value::Int(-25), "38 18");
  ExpectCodec(Value::Int(-256), "38 FF");
  ExpectCodec(Value::Int(-257), "39 01 00");
  ExpectCodec(Value::Int(-65536), "39 FF FF");
  ExpectCodec(Value::Int(-65537), "3A 00 01 00 00");
  ExpectCodec(Value::Int(-0x100000000ll), "3A FF FF FF FF");
  ExpectCodec(Value::Int(-0x100000001ll), "3B 00 00 00 01 00 00 00 00");
  ExpectCodec(Value::Int(std::numeric_limits<int64_t>::min()), "3B 7F FF FF FF FF FF FF FF");
  ExpectCodec(Value::NegIntArg(UINT64_MAX), "3B FF FF FF FF FF FF FF FF");  // -2^64
}

TEST(CborIntegerTest, NonPreferredIntegerHeadsDecodeToTheSameValue) {
  ExpectDecodes("18 00", Value::UInt(0));
  ExpectDecodes("19 00 17", Value::UInt(23));
  ExpectDecodes("1B 00 00 00 00 00 00 00 01", Value::UInt(1));
  ExpectDecodes("38 00", Value::Int(-1));
}

TEST(CborLengthTest, StringArrayMapAndTagHeadsUseShortestForm) {
  ExpectCodec(Value::Bytes(""), "40");
  ExpectCodec(Value::Text(""), "60");
  ExpectCodec(Value::Bytes(std::string(23, 'a')), "57" + Repeat(" 61", 23));
  ExpectCodec(Value::Text(std::string(24, 'a')), "78 18" + Repeat(" 61", 24));
  for (size_t n : {23u, 24u, 255u, 256u, 65535u, 65536u}) {
    SCOPED_TRACE(n);
    const std::string s(n, 'z');
    const std::string enc_b = EncodeCbor(Value::Bytes(s));
    const std::string enc_t = EncodeCbor(Value::Text(s));
    std::string head;
    if (n < 24) {
      head = Hex("57");
    } else if (n <= 255) {
      head = Hex("58") + std::string(1, static_cast<char>(n));
    } else if (n <= 65535) {
      head = Hex("59") + std::string{static_cast<char>(n >> 8), static_cast<char>(n & 255)};
    } else {
      head = Hex("5A 00 01 00 00");
    }
    EXPECT_EQ(ToHex(enc_b.substr(0, head.size())), ToHex(head));
    EXPECT_EQ(enc_b.size(), head.size() + n);
    EXPECT_EQ(static_cast<uint8_t>(enc_t[0]), static_cast<uint8_t>(head[0]) + 0x20);
    StatusOr<Value> back = DecodeCbor(enc_t);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, Value::Text(s));
  }
  ExpectCodec(Value::Array(std::vector<Value>(23, Value::UInt(0))), "97" + Repeat(" 00", 23));
  ExpectCodec(Value::Array(std::vector<Value>(24, Value::UInt(0))), "98 18" + Repeat(" 00", 24));
  ExpectCodec(Value::Tuple(std::vector<Value>(24, Value::Null())),
              "D8 80 98 18" + Repeat(" F6", 24));
  Value m = Value::Map();
  std::string m_hex = "B8 18";
  for (int i = 0; i < 24; ++i) {
    m.AppendEntry(Value::UInt(static_cast<uint64_t>(i)), Value::Null());
    m_hex += " " + ToHex(std::string(1, static_cast<char>(i))) + " F6";
  }
  ExpectCodec(m, m_hex);
  ExpectCodec(Value::Tag(23, Value::UInt(0)), "D7 00");
  ExpectCodec(Value::Tag(24, Value::UInt(0)), "D8 18 00");
  ExpectCodec(Value::Tag(255, Value::UInt(0)), "D8 FF 00");
  ExpectCodec(Value::Tag(256, Value::UInt(0)), "D9 01 00 00");
  ExpectCodec(Value::Tag(65536, Value::UInt(0)), "DA 00 01 00 00 00");
  ExpectCodec(Value::Tag(UINT64_MAX, Value::UInt(0)), "DB FF FF FF FF FF FF FF FF 00");
}

TEST(CborScalarTest, SimpleConstantsEncodeToTheirBytes) {
  ExpectCodec(Value::Bool(false), "F4");
  ExpectCodec(Value::Bool(true), "F5");
  ExpectCodec(Value::Null(), "F6");
  ExpectCodec(Value::Undefined(), "F7");
}

TEST(CborScalarTest, OtherSimpleValuesRoundTrip) {
  ExpectCodec(Value::Simple(16), "F0");
  ExpectCodec(Value::Simple(255), "F8 FF");
  // 20..23 are the named constants, so Simple(20) is false.
  EXPECT_EQ(Value::Simple(20), Value::Bool(false));
  EXPECT_FALSE(DecodeCbor(std::string("\xf8\x10", 2)).ok());  // two-byte form below 32
}

// ---------------------------------------------------------------------------------------------
// Floats

TEST(CborFloatTest, DoublesAlwaysEncodeAsEightBytes) {
  ExpectCodec(Value::Double(0.0), "FB 00 00 00 00 00 00 00 00");
  ExpectCodec(Value::Double(1.0), "FB 3F F0 00 00 00 00 00 00");
  ExpectCodec(Value::Double(1.5), "FB 3F F8 00 00 00 00 00 00");
  ExpectCodec(Value::Double(-4.0), "FB C0 10 00 00 00 00 00 00");
  ExpectCodec(Value::Double(100000.0), "FB 40 F8 6A 00 00 00 00 00");
  ExpectCodec(Value::Double(1.1), "FB 3F F1 99 99 99 99 99 9A");
  ExpectCodec(Value::Double(1e300), "FB 7E 37 E4 3C 88 00 75 9C");
  ExpectCodec(Value::Double(INFINITY), "FB 7F F0 00 00 00 00 00 00");
  ExpectCodec(Value::Double(-INFINITY), "FB FF F0 00 00 00 00 00 00");
  // A Unix time with a fractional part, as PY sends leases.
  ExpectCodec(Value::Double(1700000000.25), "FB 41 D9 54 FC 40 10 00 00");
}

TEST(CborFloatTest, NegativeZeroAndNanKeepTheirBits) {
  EXPECT_EQ(ToHex(EncodeCbor(Value::Double(-0.0))), "FB 80 00 00 00 00 00 00 00");
  StatusOr<Value> nz = DecodeCbor(Hex("FB 80 00 00 00 00 00 00 00"));
  ASSERT_TRUE(nz.ok());
  EXPECT_TRUE(std::signbit(nz->as_double()));
  const std::string nan = Hex("FB 7F F8 00 00 00 00 00 01");
  StatusOr<Value> n = DecodeCbor(nan);
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(n->is_double());
  EXPECT_TRUE(std::isnan(n->as_double()));
  EXPECT_EQ(ToHex(EncodeCbor(*n)), ToHex(nan));
}

TEST(CborFloatTest, HalfFloatsDecodeToDoubles) {
  ExpectDecodes("F9 00 00", Value::Double(0.0));
  ExpectDecodes("F9 3C 00", Value::Double(1.0));
  ExpectDecodes("F9 3E 00", Value::Double(1.5));
  ExpectDecodes("F9 C4 00", Value::Double(-4.0));
  ExpectDecodes("F9 7B FF", Value::Double(65504.0));
  ExpectDecodes("F9 00 01", Value::Double(5.960464477539063e-8));  // smallest subnormal
  ExpectDecodes("F9 04 00", Value::Double(0.00006103515625));
  ExpectDecodes("F9 7C 00", Value::Double(INFINITY));
  ExpectDecodes("F9 FC 00", Value::Double(-INFINITY));
  StatusOr<Value> nan = DecodeCbor(Hex("F9 7E 00"));
  ASSERT_TRUE(nan.ok());
  ASSERT_TRUE(nan->is_double());
  EXPECT_TRUE(std::isnan(nan->as_double()));
  StatusOr<Value> nz = DecodeCbor(Hex("F9 80 00"));
  ASSERT_TRUE(nz.ok());
  EXPECT_TRUE(nz->is_double() && std::signbit(nz->as_double()));
  // Re-encoding widens to FB.
  EXPECT_EQ(ToHex(EncodeCbor(*DecodeCbor(Hex("F9 3E 00")))), "FB 3F F8 00 00 00 00 00 00");
}

TEST(CborFloatTest, SingleFloatsDecodeToDoubles) {
  ExpectDecodes("FA 47 C3 50 00", Value::Double(100000.0));
  ExpectDecodes("FA 3F 80 00 00", Value::Double(1.0));
  ExpectDecodes("FA 3F C0 00 00", Value::Double(1.5));
  ExpectDecodes("FA 7F 7F FF FF", Value::Double(3.4028234663852886e+38));
  ExpectDecodes("FA 7F 80 00 00", Value::Double(INFINITY));
  ExpectDecodes("FA FF 80 00 00", Value::Double(-INFINITY));
  StatusOr<Value> nan = DecodeCbor(Hex("FA 7F C0 00 00"));
  ASSERT_TRUE(nan.ok());
  EXPECT_TRUE(nan->is_double() && std::isnan(nan->as_double()));
  EXPECT_EQ(ToHex(EncodeCbor(*DecodeCbor(Hex("FA 47 C3 50 00")))), "FB 40 F8 6A 00 00 00 00 00");
}

// ---------------------------------------------------------------------------------------------
// Indefinite lengths and tags

TEST(CborIndefiniteTest, ChunkedByteAndTextStringsDecode) {
  ExpectDecodes("5F 42 01 02 43 03 04 05 FF", Value::Bytes(Hex("01 02 03 04 05")));
  ExpectDecodes("5F FF", Value::Bytes(""));
  ExpectDecodes("5F 40 40 FF", Value::Bytes(""));
  ExpectDecodes("7F 65 73 74 72 65 61 64 6D 69 6E 67 FF", Value::Text("streaming"));
  ExpectDecodes("7F 61 66 62 C3 BC FF", Value::Text("f\xc3\xbc"));
  ExpectDecodes("7F FF", Value::Text(""));
  // Re-encoding is definite.
  EXPECT_EQ(ToHex(EncodeCbor(*DecodeCbor(Hex("5F 41 01 41 02 FF")))), "42 01 02");
}

TEST(CborIndefiniteTest, IndefiniteArraysAndMapsDecode) {
  ExpectDecodes("9F FF", Value::Array());
  ExpectDecodes("9F 01 82 02 03 9F 04 05 FF FF",
                Value::Array({Value::Int(1), Value::Array({Value::Int(2), Value::Int(3)}),
                              Value::Array({Value::Int(4), Value::Int(5)})}));
  ExpectDecodes("83 01 9F 02 03 FF 82 04 05",
                Value::Array({Value::Int(1), Value::Array({Value::Int(2), Value::Int(3)}),
                              Value::Array({Value::Int(4), Value::Int(5)})}));
  Value m = Value::Map();
  m.AppendEntry(Value::Text("a"), Value::Int(1));
  m.AppendEntry(Value::Text("b"), Value::Array({Value::Int(2), Value::Int(3)}));
  ExpectDecodes("BF 61 61 01 61 62 9F 02 03 FF FF", m);
  ExpectDecodes("BF FF", Value::Map());
  ExpectDecodes("D8 80 9F 01 02 FF", Value::Tuple({Value::Int(1), Value::Int(2)}));
  // Indefinite strings as map keys and inside tags.
  Value m2 = Value::Map();
  m2.AppendEntry(Value::Bytes("id"), Value::Uuid(std::string(16, '\x01')));
  ExpectDecodes(
      "BF 5F 41 69 41 64 FF D8 25 5F 48 01 01 01 01 01 01 01 01 48 01 01 01 01 01 01 01"
      " 01 FF FF",
      m2);
}

TEST(CborTagTest, NestedTagsRoundTrip) {
  ExpectCodec(
      Value::Tag(1, Value::Tag(256, Value::Tag(0x100000000ull, Value::Tuple({Value::UInt(0)})))),
      "C1 D9 01 00 DB 00 00 00 01 00 00 00 00 D8 80 81 00");
  // Tag 128 over a tuple stays a tag around the tuple.
  const Value t = Value::Tag(Value::kTagTuple, Value::Tuple());
  EXPECT_TRUE(t.is_tag());
  ExpectCodec(t, "D8 80 D8 80 80");
  // Tag 128 over a non-array is an ordinary tag.
  ExpectCodec(Value::Tag(Value::kTagTuple, Value::Map()), "D8 80 A0");
  // An envelope inside an envelope (PY unwraps tag 24 recursively).
  const Value inner = Value::Tag(24, Value::Bytes(Hex("01")));
  ExpectCodec(Value::Tag(24, Value::Bytes(EncodeCbor(inner))), "D8 18 44 D8 18 41 01");
  // A UUID used as a map key inside a tuple.
  Value m = Value::Map();
  m.AppendEntry(Value::Uuid(std::string(16, '\xff')), Value::Tuple());
  ExpectCodec(Value::Tuple({m}),
              "D8 80 81 A1 D8 25 50 FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF D8 80 80");
}

TEST(CborTagTest, TwoByteTagHeadsDecodeForEveryTagBelow256) {
  for (int t = 0; t < 256; ++t) {
    const std::string bytes = Hex("D8") + std::string(1, static_cast<char>(t)) + Hex("00");
    StatusOr<Value> v = DecodeCbor(bytes);
    ASSERT_TRUE(v.ok()) << ToHex(bytes) << ": " << v.status().ToString();
    if (t == 128) continue;  // 128 over a non-array is still a tag
    ASSERT_TRUE(v->is_tag());
    EXPECT_EQ(v->tag(), static_cast<uint64_t>(t));
  }
}

TEST(CborTagTest, EveryOneByteTagHeadDecodes) {
  for (int t : {0, 1, 2, 3, 4, 5, 21, 22, 23}) {
    ExpectCodec(Value::Tag(static_cast<uint64_t>(t), Value::UInt(0)),
                ToHex(std::string{static_cast<char>(0xC0 + t), '\0'}));
  }
  for (int t = 6; t <= 20; ++t) {
    ExpectCodec(Value::Tag(static_cast<uint64_t>(t), Value::UInt(0)),
                ToHex(std::string{static_cast<char>(0xC0 + t), '\0'}));
  }
}

// ---------------------------------------------------------------------------------------------
// Random round-trip property

class RandomValues {
 public:
  explicit RandomValues(uint64_t seed) : rng_(seed) {}

  Value Make(int depth) {
    // Containers get rarer as depth grows; depth 0 forces a scalar.
    const int kinds = depth > 0 ? 12 : 7;
    switch (Uniform(0, kinds - 1)) {
      case 0:
        return Uniform(0, 1) ? Value::Null() : Value::Undefined();
      case 1:
        return Value::Bool(Uniform(0, 1) == 1);
      case 2:
        return Value::UInt(Integer());
      case 3:
        return Value::NegIntArg(Integer());
      case 4:
        return Value::Double(Double());
      case 5:
        return Value::Bytes(ByteString());
      case 6:
        return Value::Text(TextString());
      case 7:
        return Value::Array(Items(depth));
      case 8:
        return Value::Tuple(Items(depth));
      case 9: {
        Value m = Value::Map();
        const int n = Uniform(0, 4);
        for (int i = 0; i < n; ++i) {
          // Keys of any kind; duplicates are legal and must survive.
          Value k = Uniform(0, 3) == 0 ? Make(depth - 1) : Value::Bytes(ByteString());
          m.AppendEntry(k, Make(depth - 1));
          if (Uniform(0, 9) == 0) m.AppendEntry(k, Make(depth - 1));
        }
        return m;
      }
      case 10: {
        static constexpr uint64_t kTags[] = {
            23, 24, 37, 128, 255, 256, 65535, 65536, 0xFFFFFFFFull, 0x100000000ull, UINT64_MAX};
        // Tags 6..20 are left out: they do not decode (see EveryOneByteTagHeadDecodes).
        const uint64_t tag = Uniform(0, 2) == 0 ? static_cast<uint64_t>(Uniform(0, 5))
                                                : kTags[Uniform(0, std::size(kTags) - 1)];
        return Value::Tag(tag, Make(depth - 1));
      }
      default:
        return Value::Uuid(Raw(16));
    }
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  uint64_t Integer() {
    static constexpr uint64_t kEdges[] = {0,
                                          1,
                                          23,
                                          24,
                                          255,
                                          256,
                                          65535,
                                          65536,
                                          0xFFFFFFFFull,
                                          0x100000000ull,
                                          0x7FFFFFFFFFFFFFFFull,
                                          UINT64_MAX};
    switch (Uniform(0, 2)) {
      case 0:
        return kEdges[Uniform(0, std::size(kEdges) - 1)];
      case 1:
        return static_cast<uint64_t>(Uniform(0, 1000));
      default:
        return rng_() >> Uniform(0, 63);
    }
  }

  double Double() {
    static constexpr double kSpecial[] = {0.0,   -0.0,     1.0,       -1.5, 1e-310,
                                          1e308, INFINITY, -INFINITY, NAN};
    if (Uniform(0, 3) == 0) return kSpecial[Uniform(0, std::size(kSpecial) - 1)];
    const uint64_t bits = rng_();  // any bit pattern, NaN payloads and subnormals included
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }

  std::string Raw(size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(Uniform(0, 255));
    return s;
  }

  size_t Length() {
    switch (Uniform(0, 9)) {
      case 0:
        return static_cast<size_t>(Uniform(23, 300));  // crosses the 1-byte length heads
      case 1:
        return 0;
      default:
        return static_cast<size_t>(Uniform(1, 12));
    }
  }

  std::string ByteString() { return Raw(Length()); }

  std::string TextString() {
    static const char* const kPieces[] = {
        "a", "Z", " ", "\"", "\\", "\n", "\xc3\xbc", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "0"};
    std::string s;
    const size_t n = Length();
    while (s.size() < n) s += kPieces[Uniform(0, std::size(kPieces) - 1)];
    return s;
  }

  std::vector<Value> Items(int depth) {
    std::vector<Value> items;
    const int n = Uniform(0, 9) == 0 ? Uniform(20, 40) : Uniform(0, 4);
    for (int i = 0; i < n; ++i) items.push_back(Make(depth - 1));
    return items;
  }

  std::mt19937_64 rng_;
};

// One seed per test run, random unless COORD_TEST_SEED is set; the tests print it.
uint64_t TestSeed() {
  static const uint64_t seed = []() -> uint64_t {
    if (const char* env = std::getenv("COORD_TEST_SEED")) return std::strtoull(env, nullptr, 10);
    return (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  }();
  return seed;
}

void CollectKinds(const Value& v, std::set<Kind>* kinds) {
  kinds->insert(v.kind());
  for (const Value& it : v.items()) CollectKinds(it, kinds);
}

TEST(CborPropertyTest, RandomNestedValuesRoundTrip) {
  const uint64_t seed = TestSeed();
  std::cout << "[   SEED   ] CborPropertyTest seed=" << seed
            << " (rerun with COORD_TEST_SEED=" << seed << ")\n";
  SCOPED_TRACE("seed=" + std::to_string(seed));
  RandomValues gen(seed);
  std::set<Kind> kinds;
  size_t total_bytes = 0;
  for (int i = 0; i < 2000; ++i) {
    const Value v = gen.Make(i % 6);
    CollectKinds(v, &kinds);
    const std::string enc = EncodeCbor(v);
    total_bytes += enc.size();
    StatusOr<Value> back = DecodeCbor(enc);
    ASSERT_TRUE(back.ok()) << "value #" << i << ": " << back.status().ToString() << "\n"
                           << v.ToDiagnostic();
    ASSERT_EQ(*back, v) << "value #" << i << "\nwant " << v.ToDiagnostic() << "\ngot  "
                        << back->ToDiagnostic();
    // Byte-exact too: catches what == forgives (the sign of zero, NaN payloads).
    ASSERT_EQ(ToHex(EncodeCbor(*back)), ToHex(enc)) << "value #" << i;
  }
  // Every kind the decoder can produce appeared (kSimple cannot: see OtherSimpleValuesRoundTrip).
  for (Kind k :
       {Kind::kNull, Kind::kUndefined, Kind::kBool, Kind::kUInt, Kind::kNegInt, Kind::kDouble,
        Kind::kBytes, Kind::kText, Kind::kArray, Kind::kTuple, Kind::kMap, Kind::kTag}) {
    EXPECT_TRUE(kinds.count(k)) << "kind " << static_cast<int>(k) << " never generated";
  }
  EXPECT_GT(total_bytes, 10000u);
}

// ---------------------------------------------------------------------------------------------
// Decoder limits

std::string NestedArrays(size_t n, std::string_view innermost) {
  return std::string(n - 1, '\x81') + std::string(innermost);
}

TEST(CborLimitsTest, DepthOf64IsAcceptedAnd65IsRefused) {
  // n arrays, the innermost holding one integer.
  const std::string ok = std::string(64, '\x81') + Hex("00");
  StatusOr<Value> v = DecodeCbor(ok);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  int depth = 0;
  for (const Value* p = &*v; p->is_array(); p = &p->items()[0]) ++depth;
  EXPECT_EQ(depth, 64);
  ExpectDecodeError(std::string(65, '\x81') + Hex("00"), Code::kResourceExhausted);
  // Indefinite arrays count the same.
  ExpectDecodeError(std::string(65, '\x9f'), Code::kResourceExhausted);
  ExpectDecodeError(std::string(1000, '\x81'), Code::kResourceExhausted);
}

TEST(CborLimitsTest, DepthCountsEmptyInnermostContainer) {
  EXPECT_TRUE(DecodeCbor(NestedArrays(64, Hex("80"))).ok());
  ExpectDecodeError(NestedArrays(65, Hex("80")), Code::kResourceExhausted);
  ExpectDecodeError(NestedArrays(65, Hex("A0")), Code::kResourceExhausted);
}

TEST(CborLimitsTest, TagsAndMapsCountTowardDepth) {
  EXPECT_TRUE(DecodeCbor(std::string(64, '\xc1') + Hex("00")).ok());
  ExpectDecodeError(std::string(65, '\xc1') + Hex("00"), Code::kResourceExhausted);
  std::string maps;
  for (int i = 0; i < 65; ++i) maps += Hex("A1 00");
  ExpectDecodeError(maps + Hex("00"), Code::kResourceExhausted);
  DecodeLimits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(DecodeCbor(Hex("81 C1 A1 00 00"), limits).ok());
  ExpectDecodeError(Hex("81 C1 A1 00 81 00"), Code::kResourceExhausted, limits);
  ExpectDecodeError(Hex("9F C1 BF 00 9F FF FF FF"), Code::kResourceExhausted, limits);
}

TEST(CborLimitsTest, HugeStringHeadIsRefusedBeforeItsPayload) {
  for (const char* head : {"5B 40 00 00 00 00 00 00 00", "7B 40 00 00 00 00 00 00 00",
                           "5B FF FF FF FF FF FF FF FF", "5A FF FF FF FF"}) {
    SCOPED_TRACE(head);
    const std::string bytes = Hex(head);
    StreamDecoder dec;
    size_t consumed = 99;
    // Only the head is available: the decoder must not wait for (or allocate) the payload.
    EXPECT_EQ(dec.Feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &consumed),
              Result::kError);
    EXPECT_EQ(dec.error().code(), Code::kResourceExhausted) << dec.error().ToString();
    ExpectDecodeError(bytes, Code::kResourceExhausted);
  }
  // Also when nested, and when the head arrives in pieces.
  ExpectDecodeError(Hex("82 01 5B 40 00 00 00 00 00 00 00"), Code::kResourceExhausted);
  const std::string bytes = Hex("81 5B 40 00 00 00 00 00 00 00");
  StreamDecoder dec;
  size_t consumed = 0;
  EXPECT_EQ(dec.Feed(reinterpret_cast<const uint8_t*>(bytes.data()), 4, &consumed),
            Result::kNeedMore);
  EXPECT_EQ(consumed, 1u);  // the array head; the string head is incomplete
  EXPECT_EQ(
      dec.Feed(reinterpret_cast<const uint8_t*>(bytes.data()) + 1, bytes.size() - 1, &consumed),
      Result::kError);
  EXPECT_EQ(dec.error().code(), Code::kResourceExhausted);
}

TEST(CborLimitsTest, HugeArrayOrMapCountIsRefusedAtTheHead) {
  ExpectDecodeError(Hex("9B 00 00 01 00 00 00 00 00"), Code::kResourceExhausted);  // 2^40
  ExpectDecodeError(Hex("BB 00 00 01 00 00 00 00 00"), Code::kResourceExhausted);
  ExpectDecodeError(Hex("BB 80 00 00 00 00 00 00 00"), Code::kResourceExhausted);  // 2^63
  ExpectDecodeError(Hex("9B FF FF FF FF FF FF FF FF"), Code::kResourceExhausted);
  ExpectDecodeError(Hex("81 9A FF FF FF FF"), Code::kResourceExhausted);
}

TEST(CborLimitsTest, MaxItemsCapsDecodedItems) {
  DecodeLimits limits;
  limits.max_items = 11;  // an array of ten is eleven data items: the array counts too
  std::string ten = Hex("8A") + std::string(10, '\0');
  EXPECT_TRUE(DecodeCbor(ten, limits).ok());
  // A declared count over the cap is refused at the head.
  ExpectDecodeError(Hex("8C"), Code::kResourceExhausted, limits);
  ExpectDecodeError(Hex("A6"), Code::kResourceExhausted, limits);  // 12 keys and values
  // Items spread over several containers add up.
  ExpectDecodeError(Hex("84 83 00 00 00 83 00 00 00 83 00 00 00 83 00 00 00"),
                    Code::kResourceExhausted, limits);
  // Indefinite containers and string chunks are counted as they arrive.
  ExpectDecodeError(Hex("9F") + std::string(11, '\0') + Hex("FF"), Code::kResourceExhausted,
                    limits);
  ExpectDecodeError(Hex("5F") + std::string(11, '\x40') + Hex("FF"), Code::kResourceExhausted,
                    limits);
  // The budget is per top-level item: a decoder that finished one item starts afresh.
  StreamDecoder dec(limits);
  const std::string two = ten + ten;
  size_t consumed = 0;
  ASSERT_EQ(dec.Feed(reinterpret_cast<const uint8_t*>(two.data()), two.size(), &consumed),
            Result::kDone);
  EXPECT_EQ(consumed, ten.size());
  dec.TakeValue();
  EXPECT_EQ(
      dec.Feed(reinterpret_cast<const uint8_t*>(two.data()) + consumed, ten.size(), &consumed),
      Result::kDone);
}

TEST(CborLimitsTest, MaxItemsCountsNonEmptyContainers) {
  DecodeLimits limits;
  limits.max_items = 10;
  ExpectDecodeError(std::string(50, '\x81') + Hex("00"), Code::kResourceExhausted, limits);
}

TEST(CborLimitsTest, MaxBytesCapsOneItem) {
  DecodeLimits limits;
  limits.max_bytes = 16;
  // A 16-byte item fits exactly; 17 bytes do not.
  EXPECT_TRUE(DecodeCbor(Hex("4F") + std::string(15, 'x'), limits).ok());
  ExpectDecodeError(Hex("50") + std::string(16, 'x'), Code::kResourceExhausted, limits);
  // Refused from the string head alone.
  ExpectDecodeError(Hex("50"), Code::kResourceExhausted, limits);
  ExpectDecodeError(Hex("79 10 00"), Code::kResourceExhausted, limits);
  // Many small items.
  EXPECT_TRUE(DecodeCbor(Hex("8F") + std::string(15, '\0'), limits).ok());
  ExpectDecodeError(Hex("90") + std::string(16, '\0'), Code::kResourceExhausted, limits);
  ExpectDecodeError(Hex("9F") + std::string(20, '\0') + Hex("FF"), Code::kResourceExhausted,
                    limits);
  // Large integer heads count with all their bytes.
  ExpectDecodeError(Hex("83 1B 00 00 00 00 00 00 00 01 1B 00 00 00 00 00 00 00 01 00"),
                    Code::kResourceExhausted, limits);
  // The budget is per top-level item.
  const std::string item = Hex("4F") + std::string(15, 'x');
  const std::string two = item + item;
  StreamDecoder dec(limits);
  size_t consumed = 0;
  ASSERT_EQ(dec.Feed(reinterpret_cast<const uint8_t*>(two.data()), two.size(), &consumed),
            Result::kDone);
  EXPECT_EQ(consumed, 16u);
  dec.TakeValue();
  EXPECT_EQ(dec.Feed(reinterpret_cast<const uint8_t*>(two.data()) + 16, 16, &consumed),
            Result::kDone);
  EXPECT_EQ(dec.TakeValue(), Value::Bytes(std::string(15, 'x')));
}

// ---------------------------------------------------------------------------------------------
// Malformed input

TEST(CborMalformedTest, EveryTruncationOfAValidItemIsInvalidArgument) {
  std::vector<std::string> items;
  for (const Golden& g : SpecExamples()) items.push_back(Hex(g.hex));
  items.push_back(Hex("1B FF FF FF FF FF FF FF FF"));
  items.push_back(Hex("FB 3F F8 00 00 00 00 00 00"));
  items.push_back(Hex("BF 61 61 01 61 62 9F 02 03 FF FF"));
  items.push_back(Hex("5F 42 01 02 43 03 04 05 FF"));
  for (const std::string& item : items) {
    for (size_t n = 0; n < item.size(); ++n) {
      SCOPED_TRACE("prefix of " + std::to_string(n) + " bytes of " + ToHex(item));
      StatusOr<Value> got = DecodeCbor(std::string_view(item).substr(0, n));
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.status().code(), Code::kInvalidArgument) << got.status().ToString();
    }
    EXPECT_TRUE(DecodeCbor(item).ok());
  }
}

TEST(CborMalformedTest, TrailingBytesAreRefused) {
  ExpectDecodeError(Hex("01 02"), Code::kInvalidArgument);
  ExpectDecodeError(Hex("80 00"), Code::kInvalidArgument);
  ExpectDecodeError(Hex(SpecExamples()[0].hex) + Hex("F6"), Code::kInvalidArgument);
}

TEST(CborMalformedTest, UnexpectedBreakIsRefused) {
  ExpectDecodeError(Hex("FF"), Code::kInvalidArgument);
  ExpectDecodeError(Hex("81 FF"), Code::kInvalidArgument);        // in a definite array
  ExpectDecodeError(Hex("A1 01 FF"), Code::kInvalidArgument);     // a definite map's value
  ExpectDecodeError(Hex("C1 FF"), Code::kInvalidArgument);        // a tag's item
  ExpectDecodeError(Hex("9F 81 FF FF"), Code::kInvalidArgument);  // definite inside indefinite
  ExpectDecodeError(Hex("BF 01 FF"), Code::kInvalidArgument);     // a key without a value
}

TEST(CborMalformedTest, ReservedAdditionalInfoIsRefused) {
  for (uint8_t major = 0; major < 8; ++major) {
    for (uint8_t ai = 28; ai <= 30; ++ai) {
      ExpectDecodeError(std::string(1, static_cast<char>(major << 5 | ai)) + Hex("00 00 00 00"),
                        Code::kInvalidArgument);
    }
  }
  // Indefinite length is not defined for integers and tags.
  for (const char* b : {"1F", "3F", "DF 00"}) ExpectDecodeError(Hex(b), Code::kInvalidArgument);
}

TEST(CborMalformedTest, WrongChunksInIndefiniteStringsAreRefused) {
  ExpectDecodeError(Hex("5F 61 61 FF"), Code::kInvalidArgument);  // text chunk in bytes
  ExpectDecodeError(Hex("7F 41 61 FF"), Code::kInvalidArgument);  // byte chunk in text
  ExpectDecodeError(Hex("5F 01 FF"), Code::kInvalidArgument);     // an integer chunk
  ExpectDecodeError(Hex("5F 80 FF"), Code::kInvalidArgument);     // an array chunk
  ExpectDecodeError(Hex("5F 9F FF FF"), Code::kInvalidArgument);
  ExpectDecodeError(Hex("5F A0 FF"), Code::kInvalidArgument);
  ExpectDecodeError(Hex("5F C1 41 00 FF"), Code::kInvalidArgument);     // a tagged chunk
  ExpectDecodeError(Hex("5F 5F 41 00 FF FF"), Code::kInvalidArgument);  // nested indefinite
  ExpectDecodeError(Hex("5F F6 FF"), Code::kInvalidArgument);
}

TEST(CborMalformedTest, ErrorIsStickyInStreamDecoder) {
  const std::string bad = Hex("FF 01");
  StreamDecoder dec;
  size_t consumed = 0;
  EXPECT_EQ(dec.Feed(reinterpret_cast<const uint8_t*>(bad.data()), bad.size(), &consumed),
            Result::kError);
  EXPECT_EQ(dec.error().code(), Code::kInvalidArgument);
  const std::string good = Hex("01");
  EXPECT_EQ(dec.Feed(reinterpret_cast<const uint8_t*>(good.data()), good.size(), &consumed),
            Result::kError);
  EXPECT_EQ(consumed, 0u);
}

// ---------------------------------------------------------------------------------------------
// StreamDecoder incremental feeding

// Plays the role of a connection: receives chunks, keeps unconsumed bytes, re-feeds them with
// new data appended, and checks every item and its exact byte count.
class StreamHarness {
 public:
  StreamHarness() = default;

  void Receive(std::string_view chunk) {
    pending_.append(chunk.data(), chunk.size());
    while (true) {
      size_t consumed = SIZE_MAX;
      const Result r =
          dec_.Feed(reinterpret_cast<const uint8_t*>(pending_.data()), pending_.size(), &consumed);
      ASSERT_NE(r, Result::kError) << dec_.error().ToString();
      ASSERT_LE(consumed, pending_.size());
      current_item_bytes_ += consumed;
      pending_.erase(0, consumed);
      if (r == Result::kNeedMore) {
        EXPECT_EQ(dec_.item_bytes(), current_item_bytes_);
        return;
      }
      values_.push_back(dec_.TakeValue());
      sizes_.push_back(current_item_bytes_);
      current_item_bytes_ = 0;
      EXPECT_EQ(dec_.item_bytes(), 0u);
    }
  }

  const std::vector<Value>& values() const { return values_; }
  const std::vector<size_t>& sizes() const { return sizes_; }
  size_t pending() const { return pending_.size(); }

 private:
  StreamDecoder dec_;
  std::string pending_;
  size_t current_item_bytes_ = 0;
  std::vector<Value> values_;
  std::vector<size_t> sizes_;
};

std::vector<Value> StreamItems(uint64_t seed) {
  std::vector<Value> items;
  for (const Golden& g : SpecExamples()) items.push_back(Envelope(g.inner));
  items.push_back(Value::UInt(0));  // one-byte items between larger ones
  items.push_back(Value::Text(std::string(300, 't')));
  items.push_back(Value::Tuple());
  RandomValues gen(seed);
  for (int i = 0; i < 40; ++i) items.push_back(gen.Make(4));
  items.push_back(Value::Array({Value::Bytes(std::string(70000, 'b'))}));
  items.push_back(Value::Double(0.5));
  return items;
}

void ExpectStream(const StreamHarness& h, const std::vector<Value>& items) {
  ASSERT_EQ(h.values().size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(h.values()[i], items[i]) << "item #" << i;
    EXPECT_EQ(h.sizes()[i], EncodeCbor(items[i]).size()) << "item #" << i;
  }
  EXPECT_EQ(h.pending(), 0u);
}

TEST(StreamDecoderTest, OneByteAtATime) {
  const uint64_t seed = TestSeed();
  std::cout << "[   SEED   ] StreamDecoderTest.OneByteAtATime seed=" << seed << "\n";
  SCOPED_TRACE("seed=" + std::to_string(seed));
  const std::vector<Value> items = StreamItems(seed);
  std::string stream;
  for (const Value& v : items) EncodeCbor(v, &stream);
  StreamHarness h;
  for (char c : stream) {
    h.Receive(std::string_view(&c, 1));
    if (testing::Test::HasFatalFailure()) return;
  }
  ExpectStream(h, items);
}

TEST(StreamDecoderTest, RandomChunkSizes) {
  const uint64_t seed = TestSeed();
  std::cout << "[   SEED   ] StreamDecoderTest.RandomChunkSizes seed=" << seed << "\n";
  SCOPED_TRACE("seed=" + std::to_string(seed));
  const std::vector<Value> items = StreamItems(seed);
  std::string stream;
  for (const Value& v : items) EncodeCbor(v, &stream);
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  for (int round = 0; round < 20; ++round) {
    StreamHarness h;
    const size_t max_chunk = size_t{1} << (round % 12);
    for (size_t off = 0; off < stream.size();) {
      const size_t n =
          std::min(stream.size() - off, std::uniform_int_distribution<size_t>(1, max_chunk)(rng));
      h.Receive(std::string_view(stream).substr(off, n));
      if (testing::Test::HasFatalFailure()) return;
      off += n;
    }
    SCOPED_TRACE("round " + std::to_string(round));
    ExpectStream(h, items);
  }
}

TEST(StreamDecoderTest, PipelinedItemsComeOutOneAfterTheOther) {
  const std::string a = EncodeCbor(Envelope(SpecExamples()[0].inner));
  const std::string b = EncodeCbor(Envelope(SpecExamples()[3].inner));
  const std::string buf = a + b;
  const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
  StreamDecoder dec;
  size_t consumed = 0;
  ASSERT_EQ(dec.Feed(p, buf.size(), &consumed), Result::kDone);
  EXPECT_EQ(consumed, a.size());
  EXPECT_EQ(dec.item_bytes(), a.size());
  EXPECT_EQ(dec.TakeValue(), Envelope(SpecExamples()[0].inner));
  EXPECT_EQ(dec.item_bytes(), 0u);
  ASSERT_EQ(dec.Feed(p + a.size(), buf.size() - a.size(), &consumed), Result::kDone);
  EXPECT_EQ(consumed, b.size());
  EXPECT_EQ(dec.TakeValue(), Envelope(SpecExamples()[3].inner));
  EXPECT_EQ(dec.Feed(p + buf.size(), 0, &consumed), Result::kNeedMore);
  EXPECT_EQ(consumed, 0u);
}

TEST(StreamDecoderTest, NeedMoreConsumesOnlyCompleteHeads) {
  // [900]: 81 19 03 84. The array head is absorbed; the partial integer head is not.
  const std::string bytes = Hex("81 19 03 84");
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  StreamDecoder dec;
  size_t consumed = 99;
  ASSERT_EQ(dec.Feed(p, 3, &consumed), Result::kNeedMore);
  EXPECT_EQ(consumed, 1u);
  EXPECT_EQ(dec.item_bytes(), 1u);
  ASSERT_EQ(dec.Feed(p + 1, 3, &consumed), Result::kDone);
  EXPECT_EQ(consumed, 3u);
  EXPECT_EQ(dec.TakeValue(), Value::Array({Value::UInt(900)}));
}

TEST(StreamDecoderTest, PartialStringIsNotConsumedUntilComplete) {
  const std::string bytes = Hex("82 43 61 62 63 01");
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  StreamDecoder dec;
  size_t consumed = 0;
  ASSERT_EQ(dec.Feed(p, 4, &consumed), Result::kNeedMore);
  EXPECT_EQ(consumed, 1u);
  ASSERT_EQ(dec.Feed(p + 1, 4, &consumed), Result::kNeedMore);
  EXPECT_EQ(consumed, 4u);
  ASSERT_EQ(dec.Feed(p + 5, 1, &consumed), Result::kDone);
  EXPECT_EQ(consumed, 1u);
  EXPECT_EQ(dec.TakeValue(), Value::Array({Value::Bytes("abc"), Value::UInt(1)}));
}

TEST(StreamDecoderTest, EmptyFeedNeedsMore) {
  StreamDecoder dec;
  size_t consumed = 5;
  EXPECT_EQ(dec.Feed(nullptr, 0, &consumed), Result::kNeedMore);
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(dec.item_bytes(), 0u);
}

}  // namespace
}  // namespace coordinated
