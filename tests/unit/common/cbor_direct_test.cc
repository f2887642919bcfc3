// Unit tests for the direct CBOR decoder (src/common/cbor_direct.h): whatever it decodes, the
// head-by-head StreamDecoder path decodes to the same value and byte count, and everything
// else comes out of DecodeCbor and StreamDecoder exactly as before (same result, same error).
// Inputs: every half float, every first byte, random well-formed and mutated byte strings in
// every wire form (non-shortest heads, indefinite lengths, all tags and simple values), small
// limits at their boundaries, and nesting deeper than the direct decoder recurses.
#include "common/cbor_direct.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/cbor.h"
#include "common/value.h"

namespace coordinated {
namespace {

using Result = StreamDecoder::Result;

// Value equality that also tells NaNs apart by their bits (operator== treats all NaNs alike).
bool SameBits(const Value& a, const Value& b) { return a == b && EncodeCbor(a) == EncodeCbor(b); }

struct Outcome {
  Result result = Result::kNeedMore;
  size_t consumed = 0;
  size_t item_bytes = 0;  // StreamDecoder::item_bytes() after the Feed
  Value value;
  Status error;
};

Outcome Feed(std::string_view bytes, const DecodeLimits& limits, bool direct) {
  StreamDecoder dec(limits);
  dec.set_direct(direct);
  Outcome o;
  o.result = dec.Feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &o.consumed);
  o.item_bytes = dec.item_bytes();
  if (o.result == Result::kDone) o.value = dec.TakeValue();
  if (o.result == Result::kError) o.error = dec.error();
  return o;
}

// The direct path changes nothing observable: StreamDecoder::Feed and DecodeCbor give the same
// outcome with and without it. Returns whether DecodeDirect itself decoded the input.
bool ExpectSameAsStreaming(std::string_view bytes, const DecodeLimits& limits) {
  const Outcome fast = Feed(bytes, limits, true);
  const Outcome slow = Feed(bytes, limits, false);
  const std::string hex = [&] {
    std::string h;
    for (unsigned char c : bytes) h += "0123456789abcdef"[c >> 4], h += "0123456789abcdef"[c & 15];
    return h;
  }();
  EXPECT_EQ(fast.result, slow.result) << hex;
  EXPECT_EQ(fast.consumed, slow.consumed) << hex;
  EXPECT_EQ(fast.item_bytes, slow.item_bytes) << hex;
  EXPECT_TRUE(SameBits(fast.value, slow.value))
      << hex << ": " << fast.value.ToDiagnostic() << " vs " << slow.value.ToDiagnostic();
  EXPECT_EQ(fast.error.code(), slow.error.code()) << hex;
  EXPECT_EQ(fast.error.message(), slow.error.message()) << hex;

  const auto whole_fast = DecodeCbor(bytes, limits, true);
  const auto whole_slow = DecodeCbor(bytes, limits, false);
  EXPECT_EQ(whole_fast.ok(), whole_slow.ok()) << hex;
  if (whole_fast.ok() && whole_slow.ok()) {
    EXPECT_TRUE(SameBits(*whole_fast, *whole_slow)) << hex;
  } else if (!whole_fast.ok() && !whole_slow.ok()) {
    EXPECT_EQ(whole_fast.status().code(), whole_slow.status().code()) << hex;
    EXPECT_EQ(whole_fast.status().message(), whole_slow.status().message()) << hex;
  }

  Value direct;
  size_t n = 0;
  const bool took = DecodeDirect(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                 limits, &direct, &n);
  if (took) {
    EXPECT_EQ(slow.result, Result::kDone) << hex;
    EXPECT_EQ(n, slow.consumed) << hex;
    EXPECT_TRUE(SameBits(direct, slow.value)) << hex;
  }
  return took;
}

// Random CBOR in every wire form: heads of every size (including non-shortest ones), definite
// and indefinite strings, arrays and maps, tags, floats of three widths and simple values.
class RandomCbor {
 public:
  explicit RandomCbor(uint64_t seed) : rng_(seed) {}

