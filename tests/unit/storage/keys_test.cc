// Unit tests for the key encodings (src/storage/keys.h): golden bytes for every key builder,
// order preservation of the numeric images under bytewise comparison (seeded random properties),
// the ordering of ready keys in a real RocksDB column family, and index key decoding.
//
// The random tests print their seed; set COORD_TEST_SEED=<n> to replay one.
#include "storage/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "storage/column_families.h"
#include "storage/store.h"
#include "unit/temp_store.h"

namespace coordinated::storage {
namespace {

// ---------------------------------------------------------------------------------------------
// Helpers

// "00 00 00 01 6b" -> bytes. Whitespace is ignored.
std::string Hex(std::string_view hex) {
  std::string out;
  int hi = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n') continue;
    int v = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    EXPECT_GE(v, 0) << "bad hex digit " << c;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi * 16 + v));
      hi = -1;
    }
  }
  EXPECT_EQ(hi, -1) << "odd number of hex digits";
  return out;
}

std::string ToHex(std::string_view s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// RocksDB's default comparator: memcmp, then the shorter key first.
int Bytewise(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  int c = n ? std::memcmp(a.data(), b.data(), n) : 0;
  if (c != 0) return c < 0 ? -1 : 1;
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}
bool BytewiseLess(const std::string& a, const std::string& b) { return Bytewise(a, b) < 0; }

#define EXPECT_KEY(actual, hex) EXPECT_EQ(ToHex(actual), ToHex(Hex(hex)))

uint64_t Seed() {
  if (const char* s = std::getenv("COORD_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

// A random double drawn from several families: raw bit patterns (every exponent), small
// integers (ties), huge and tiny magnitudes, signed zeros and infinities. Never NaN.
double RandomDouble(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0: {
      uint64_t bits = rng();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      if (std::isnan(d)) d = 0.5;
      return d;
    }
    case 1:
      return static_cast<double>(static_cast<int64_t>(rng() % 21) - 10);
    case 2:
      return (rng() % 2 ? 1 : -1) * std::ldexp(static_cast<double>(rng() % 1000 + 1), 900);
    case 3:
      return (rng() % 2 ? 1 : -1) * std::ldexp(static_cast<double>(rng() % 1000 + 1), -1070);
    case 4: {
      static const double kSpecial[] = {0.0,
                                        -0.0,
                                        std::numeric_limits<double>::infinity(),
                                        -std::numeric_limits<double>::infinity(),
                                        std::numeric_limits<double>::max(),
                                        std::numeric_limits<double>::lowest(),
                                        std::numeric_limits<double>::min(),
                                        -std::numeric_limits<double>::min(),
                                        std::numeric_limits<double>::denorm_min(),
                                        -std::numeric_limits<double>::denorm_min(),
                                        1.0,
                                        -1.0};
      return kSpecial[rng() % std::size(kSpecial)];
    }
    default: {
      std::uniform_real_distribution<double> d(-1e6, 1e6);
      return d(rng);
    }
  }
}

// A random unit key: binary, short, often a prefix of another, often holding 0x00 and 0xFF.
std::string RandomKey(std::mt19937_64& rng) {
  static const char kAlphabet[] = {'\x00', '\x01', 'a', 'b', '\x7f', '\x80', '\xfe', '\xff'};
  std::string k;
  const size_t len = rng() % 5;
  for (size_t i = 0; i < len; ++i) k.push_back(kAlphabet[rng() % sizeof kAlphabet]);
  return k;
}

// ---------------------------------------------------------------------------------------------
// Fixed-width integers

TEST(KeysTest, PutAndGetIntegersAreBigEndian) {
  std::string s;
  PutU32(&s, 0x01020304u);
  EXPECT_KEY(s, "01 02 03 04");
  EXPECT_EQ(GetU32(s), 0x01020304u);
  s.clear();
  PutU64(&s, 0x0102030405060708ull);
  EXPECT_KEY(s, "01 02 03 04 05 06 07 08");
  EXPECT_EQ(GetU64(s), 0x0102030405060708ull);
  s.clear();
  PutU32(&s, 0xffffffffu);
  PutU64(&s, 0);
  EXPECT_KEY(s, "ff ff ff ff 00 00 00 00 00 00 00 00");
  EXPECT_EQ(GetU32(s), 0xffffffffu);
  EXPECT_EQ(GetU64(std::string_view(s).substr(4)), 0u);
}

// ---------------------------------------------------------------------------------------------
// Golden bytes of every key builder

TEST(KeysGoldenTest, SpecIdIsFourBytesBigEndian) {
  EXPECT_KEY(keys::Spec(0), "00 00 00 00");
  EXPECT_KEY(keys::Spec(1), "00 00 00 01");
  EXPECT_KEY(keys::Spec(0x01020304), "01 02 03 04");
  EXPECT_KEY(keys::Spec(0xffffffff), "ff ff ff ff");
  // Big-endian: 255 sorts before 256 bytewise (little-endian would not).
  EXPECT_LT(Bytewise(keys::Spec(255), keys::Spec(256)), 0);
}

TEST(KeysGoldenTest, UnitIsSpecIdThenRawKey) {
  EXPECT_KEY(keys::Unit(1, "ab"), "00 00 00 01 61 62");
  EXPECT_KEY(keys::Unit(7, ""), "00 00 00 07");
  EXPECT_KEY(keys::Unit(2, std::string("\x00\xff", 2)), "00 00 00 02 00 ff");
}

TEST(KeysGoldenTest, ReadyIsSpecInvertedPriorityKey) {
  // priority 0: SortableDouble(0) = 0x8000..., inverted 0x7fff...
  EXPECT_KEY(keys::Ready(1, 0.0, "k"), "00 00 00 01  7f ff ff ff ff ff ff ff  6b");
  // -0.0 is the same priority as 0.0.
  EXPECT_EQ(keys::Ready(1, -0.0, "k"), keys::Ready(1, 0.0, "k"));
  // 1.0 = 0x3ff0...: sortable 0xbff0..., inverted 0x400f ff...
  EXPECT_KEY(keys::Ready(1, 1.0, "k"), "00 00 00 01  40 0f ff ff ff ff ff ff  6b");
  // -1.0 = 0xbff0...: sortable ~ = 0x400f ff..., inverted 0xbff0 00...
  EXPECT_KEY(keys::Ready(1, -1.0, "k"), "00 00 00 01  bf f0 00 00 00 00 00 00  6b");
  EXPECT_KEY(keys::Ready(0x0a0b0c0d, 2.0, ""), "0a 0b 0c 0d  3f ff ff ff ff ff ff ff");
}

TEST(KeysGoldenTest, DelayedAndLeaseAreSpecTimeKey) {
  // 1.5 s = 1,500,000 us = 0x16e360, offset by 2^63.
  EXPECT_KEY(keys::Delayed(2, 1.5, "x"), "00 00 00 02  80 00 00 00 00 16 e3 60  78");
  EXPECT_KEY(keys::Lease(3, 0.0, ""), "00 00 00 03  80 00 00 00 00 00 00 00");
  // -1 s = -1,000,000 us = 0xffff ffff fff0 bdc0 as int64; xor 2^63.
  EXPECT_KEY(keys::Lease(3, -1.0, "u"), "00 00 00 03  7f ff ff ff ff f0 bd c0  75");
  EXPECT_KEY(keys::Waiting(2, 1.5, "x"), "00 00 00 02  80 00 00 00 00 16 e3 60  78");
  // A realistic deadline: 1,700,000,000 s = 1.7e15 us = 0x0006 0a24 181e 4000.
  EXPECT_KEY(keys::Lease(1, 1.7e9, "k"), "00 00 00 01  80 06 0a 24 18 1e 40 00  6b");
}

TEST(KeysGoldenTest, ByStatusIsSpecStatusByteInvertedPriorityKey) {
  EXPECT_KEY(keys::StatusPrefix(1, 3), "00 00 00 01 03");
  // 2.0 = 0x4000...: sortable 0xc000..., inverted 0x3fff...
  EXPECT_KEY(keys::ByStatus(1, 4, 2.0, "k"), "00 00 00 01  04  3f ff ff ff ff ff ff ff  6b");
  EXPECT_KEY(keys::ByStatus(9, 1, 0.0, ""), "00 00 00 09  01  7f ff ff ff ff ff ff ff");
  EXPECT_EQ(keys::ByStatus(1, 4, 2.0, "k").substr(0, 5), keys::StatusPrefix(1, 4));
}

TEST(KeysGoldenTest, CompletedIsSpecStatusByteTimeKey) {
  EXPECT_KEY(keys::CompletedPrefix(1, 5), "00 00 00 01 05");
  // 10 s = 10,000,000 us = 0x989680.
  EXPECT_KEY(keys::Completed(1, 5, 10.0, "k"), "00 00 00 01  05  80 00 00 00 00 98 96 80  6b");
  EXPECT_KEY(keys::Completed(1, 4, 0.0, ""), "00 00 00 01  04  80 00 00 00 00 00 00 00");
}

TEST(KeysGoldenTest, AttemptIsSpecKeyLengthKeyNumber) {
  EXPECT_KEY(keys::AttemptPrefix(1, "abc"), "00 00 00 01  00 00 00 03  61 62 63");
  EXPECT_KEY(keys::Attempt(1, "abc", 7), "00 00 00 01  00 00 00 03  61 62 63  00 00 00 07");
  EXPECT_KEY(keys::Attempt(2, "", 0x01020304), "00 00 00 02  00 00 00 00  01 02 03 04");
}

TEST(KeysGoldenTest, WorkerUnitIsWorkerLengthWorkerSpecKey) {
  EXPECT_KEY(keys::WorkerUnitPrefix("w1"), "00 00 00 02  77 31");
  EXPECT_KEY(keys::WorkerUnit("w1", 5, "k"), "00 00 00 02  77 31  00 00 00 05  6b");
  EXPECT_KEY(keys::WorkerUnit("", 1, ""), "00 00 00 00  00 00 00 01");
}

TEST(KeysGoldenTest, ChildIsParentLengthParentChild) {
  EXPECT_KEY(keys::ChildPrefix("p"), "00 00 00 01  70");
  EXPECT_KEY(keys::Child("p", "c"), "00 00 00 01  70  63");
  EXPECT_KEY(keys::Child("par", "child"), "00 00 00 03  70 61 72  63 68 69 6c 64");
}

TEST(KeysGoldenTest, LockLabelIsLengthThenCborLabel) {
  // The caller passes each label's CBOR encoding: b"a" = 41 61, u"a" = 61 61.
  EXPECT_KEY(keys::LockLabel(std::string("\x41\x61", 2)), "00 00 00 02  41 61");
  EXPECT_KEY(keys::LockLabel(std::string("\x61\x61", 2)), "00 00 00 02  61 61");
  EXPECT_KEY(keys::LockLabel(""), "00 00 00 00");
  // A path key is the concatenation: a path is a prefix of its descendants' keys.
  const std::string foo = keys::LockLabel(
      "\x43"
      "foo");
  const std::string foo_bar = foo + keys::LockLabel(
                                        "\x43"
                                        "bar");
  EXPECT_EQ(foo_bar.compare(0, foo.size(), foo), 0);
  EXPECT_LT(Bytewise(foo_bar, keys::PrefixEnd(foo)), 0);
}

TEST(KeysGoldenTest, UnitRefAndDependencyEdges) {
  EXPECT_KEY(keys::UnitRef(1, "ab"), "00 00 00 01  00 00 00 02  61 62");
  EXPECT_EQ(keys::UnitRef(7, "k"), keys::AttemptPrefix(7, "k"));
  EXPECT_KEY(keys::DepEdge(1, "d", 2, "pp"),
             "00 00 00 01  00 00 00 01  64    00 00 00 02  00 00 00 02  70 70");
  // The edges of a unit are exactly the keys under its UnitRef: "d" and "d\0" do not mix.
  const std::string ref = keys::UnitRef(1, "d");
  const std::string other = keys::DepEdge(1, std::string("d\x00", 2), 1, "x");
  EXPECT_FALSE(Bytewise(other, ref) >= 0 && Bytewise(other, keys::PrefixEnd(ref)) < 0);
}

TEST(KeysTest, DecodeUnitRef) {
  const std::string edge = keys::DepEdge(0x01020304, std::string("\x00\xff", 2), 9, "p");
  SpecId spec = 0;
  std::string_view key;
  const size_t n = DecodeUnitRef(edge, &spec, &key);
  ASSERT_EQ(n, 10u);
  EXPECT_EQ(spec, 0x01020304u);
  EXPECT_EQ(ToHex(key), "00 ff");
  const size_t m = DecodeUnitRef(std::string_view(edge).substr(n), &spec, &key);
  ASSERT_EQ(m, 9u);
  EXPECT_EQ(spec, 9u);
  EXPECT_EQ(key, "p");
  // Malformed: too short for the header, or a length running past the end.
  EXPECT_EQ(DecodeUnitRef("", &spec, &key), 0u);
  EXPECT_EQ(DecodeUnitRef(Hex("00 00 00 01 00 00 00"), &spec, &key), 0u);
  EXPECT_EQ(DecodeUnitRef(Hex("00 00 00 01 00 00 00 05 61 62"), &spec, &key), 0u);
  EXPECT_EQ(DecodeUnitRef(Hex("00 00 00 01 ff ff ff ff 61"), &spec, &key), 0u);
  EXPECT_EQ(DecodeUnitRef(Hex("00 00 00 01 00 00 00 00"), &spec, &key), 8u);
  EXPECT_TRUE(key.empty());
}

TEST(KeysGoldenTest, MetaKeys) {
  EXPECT_EQ(keys::kFormatVersion, "format_version");
  EXPECT_EQ(keys::kNextSpecId, "next_spec_id");
  EXPECT_EQ(keys::kMode, "mode");
  EXPECT_EQ(keys::kSpecStatsPrefix, "stats/");
  EXPECT_KEY(keys::SpecStats(258), "73 74 61 74 73 2f  00 00 01 02");  // "stats/" + id
}

TEST(KeysGoldenTest, PrefixEnd) {
  EXPECT_EQ(keys::PrefixEnd("ab"), "ac");
  EXPECT_EQ(keys::PrefixEnd(""), "");
  EXPECT_EQ(keys::PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(keys::PrefixEnd(std::string("a\xfe\xff", 3)), std::string("a\xff", 2));
  EXPECT_EQ(keys::PrefixEnd(std::string("\xff\xff", 2)), "");  // no upper bound exists
  EXPECT_EQ(keys::PrefixEnd(std::string("\x00", 1)), std::string("\x01", 1));
  EXPECT_KEY(keys::PrefixEnd(keys::Spec(1)), "00 00 00 02");
  EXPECT_KEY(keys::PrefixEnd(keys::Spec(0x000000ff)), "00 00 01");
  EXPECT_EQ(keys::PrefixEnd(keys::Spec(0xffffffff)), "");
}

TEST(KeysPropertyTest, PrefixEndBoundsExactlyTheKeysWithThePrefix) {
  const uint64_t seed = Seed();
  std::cout << "[ SEED ] " << seed << "\n";
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 5000; ++i) {
    const std::string prefix = RandomKey(rng);
    const std::string end = keys::PrefixEnd(prefix);
    const std::string other = RandomKey(rng) + RandomKey(rng);
    const bool has_prefix =
        other.compare(0, prefix.size(), prefix) == 0 && other.size() >= prefix.size();
    const bool in_range = Bytewise(other, prefix) >= 0 && (end.empty() || Bytewise(other, end) < 0);
    ASSERT_EQ(has_prefix, in_range) << "prefix " << ToHex(prefix) << " key " << ToHex(other)
                                    << " end " << ToHex(end) << " (seed " << seed << ")";
  }
}

// Length prefixes keep variable-length components apart: the attempts of key "a" are not in the
// range of key "a\0" or "ab", and the units of worker "w" are not in the range of worker "w2".
TEST(KeysTest, LengthPrefixesSeparateRanges) {
  const std::string p = keys::AttemptPrefix(1, "a");
  const std::string end = keys::PrefixEnd(p);
  for (const std::string& other : {std::string("a\x00", 2), std::string("ab"), std::string("")}) {
    const std::string k = keys::Attempt(1, other, 1);
    EXPECT_FALSE(Bytewise(k, p) >= 0 && Bytewise(k, end) < 0) << ToHex(k);
  }
  const std::string wp = keys::WorkerUnitPrefix("w");
  const std::string we = keys::PrefixEnd(wp);
  const std::string w2 = keys::WorkerUnit("w2", 1, "k");
  EXPECT_FALSE(Bytewise(w2, wp) >= 0 && Bytewise(w2, we) < 0);
  const std::string cp = keys::ChildPrefix("p");
  const std::string c2 = keys::Child("pp", "c");
  EXPECT_FALSE(Bytewise(c2, cp) >= 0 && Bytewise(c2, keys::PrefixEnd(cp)) < 0);
  // Attempt numbers sort numerically (big-endian), 2 < 10 < 256.
  EXPECT_LT(Bytewise(keys::Attempt(1, "a", 2), keys::Attempt(1, "a", 10)), 0);
  EXPECT_LT(Bytewise(keys::Attempt(1, "a", 10), keys::Attempt(1, "a", 256)), 0);
}

// Every key of a spec sorts before every key of the next spec, whatever follows the id.
TEST(KeysTest, SpecIdComesFirstInEveryPerSpecKey) {
  const std::string hi(16, '\xff');
  const std::vector<std::string> spec1 = {keys::Unit(1, hi),
                                          keys::Ready(1, -1e300, hi),
                                          keys::Delayed(1, 1e12, hi),
                                          keys::Lease(1, 1e12, hi),
                                          keys::ByStatus(1, 5, -1e300, hi),
                                          keys::Completed(1, 5, 1e12, hi),
                                          keys::Attempt(1, hi, 0xffffffff),
                                          keys::Spec(1)};
  const std::string spec2 = keys::Spec(2);
  for (const auto& k : spec1) {
    EXPECT_LT(Bytewise(k, spec2), 0) << ToHex(k);
    EXPECT_LT(Bytewise(k, keys::PrefixEnd(keys::Spec(1))), 0) << ToHex(k);
    EXPECT_GE(Bytewise(k, keys::Spec(1)), 0) << ToHex(k);
  }
}

// ---------------------------------------------------------------------------------------------
// Order preservation of the numeric images

TEST(KeysPropertyTest, SortableDoublePreservesOrder) {
  const uint64_t seed = Seed();
  std::cout << "[ SEED ] " << seed << "\n";
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 200000; ++i) {
    const double a = RandomDouble(rng), b = RandomDouble(rng);
    const uint64_t ua = SortableDouble(a), ub = SortableDouble(b);
    ASSERT_EQ(a < b, ua < ub) << a << " vs " << b << " (seed " << seed << ")";
    ASSERT_EQ(a == b, ua == ub) << a << " vs " << b << " (seed " << seed << ")";
    // Inverted: higher priority sorts first.
    ASSERT_EQ(a > b, InvertedPriority(a) < InvertedPriority(b)) << a << " vs " << b;
    // As 8-byte big-endian strings the order is the same.
    std::string sa, sb;
    PutU64(&sa, ua);
    PutU64(&sb, ub);
    ASSERT_EQ(a < b, Bytewise(sa, sb) < 0) << a << " vs " << b << " (seed " << seed << ")";
  }
}

TEST(KeysPropertyTest, SortableDoubleRoundTrips) {
  const uint64_t seed = Seed();
  std::cout << "[ SEED ] " << seed << "\n";
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 100000; ++i) {
    const double d = RandomDouble(rng);
    const double back = FromSortableDouble(SortableDouble(d));
    const double inv = FromInvertedPriority(InvertedPriority(d));
    ASSERT_EQ(back, d) << d << " (seed " << seed << ")";
    ASSERT_EQ(inv, d) << d << " (seed " << seed << ")";
    if (d != 0) {
      uint64_t x, y;
      std::memcpy(&x, &d, 8);
      std::memcpy(&y, &back, 8);
      ASSERT_EQ(x, y) << "bit pattern changed for " << d;
    }
  }
}

TEST(KeysTest, SortableDoubleSpecialValues) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(SortableDouble(0.0), 0x8000000000000000ull);
  EXPECT_EQ(SortableDouble(-0.0), SortableDouble(0.0));
  EXPECT_FALSE(std::signbit(FromSortableDouble(SortableDouble(-0.0))));  // -0 stored as +0
  EXPECT_EQ(SortableDouble(std::nan("")), SortableDouble(0.0));          // NaN stored as 0
  EXPECT_LT(SortableDouble(-inf), SortableDouble(std::numeric_limits<double>::lowest()));
  EXPECT_LT(SortableDouble(-std::numeric_limits<double>::denorm_min()), SortableDouble(0.0));
  EXPECT_LT(SortableDouble(0.0), SortableDouble(std::numeric_limits<double>::denorm_min()));
  EXPECT_LT(SortableDouble(std::numeric_limits<double>::max()), SortableDouble(inf));
  EXPECT_EQ(InvertedPriority(0.0), 0x7fffffffffffffffull);
  EXPECT_EQ(FromInvertedPriority(InvertedPriority(-3.25)), -3.25);
}