  std::string Item(int depth) {
    std::string out;
    AppendItem(&out, depth);
    return out;
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  uint64_t Below(uint64_t n) { return rng_() % n; }

  // A head with the given major type and argument, in a random width that can hold it.
  void Head(std::string* out, uint8_t major, uint64_t arg) {
    int width = static_cast<int>(Below(5));  // 0: in the first byte, 1..4: 1/2/4/8 bytes
    if (width == 0 && arg >= 24) width = 1;
    const int min_width = arg > 0xffffffffull ? 4 : arg > 0xffff ? 3 : arg > 0xff ? 2 : 1;
    if (width > 0 && width < min_width) width = min_width;
    if (width == 0) {
      out->push_back(static_cast<char>((major << 5) | arg));
      return;
    }
    const int bytes = 1 << (width - 1);
    out->push_back(static_cast<char>((major << 5) | (23 + width)));
    for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>(arg >> (8 * i)));
  }

  uint64_t SmallOrLarge() {
    switch (Below(4)) {
      case 0:
        return Below(24);
      case 1:
        return Below(256);
      case 2:
        return Below(70000);
      default:
        return rng_();
    }
  }

  void AppendItem(std::string* out, int depth) {
    const uint64_t pick = Below(depth > 0 ? 12 : 8);
    switch (pick) {
      case 0:
      case 1:
        Head(out, static_cast<uint8_t>(pick), SmallOrLarge());
        return;
      case 2:
      case 3: {  // a string, sometimes in indefinite chunks
        const size_t len = Below(12);
        if (Below(6) == 0) {
          out->push_back(static_cast<char>((pick << 5) | 31));
          for (uint64_t c = Below(3); c > 0; --c) {
            Head(out, static_cast<uint8_t>(pick), len);
            for (size_t i = 0; i < len; ++i) out->push_back(static_cast<char>('a' + Below(26)));
          }
          out->push_back(static_cast<char>(0xff));
          return;
        }
        Head(out, static_cast<uint8_t>(pick), len);
        for (size_t i = 0; i < len; ++i) out->push_back(static_cast<char>(Below(256)));
        return;
      }
      case 4: {  // a float of a random width with random bits
        const uint8_t width = static_cast<uint8_t>(25 + Below(3));
        out->push_back(static_cast<char>(0xe0 | width));
        for (int i = 0; i < (1 << (width - 24)); ++i) out->push_back(static_cast<char>(Below(256)));
        return;
      }
      case 5:  // a simple value: one byte (0..23) or two (any second byte)
        if (Below(2) == 0) {
          out->push_back(static_cast<char>(0xe0 | Below(24)));
        } else {
          out->push_back(static_cast<char>(0xf8));
          out->push_back(static_cast<char>(Below(256)));
        }
        return;
      case 6:
      case 7:
        Head(out, static_cast<uint8_t>(pick == 6 ? 0 : 3), Below(30));
        return;
      case 8:
      case 9: {  // an array or a map, sometimes indefinite
        const uint8_t major = pick == 8 ? 4 : 5;
        const size_t n = Below(5);
        const bool indefinite = Below(5) == 0;
        if (indefinite) {
          out->push_back(static_cast<char>((major << 5) | 31));
        } else {
          Head(out, major, n);
        }
        for (size_t i = 0; i < n * (major == 5 ? 2 : 1); ++i) AppendItem(out, depth - 1);
        if (indefinite) out->push_back(static_cast<char>(0xff));
        return;
      }
      default: {  // a tag, including tuples (128) and embedded CBOR (24)
        const uint64_t tags[] = {24, 37, 128, 6, 20, 0, 255, 65536, Below(1u << 20)};
        Head(out, 6, tags[Below(sizeof tags / sizeof tags[0])]);
        AppendItem(out, depth - 1);
        return;
      }
    }
  }

  std::mt19937_64 rng_;
};

uint64_t Seed() {
  const uint64_t seed = std::random_device{}();
  std::cout << "seed " << seed << "\n";
  return seed;
}

TEST(CborDirectTest, EveryHalfFloatDecodesToTheSameBits) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const std::string bytes = {static_cast<char>(0xf9), static_cast<char>(h >> 8),
                               static_cast<char>(h & 0xff)};
    ASSERT_TRUE(ExpectSameAsStreaming(bytes, {})) << h;
  }
}

TEST(CborDirectTest, EveryFirstByteAgreesWithTheStreamingPath) {
  // Each first byte followed by continuations that complete most heads, or by nothing.
  const std::string tails[] = {"", std::string(9, '\0'), std::string(9, '\x01'),
                               std::string(9, '\x20'), "\x61\x61\x61\x61\x61\x61\x61\x61\x61"};
  int direct = 0;
  for (int b = 0; b < 256; ++b) {
    for (const std::string& tail : tails) {
      direct += ExpectSameAsStreaming(std::string(1, static_cast<char>(b)) + tail, {});
    }
  }
  // Definite heads of every major type take the direct path; this would be 0 if it were off.
  EXPECT_GT(direct, 500);
}

TEST(CborDirectTest, RandomWireFormsAgreeWithTheStreamingPath) {
  const uint64_t seed = Seed();
  RandomCbor gen(seed);
  int direct = 0;
  for (int i = 0; i < 20000; ++i) {
    direct += ExpectSameAsStreaming(gen.Item(4), {});
    if (HasFailure()) FAIL() << "seed " << seed << " case " << i;
  }
  EXPECT_GT(direct, 10000);  // most random items are definite throughout
}

TEST(CborDirectTest, MutatedAndTruncatedInputAgreesWithTheStreamingPath) {
  const uint64_t seed = Seed();
  RandomCbor gen(seed);
  auto& rng = gen.rng();
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = gen.Item(4);
    switch (rng() % 4) {
      case 0:  // flip a byte
        bytes[rng() % bytes.size()] = static_cast<char>(rng());
        break;
      case 1:  // cut short
        bytes.resize(rng() % bytes.size());
        break;
      case 2:  // trailing bytes
        bytes += gen.Item(2);
        break;
      default:  // insert a byte
        bytes.insert(bytes.begin() + static_cast<long>(rng() % (bytes.size() + 1)),
                     static_cast<char>(rng()));
        break;
    }
    ExpectSameAsStreaming(bytes, {});
    if (HasFailure()) FAIL() << "seed " << seed << " case " << i;
  }
}

TEST(CborDirectTest, SmallLimitsAgreeWithTheStreamingPathAtTheirBoundaries) {
  const uint64_t seed = Seed();
  RandomCbor gen(seed);
  auto& rng = gen.rng();
  for (int i = 0; i < 20000; ++i) {
    DecodeLimits limits;
    limits.max_bytes = 1 + rng() % 40;
    limits.max_depth = 1 + rng() % 4;
    limits.max_items = 1 + rng() % 12;
    ExpectSameAsStreaming(gen.Item(5), limits);
    if (HasFailure()) FAIL() << "seed " << seed << " case " << i;
  }
}

TEST(CborDirectTest, NestingDeeperThanTheDirectDecoderRecursesStillDecodes) {
  DecodeLimits limits;
  limits.max_depth = 5000;
  limits.max_items = 10000;
  std::string bytes(3000, '\x81');  // 3,000 nested one-element arrays
  bytes.push_back('\x01');
  Value v;
  size_t n = 0;
  EXPECT_FALSE(
      DecodeDirect(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), limits, &v, &n));
  auto decoded = DecodeCbor(bytes, limits);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const Value* inner = &*decoded;
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(inner->is_array());
    inner = &inner->items()[0];
  }
  EXPECT_EQ(*inner, Value::UInt(1));
}

TEST(CborDirectTest, HostileCountsAreLeftToTheStreamingPathWithoutReserving) {
  // An array and a map declaring 2^32 - 1 entries, and a byte string declaring 2^36 bytes, in
  // a few bytes each.
  const std::string inputs[] = {std::string("\x9a\xff\xff\xff\xff\x01", 6),
                                std::string("\xba\xff\xff\xff\xff\x01\x02", 7),
                                std::string("\x5b\x00\x00\x00\x10\x00\x00\x00\x00\x41", 10)};
  for (const std::string& bytes : inputs) {
    Value v;
    size_t n = 0;
    EXPECT_FALSE(
        DecodeDirect(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), {}, &v, &n));
    EXPECT_FALSE(DecodeCbor(bytes).ok());
    ExpectSameAsStreaming(bytes, {});
  }
}