TEST(KeysPropertyTest, TimeKeyPreservesOrderIncludingBefore1970) {
  const uint64_t seed = Seed();
  std::cout << "[ SEED ] " << seed << "\n";
  std::mt19937_64 rng(seed);
  auto random_time = [&]() -> double {
    switch (rng() % 4) {
      case 0:
        return std::uniform_real_distribution<double>(-1e10, 1e10)(rng);  // years -300..2286
      case 1:
        return std::uniform_real_distribution<double>(-5, 5)(rng);  // around the epoch
      case 2:
        return 1.7e9 + static_cast<double>(rng() % 2000000) / 1e6;  // microsecond neighbours
      default:
        return static_cast<double>(static_cast<int64_t>(rng() % 2001) - 1000);  // ties
    }
  };
  for (int i = 0; i < 200000; ++i) {
    const double a = random_time(), b = random_time();
    const uint64_t ta = TimeKey(a), tb = TimeKey(b);
    if (a <= b) {
      ASSERT_LE(ta, tb) << a << " vs " << b << " (seed " << seed << ")";
    } else {
      ASSERT_GE(ta, tb) << a << " vs " << b << " (seed " << seed << ")";
    }
    // Distinct microseconds give distinct, correctly ordered keys.
    if (std::floor(a * 1e6) < std::floor(b * 1e6)) {
      ASSERT_LT(ta, tb) << a << " vs " << b;
    }
    // Round trip to the microsecond (floor).
    ASSERT_NEAR(FromTimeKey(ta), a, 1e-6 * (1 + std::fabs(a) * 1e-9)) << a;
    ASSERT_LE(FromTimeKey(ta), a + 1e-9 * (1 + std::fabs(a))) << a;
    // Before 1970 sorts before after 1970.
    if (a < 0 && b >= 0) {
      ASSERT_LT(ta, tb);
    }
  }
}

TEST(KeysTest, TimeKeyClampsExtremesAndNaN) {
  EXPECT_EQ(TimeKey(0.0), 0x8000000000000000ull);
  EXPECT_EQ(TimeKey(-1e-6), 0x7fffffffffffffffull);
  EXPECT_EQ(TimeKey(1e-6), 0x8000000000000001ull);
  EXPECT_EQ(TimeKey(-0.5e-6), 0x7fffffffffffffffull);  // floor(-0.5 us) = -1 us
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_LT(TimeKey(-inf), TimeKey(-1e10));
  EXPECT_EQ(TimeKey(-inf), TimeKey(-1e300));
  EXPECT_EQ(TimeKey(std::nan("")), TimeKey(-inf));
  EXPECT_GT(TimeKey(inf), TimeKey(1e10));
  EXPECT_EQ(TimeKey(inf), TimeKey(1e300));
  EXPECT_NEAR(FromTimeKey(TimeKey(1e300)), 9.2e12, 1);
}

// ---------------------------------------------------------------------------------------------
// Ready keys sort by (priority desc, key asc) under bytewise comparison

struct ReadyEntry {
  double priority;
  std::string key;
};

std::vector<ReadyEntry> RandomReadyEntries(std::mt19937_64& rng, size_t n) {
  std::vector<ReadyEntry> out;
  std::vector<std::string> seen;
  while (out.size() < n) {
    ReadyEntry e{RandomDouble(rng), RandomKey(rng)};
    if (rng() % 3 == 0) e.key += RandomKey(rng);  // longer keys, often extending another
    if (std::find(seen.begin(), seen.end(), e.key) != seen.end()) continue;  // one per key
    seen.push_back(e.key);
    out.push_back(std::move(e));
  }
  return out;
}