TEST(CborDirectTest, NestedDeclaredCountsOverMaxItemsFallBackToTheStreamingError) {
  // An array of `outer` elements whose first element is an array of `inner`; the rest are 0.
  auto nested = [](uint8_t outer, uint8_t inner) {
    std::string b = {'\x98', static_cast<char>(outer), '\x98', static_cast<char>(inner)};
    b.append(inner, '\0');
    b.append(outer - 1, '\0');
    return b;
  };
  DecodeLimits limits;
  limits.max_items = 100;
  Value v;
  size_t n = 0;
  // 1 + 1 + 40 + 39 = 81 items: decoded directly.
  const std::string fits = nested(40, 40);
  EXPECT_TRUE(
      DecodeDirect(reinterpret_cast<const uint8_t*>(fits.data()), fits.size(), limits, &v, &n));
  EXPECT_TRUE(ExpectSameAsStreaming(fits, limits));
  // 1 + 1 + 60 + 59 = 121: refused (the direct decoder refuses the inner declaration before
  // allocating for it), and the streaming path reports the limit.
  const std::string over = nested(60, 60);
  EXPECT_FALSE(
      DecodeDirect(reinterpret_cast<const uint8_t*>(over.data()), over.size(), limits, &v, &n));
  EXPECT_FALSE(ExpectSameAsStreaming(over, limits));
  auto r = DecodeCbor(over, limits);
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted) << r.status().ToString();
}

TEST(CborDirectTest, SecondItemAfterADirectOneStreamsInPieces) {
  // The first item whole, the second split: the decoder resumes the second head by head.
  const std::string first = EncodeCbor(MapOf({{"a", Value::UInt(1)}}));
  const std::string second = EncodeCbor(Value::Array({Value::Text("xyz"), Value::UInt(500)}));
  StreamDecoder dec;
  std::string buf = first + second.substr(0, 3);
  size_t consumed = 0;
  ASSERT_EQ(dec.Feed(reinterpret_cast<const uint8_t*>(buf.data()), buf.size(), &consumed),
            Result::kDone);
  EXPECT_EQ(consumed, first.size());
  EXPECT_EQ(dec.TakeValue(), MapOf({{"a", Value::UInt(1)}}));
  buf.erase(0, consumed);
  ASSERT_EQ(dec.Feed(reinterpret_cast<const uint8_t*>(buf.data()), buf.size(), &consumed),
            Result::kNeedMore);
  buf.erase(0, consumed);
  buf += second.substr(3);
  ASSERT_EQ(dec.Feed(reinterpret_cast<const uint8_t*>(buf.data()), buf.size(), &consumed),
            Result::kDone);
  EXPECT_EQ(dec.TakeValue(), Value::Array({Value::Text("xyz"), Value::UInt(500)}));
}

// Every encoded item of `v` replaced by what it decodes to.
Value Materialized(const Value& v) {
  if (v.is_encoded()) return Materialized(v.Decoded());
  Value out = v;
  for (Value& item : out.mutable_items()) item = Materialized(item);
  return out;
}

// SkipDirect and DecodeDirectKeeping accept exactly what DecodeDirect accepts, with the same
// byte count, and what DecodeDirectKeeping keeps encoded decodes to what DecodeDirect built.
// Returns the number of items kept encoded.
size_t ExpectKeepingAgrees(std::string_view bytes, const DecodeLimits& limits,
                           const std::vector<PathStep>& path) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  Value direct;
  size_t n = 0;
  const bool took = DecodeDirect(data, bytes.size(), limits, &direct, &n);
  size_t skipped = 0;
  EXPECT_EQ(SkipDirect(data, bytes.size(), limits, &skipped), took);
  if (took) {
    EXPECT_EQ(skipped, n);
  }
  Value kept;
  size_t kept_n = 0;
  EXPECT_EQ(DecodeDirectKeeping(data, bytes.size(), limits, path, &kept, &kept_n), took);
  if (!took) return 0;
  EXPECT_EQ(kept_n, n);
  EXPECT_TRUE(SameBits(Materialized(kept), direct))
      << kept.ToDiagnostic() << " vs " << direct.ToDiagnostic();
  size_t encoded = 0;
  std::vector<const Value*> todo = {&kept};
  while (!todo.empty()) {
    const Value* v = todo.back();
    todo.pop_back();
    if (v->is_encoded()) {
      ++encoded;
      // The kept bytes are a whole item of the input, which decodes on its own.
      EXPECT_NE(bytes.find(v->encoded()), std::string_view::npos);
      EXPECT_TRUE(DecodeCbor(v->encoded()).ok());
    }
    for (const Value& item : v->items()) todo.push_back(&item);
  }
  return encoded;
}