bool ExpectedReadyOrder(const ReadyEntry& a, const ReadyEntry& b) {
  if (a.priority != b.priority) return a.priority > b.priority;  // -0 == +0
  return Bytewise(a.key, b.key) < 0;
}

TEST(KeysPropertyTest, ReadyKeysSortByPriorityDescThenKeyAsc) {
  const uint64_t seed = Seed();
  std::cout << "[ SEED ] " << seed << "\n";
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 200; ++round) {
    auto entries = RandomReadyEntries(rng, 60);
    std::vector<std::string> encoded;
    for (const auto& e : entries) encoded.push_back(keys::Ready(3, e.priority, e.key));
    std::sort(encoded.begin(), encoded.end(), BytewiseLess);
    std::sort(entries.begin(), entries.end(), ExpectedReadyOrder);
    ASSERT_EQ(encoded.size(), entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      DecodedIndexKey d = DecodeIndexKey(encoded[i]);
      ASSERT_EQ(d.spec, 3u);
      ASSERT_EQ(ToHex(d.unit_key), ToHex(entries[i].key))
          << "position " << i << " (seed " << seed << ")";
      ASSERT_EQ(FromInvertedPriority(d.number), entries[i].priority) << "position " << i;
    }
  }
}

TEST(KeysPropertyTest, ByStatusKeysSortByStatusThenPriorityDescThenKey) {
  const uint64_t seed = Seed();
  std::cout << "[ SEED ] " << seed << "\n";
  std::mt19937_64 rng(seed);
  auto entries = RandomReadyEntries(rng, 300);
  std::vector<std::tuple<int, double, std::string>> expected;
  std::vector<std::string> encoded;
  for (const auto& e : entries) {
    const int status = 1 + static_cast<int>(rng() % 5);
    expected.emplace_back(status, e.priority, e.key);
    encoded.push_back(keys::ByStatus(1, status, e.priority, e.key));
  }
  std::sort(encoded.begin(), encoded.end(), BytewiseLess);
  std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) {
    if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) < std::get<0>(b);
    if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) > std::get<1>(b);
    return Bytewise(std::get<2>(a), std::get<2>(b)) < 0;
  });
  for (size_t i = 0; i < encoded.size(); ++i) {
    int status = 0;
    DecodedIndexKey d = DecodeStatusIndexKey(encoded[i], &status);
    ASSERT_EQ(status, std::get<0>(expected[i])) << i << " (seed " << seed << ")";
    ASSERT_EQ(FromInvertedPriority(d.number), std::get<1>(expected[i])) << i;
    ASSERT_EQ(ToHex(d.unit_key), ToHex(std::get<2>(expected[i]))) << i;
  }
}

// The same property through RocksDB itself: the ready column family iterates in scheduling
// order, and a per-spec bounded iterator sees only that spec.
class ReadyKeysInRocksDbTest : public coordtest::TempStoreTest {};

TEST_F(ReadyKeysInRocksDbTest, IterationOrderIsPriorityDescKeyAsc) {
  const uint64_t seed = Seed();
  std::cout << "[ SEED ] " << seed << "\n";
  std::mt19937_64 rng(seed);
  auto entries = RandomReadyEntries(rng, 500);
  WriteBatch batch;
  for (const auto& e : entries) batch.Put(Cf::kReady, keys::Ready(7, e.priority, e.key), "");
  // Neighbouring specs must not leak into spec 7's range.
  batch.Put(Cf::kReady, keys::Ready(6, 1e300, std::string(4, '\xff')), "");
  batch.Put(Cf::kReady, keys::Ready(8, -1e300, ""), "");
  ASSERT_TRUE(store()->Write(batch).ok());
  std::sort(entries.begin(), entries.end(), ExpectedReadyOrder);
  const std::string prefix = keys::Spec(7);
  auto it = store()->NewIterator(Cf::kReady, prefix, keys::PrefixEnd(prefix));
  size_t i = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++i) {
    ASSERT_LT(i, entries.size());
    DecodedIndexKey d = DecodeIndexKey(it->key());
    ASSERT_EQ(d.spec, 7u);
    ASSERT_EQ(ToHex(d.unit_key), ToHex(entries[i].key)) << "position " << i << " seed " << seed;
    ASSERT_EQ(FromInvertedPriority(d.number), entries[i].priority) << "position " << i;
  }
  EXPECT_TRUE(it->status().ok());
  EXPECT_EQ(i, entries.size());
}