TEST(CborDirectTest, KeepingItemsEncodedAcceptsWhatDecodingAccepts) {
  const uint64_t seed = Seed();
  RandomCbor gen(seed);
  auto& rng = gen.rng();
  const std::vector<std::vector<PathStep>> paths = {
      {},
      {{PathStep::kAnyIndex, "", 0}},
      {{PathStep::kIndex, "", 1}},
      {{PathStep::kAnyIndex, "", 0}, {PathStep::kAnyIndex, "", 0}},
      {{PathStep::kKey, "a", 0}},
  };
  size_t encoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = gen.Item(4);
    if (i % 2) {  // also broken input, as in MutatedAndTruncatedInputAgreesWithTheStreamingPath
      switch (rng() % 3) {
        case 0:
          bytes[rng() % bytes.size()] = static_cast<char>(rng());
          break;
        case 1:
          bytes.resize(rng() % bytes.size());
          break;
        default:
          bytes += gen.Item(2);
          break;
      }
    }
    DecodeLimits limits;
    if (i % 5 == 0) limits.max_items = 1 + rng() % 20;
    if (i % 7 == 0) limits.max_depth = 1 + rng() % 4;
    const auto& path = paths[static_cast<size_t>(i) % paths.size()];
    const size_t kept = ExpectKeepingAgrees(bytes, limits, path);
    if (path.empty()) {
      EXPECT_EQ(kept, 0u);  // an empty path keeps nothing
    }
    encoded += kept;
    if (HasFailure()) FAIL() << "seed " << seed << " case " << i;
  }
  EXPECT_GT(encoded, 100u);  // the paths do reach items (about 400 per run)
}

TEST(CborDirectTest, KeepingFollowsKeysIndexesAndTuples) {
  // {"a": [1, [2, 3]], "b": [4, [5]]} with the path a / 1 / any: 2 and 3 stay encoded.
  Value m = Value::Map();
  m.AppendEntry(Value::Text("a"),
                Value::Tuple({Value::UInt(1), Value::Array({Value::UInt(2), Value::Text("x")})}));
  m.AppendEntry(Value::Bytes("b"), Value::Array({Value::UInt(4), Value::Array({Value::UInt(5)})}));
  const std::string bytes = EncodeCbor(m);
  const std::vector<PathStep> path = {
      {PathStep::kKey, "a", 0}, {PathStep::kIndex, "", 1}, {PathStep::kAnyIndex, "", 0}};
  Value kept;
  size_t n = 0;
  ASSERT_TRUE(DecodeDirectKeeping(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), {},
                                  path, &kept, &n));
  EXPECT_EQ(n, bytes.size());
  const Value& inner = kept.value_at(0).items()[1];
  ASSERT_EQ(inner.items().size(), 2u);
  EXPECT_TRUE(inner.items()[0].is_encoded());
  EXPECT_EQ(inner.items()[0].encoded(), EncodeCbor(Value::UInt(2)));
  EXPECT_EQ(inner.items()[1].encoded(), EncodeCbor(Value::Text("x")));
  EXPECT_FALSE(kept.value_at(1).items()[1].items()[0].is_encoded());  // under "b": decoded
  EXPECT_TRUE(kept.value_at(0).is_tuple());
  EXPECT_EQ(EncodeCbor(kept), bytes);
  EXPECT_TRUE(kept == m);
}

}  // namespace
}  // namespace coordinated