// ---------------------------------------------------------------------------------------------
// Decoding

TEST(KeysPropertyTest, DecodeIndexKeyRoundTrips) {
  const uint64_t seed = Seed();
  std::cout << "[ SEED ] " << seed << "\n";
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 20000; ++i) {
    const SpecId spec = static_cast<SpecId>(rng());
    const std::string key = RandomKey(rng) + RandomKey(rng);
    const double p = RandomDouble(rng);
    const double t = std::uniform_real_distribution<double>(-1e9, 4e9)(rng);

    const std::string rk = keys::Ready(spec, p, key);  // decoded views point into it
    DecodedIndexKey r = DecodeIndexKey(rk);
    ASSERT_EQ(r.spec, spec);
    ASSERT_EQ(r.number, InvertedPriority(p));
    ASSERT_EQ(r.unit_key, key);

    const std::string lk = keys::Lease(spec, t, key);
    DecodedIndexKey l = DecodeIndexKey(lk);
    ASSERT_EQ(l.spec, spec);
    ASSERT_EQ(l.number, TimeKey(t));
    ASSERT_EQ(l.unit_key, key);

    const std::string dk = keys::Delayed(spec, t, key);
    DecodedIndexKey dl = DecodeIndexKey(dk);
    ASSERT_EQ(dl.number, TimeKey(t));
    ASSERT_EQ(dl.unit_key, key);

    const int status = 1 + static_cast<int>(rng() % 5);
    int got_status = -1;
    const std::string bk = keys::ByStatus(spec, status, p, key);
    DecodedIndexKey b = DecodeStatusIndexKey(bk, &got_status);
    ASSERT_EQ(got_status, status);
    ASSERT_EQ(b.spec, spec);
    ASSERT_EQ(b.number, InvertedPriority(p));
    ASSERT_EQ(b.unit_key, key);

    got_status = -1;
    const std::string ck = keys::Completed(spec, status, t, key);
    DecodedIndexKey c = DecodeStatusIndexKey(ck, &got_status);
    ASSERT_EQ(got_status, status);
    ASSERT_EQ(c.spec, spec);
    ASSERT_EQ(c.number, TimeKey(t));
    ASSERT_EQ(c.unit_key, key);
  }
}

TEST(KeysTest, ShortIndexKeysDecodeAsInvalidWithoutReadingPastTheEnd) {
  // Every prefix of a well-formed key that is too short for the fixed fields is refused; the
  // decoders only ever see such keys in a damaged store (coordinate-admin check).
  const std::string rk = keys::Ready(7, 1.5, "u");
  for (size_t n = 0; n < 12; ++n) {
    const std::string shorter = rk.substr(0, n);  // a copy: ASan flags any read past it
    DecodedIndexKey d = DecodeIndexKey(shorter);
    EXPECT_FALSE(d.valid) << n;
    EXPECT_TRUE(d.unit_key.empty());
  }
  EXPECT_TRUE(DecodeIndexKey(rk.substr(0, 12)).valid);  // spec and number, empty unit key
  const std::string bk = keys::ByStatus(7, 2, 1.5, "u");
  for (size_t n = 0; n < 13; ++n) {
    const std::string shorter = bk.substr(0, n);
    int status = 9;
    DecodedIndexKey d = DecodeStatusIndexKey(shorter, &status);
    EXPECT_FALSE(d.valid) << n;
    EXPECT_EQ(status, -1);
  }
  int status = 0;
  EXPECT_TRUE(DecodeStatusIndexKey(bk, &status).valid);
  EXPECT_EQ(status, 2);
}

TEST(KeysTest, DecodeKeepsBinaryUnitKeysIntact) {
  const std::string key("\x00\xff\x00", 3);
  const std::string lk = keys::Lease(0xfffffffe, 12.5, key);
  DecodedIndexKey d = DecodeIndexKey(lk);
  EXPECT_EQ(d.spec, 0xfffffffeu);
  EXPECT_EQ(FromTimeKey(d.number), 12.5);
  EXPECT_EQ(ToHex(d.unit_key), "00 ff 00");
  int status = 0;
  const std::string bk = keys::ByStatus(1, 2, -7.5, "");
  DecodedIndexKey s = DecodeStatusIndexKey(bk, &status);
  EXPECT_EQ(status, 2);
  EXPECT_EQ(FromInvertedPriority(s.number), -7.5);
  EXPECT_TRUE(s.unit_key.empty());
}

// ---------------------------------------------------------------------------------------------
// Column family table

TEST(ColumnFamiliesTest, TableMatchesTheEnumAndNames) {
  ASSERT_EQ(std::size(kColumnFamilies), static_cast<size_t>(Cf::kCount));
  const std::vector<std::pair<std::string_view, bool>> expected = {
      {"default", false},  {"specs", true},         {"units", true},
      {"ready", true},     {"delayed", true},       {"leases", true},
      {"by_status", true}, {"completed", true},     {"attempts", true},
      {"workers", false},  {"worker_units", false}, {"worker_children", false},
      {"locks", false},    {"deps_forward", true},  {"deps_reverse", true},
      {"waiting", true}};
  // A new family must be added here and to docs/storage-format.md.
  ASSERT_EQ(expected.size(), std::size(kColumnFamilies));
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(CfIndex(kColumnFamilies[i].cf), i);
    EXPECT_EQ(kColumnFamilies[i].name, expected[i].first);
    EXPECT_EQ(kColumnFamilies[i].per_spec, expected[i].second) << expected[i].first;
  }
}

}  // namespace
}  // namespace coordinated::storage
