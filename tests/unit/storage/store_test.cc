// Unit tests for the Store (src/storage/store.h) and the format version checks of
// src/storage/migrations.h, against a real RocksDB in a temporary directory.
#include "storage/store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "storage/attempts.h"
#include "storage/column_families.h"
#include "storage/keys.h"
#include "storage/migrations.h"
#include "storage/records.h"
#include "unit/temp_store.h"

namespace coordinated::storage {
namespace {

using coordtest::OpenStoreAt;
using coordtest::TempDir;

// Every key/value of one column family, in iteration order.
std::vector<std::pair<std::string, std::string>> Scan(const Store* store, Cf cf,
                                                      std::string_view lower = "",
                                                      std::string_view upper = "") {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = store->NewIterator(cf, lower, upper);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return out;
}

std::vector<std::string> Keys(const Store* store, Cf cf, std::string_view lower = "",
                              std::string_view upper = "") {
  std::vector<std::string> out;
  for (auto& [k, v] : Scan(store, cf, lower, upper)) out.push_back(k);
  return out;
}

std::string GetOrDie(const Store* store, Cf cf, std::string_view key) {
  std::string v;
  Status s = store->Get(cf, key, &v);
  EXPECT_TRUE(s.ok()) << "get " << key << ": " << s.ToString();
  return v;
}

bool Has(const Store* store, Cf cf, std::string_view key) {
  std::string v;
  Status s = store->Get(cf, key, &v);
  EXPECT_TRUE(s.ok() || s.code() == Code::kNotFound) << s.ToString();
  return s.ok();
}

void SetFormatVersion(Store* store, uint64_t version) {
  std::string v;
  PutU64(&v, version);
  WriteBatch b;
  b.Put(Cf::kMeta, keys::kFormatVersion, v);
  ASSERT_TRUE(store->Write(b).ok());
  ASSERT_TRUE(store->Sync().ok());
}

class StoreTest : public coordtest::TempStoreTest {
 protected:
  // Stamps the store as format `version`, closes it and opens it again, which runs the
  // migrations from that version; the reopened store must be at the current version.
  std::unique_ptr<Store> ReopenFromVersion(uint64_t version) {
    SetFormatVersion(store(), version);
    CloseStore();
    auto reopened = OpenStoreAt(db_path());
    EXPECT_TRUE(reopened.ok()) << reopened.status().ToString();
    if (!reopened.ok()) return nullptr;
    auto v = ReadFormatVersion(reopened->get());
    EXPECT_TRUE(v.ok() && *v == kFormatVersion);
    return std::move(reopened).value();
  }
};

// ---------------------------------------------------------------------------------------------
// Open and create

TEST_F(StoreTest, OpenCreatesTheStoreWithEveryColumnFamily) {
  EXPECT_TRUE(std::filesystem::exists(db_path() + "/CURRENT"));
  EXPECT_EQ(store()->path(), db_path());
  EXPECT_TRUE(store()->sync_enabled());
  // Every column family is usable and starts empty (apart from the stamped meta).
  for (const auto& info : kColumnFamilies) {
    if (info.cf == Cf::kMeta) continue;
    EXPECT_TRUE(Scan(store(), info.cf).empty()) << info.name;
  }
  EXPECT_EQ(Keys(store(), Cf::kMeta), std::vector<std::string>{"format_version"});
}

TEST(StoreOpenTest, MissingStoreWithoutCreateIfMissingFails) {
  TempDir dir;
  StoreOptions o;
  o.path = dir.path() + "/absent";
  o.create_if_missing = false;
  auto s = Store::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(o.path), std::string::npos) << s.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(o.path + "/CURRENT"));
}

TEST(StoreOpenTest, ReadOnlyOpenOfAMissingStoreFails) {
  TempDir dir;
  auto s = OpenStoreAt(dir.path() + "/absent", true, /*read_only=*/true);
  EXPECT_FALSE(s.ok());
}

TEST(StoreOpenTest, SecondWritableOpenOfTheSameDirectoryFails) {
  TempDir dir;
  auto a = OpenStoreAt(dir.path() + "/db");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = OpenStoreAt(dir.path() + "/db");
  EXPECT_FALSE(b.ok()) << "RocksDB's LOCK file must keep a second writer out";
}

// ---------------------------------------------------------------------------------------------
// Writes through WriteBatch

TEST_F(StoreTest, PutGetDeleteAcrossColumnFamilies) {
  WriteBatch b;
  EXPECT_TRUE(b.empty());
  b.Put(Cf::kUnits, "k", "units-value");
  b.Put(Cf::kReady, "k", "ready-value");
  b.Put(Cf::kWorkers, std::string("\x00\xff", 2), std::string("\x00v", 2));
  EXPECT_EQ(b.Count(), 3u);
  ASSERT_TRUE(store()->Write(b).ok());
  EXPECT_EQ(GetOrDie(store(), Cf::kUnits, "k"), "units-value");
  EXPECT_EQ(GetOrDie(store(), Cf::kReady, "k"), "ready-value");  // same key, other family
  EXPECT_EQ(GetOrDie(store(), Cf::kWorkers, std::string("\x00\xff", 2)), std::string("\x00v", 2));
  EXPECT_FALSE(Has(store(), Cf::kLeases, "k"));

  std::string v = "untouched";
  Status missing = store()->Get(Cf::kUnits, "nope", &v);
  EXPECT_EQ(missing.code(), Code::kNotFound);

  WriteBatch d;
  d.Delete(Cf::kUnits, "k");
  d.Delete(Cf::kUnits, "never-existed");  // deleting a missing key is fine
  ASSERT_TRUE(store()->Write(d).ok());
  EXPECT_FALSE(Has(store(), Cf::kUnits, "k"));
  EXPECT_TRUE(Has(store(), Cf::kReady, "k"));
}

TEST_F(StoreTest, MultiGetAnswersEachKeyInTheOrderAsked) {
  // Keys out of order, repeated, missing, with bytes above 0x7f (ordered as unsigned), some
  // only in the memtable and some in a table file.
  WriteBatch b;
  b.Put(Cf::kUnits, "b", "vb");
  b.Put(Cf::kUnits, std::string("\xff\x01", 2), "vff");
  b.Put(Cf::kUnits, "a", "va");
  ASSERT_TRUE(store()->Write(b).ok());
  ReopenStore();  // recovery writes the first batch to a table file
  WriteBatch c;
  c.Put(Cf::kUnits, "c", "vc");
  c.Put(Cf::kUnits, "b", "vb2");
  ASSERT_TRUE(store()->Write(c).ok());
  const std::vector<std::string> keys = {"c", std::string("\xff\x01", 2), "zz", "a", "b", "a", ""};
  std::vector<std::optional<std::string>> values;
  ASSERT_TRUE(store()->MultiGet(Cf::kUnits, keys, &values).ok());
  const std::vector<std::optional<std::string>> expected = {"vc",  "vff", std::nullopt, "va",
                                                            "vb2", "va",  std::nullopt};
  EXPECT_EQ(values, expected);
  // Already in order: the same answers.
  const std::vector<std::string> sorted = {"a", "b", "c"};
  ASSERT_TRUE(store()->MultiGet(Cf::kUnits, sorted, &values).ok());
  EXPECT_EQ(values, (std::vector<std::optional<std::string>>{"va", "vb2", "vc"}));
}

TEST_F(StoreTest, OperationsInOneBatchApplyInOrder) {
  WriteBatch b;
  b.Put(Cf::kUnits, "a", "1");
  b.Delete(Cf::kUnits, "a");  // put then delete: gone
  b.Delete(Cf::kUnits, "b");
  b.Put(Cf::kUnits, "b", "2");  // delete then put: present
  b.Put(Cf::kUnits, "c", "old");
  b.Put(Cf::kUnits, "c", "new");  // last put wins
  ASSERT_TRUE(store()->Write(b).ok());
  EXPECT_FALSE(Has(store(), Cf::kUnits, "a"));
  EXPECT_EQ(GetOrDie(store(), Cf::kUnits, "b"), "2");
  EXPECT_EQ(GetOrDie(store(), Cf::kUnits, "c"), "new");
}

TEST_F(StoreTest, DeleteRangeRemovesHalfOpenInterval) {
  WriteBatch b;
  for (const char* k : {"a", "b", "b\x01", "c", "d", "e"}) b.Put(Cf::kAttempts, k, k);
  b.Put(Cf::kUnits, "c", "other family");
  ASSERT_TRUE(store()->Write(b).ok());
  WriteBatch r;
  r.DeleteRange(Cf::kAttempts, "b", "d");  // [b, d)
  ASSERT_TRUE(store()->Write(r).ok());
  EXPECT_EQ(Keys(store(), Cf::kAttempts), (std::vector<std::string>{"a", "d", "e"}));
  EXPECT_TRUE(Has(store(), Cf::kUnits, "c"));
  // A put after a range delete in the same batch survives it.
  WriteBatch again;
  again.DeleteRange(Cf::kAttempts, "a", "z");
  again.Put(Cf::kAttempts, "m", "kept");
  ASSERT_TRUE(store()->Write(again).ok());
  EXPECT_EQ(Keys(store(), Cf::kAttempts), (std::vector<std::string>{"m"}));
}

TEST_F(StoreTest, DeleteRangeByPrefixEndClearsOneSpec) {
  WriteBatch b;
  for (SpecId id : {1u, 2u, 3u}) {
    b.Put(Cf::kUnits, keys::Unit(id, ""), "x");
    b.Put(Cf::kUnits, keys::Unit(id, std::string(8, '\xff')), "x");
  }
  ASSERT_TRUE(store()->Write(b).ok());
  WriteBatch r;
  r.DeleteRange(Cf::kUnits, keys::Spec(2), keys::PrefixEnd(keys::Spec(2)));
  ASSERT_TRUE(store()->Write(r).ok());
  auto left = Keys(store(), Cf::kUnits);
  ASSERT_EQ(left.size(), 4u);
  for (const auto& k : left) EXPECT_NE(GetU32(k), 2u);
}

// Families with memtable insert hints (CfInfo::hint_prefix) take range deletions that begin at
// a key of at most the hint's length, interleaved with point writes of the same prefix, without
// the hints ever being used for the range deletions; longer range starts are refused. For the
// length-prefixed kind (worker_units) the prefix is a worker's, and several workers interleave.
TEST_F(StoreTest, HintedFamiliesTakeShortRangeDeletesInterleavedWithPuts) {
  for (const auto& info : kColumnFamilies) {
    if (info.hint_prefix == 0) continue;
    SCOPED_TRACE(std::string(info.name));
    const bool by_length = info.hint_prefix == kHintLengthPrefixed;
    // Point keys go under `prefix` (and, by worker, under `other` too); the range deletion
    // clears from `range_begin`, a key no longer than the hint prefix.
    const std::string prefix = by_length
                                   ? keys::WorkerUnitPrefix("worker-one")
                                   : keys::Spec(7) + std::string(info.hint_prefix - 4, '\x01');
    const std::string other = by_length ? keys::WorkerUnitPrefix("w2") : prefix;
    const std::string range_begin = by_length ? prefix : keys::Spec(7);
    EXPECT_EQ(HintPrefixLength(info.hint_prefix, prefix + "x"), prefix.size());
    EXPECT_EQ(HintPrefixLength(info.hint_prefix, range_begin), 0u);
    for (int round = 0; round < 50; ++round) {
      WriteBatch b;
      for (int i = 0; i < 40; ++i) {
        b.Put(info.cf, prefix + std::to_string(round * 40 + i), "v");
        if (by_length) b.Put(info.cf, other + std::to_string(round * 40 + i), "v");
      }
      ASSERT_TRUE(store()->Write(b).ok());
      if (by_length && round % 2 == 1) {  // the other worker's units finish one by one
        WriteBatch d;
        for (int i = 0; i < 40; ++i) d.Delete(info.cf, other + std::to_string(round * 40 + i));
        for (int i = 0; i < 40; ++i)
          d.Delete(info.cf, other + std::to_string((round - 1) * 40 + i));
        ASSERT_TRUE(store()->Write(d).ok());
      }
      if (round % 3 == 2) {
        WriteBatch r;
        r.DeleteRange(info.cf, range_begin, keys::PrefixEnd(range_begin));
        ASSERT_TRUE(store()->Write(r).ok());
        for (const auto& k : Keys(store(), info.cf)) {
          EXPECT_NE(k.substr(0, prefix.size()), prefix) << "left after the range deletion";
        }
      }
    }
    // The two rounds after the last clear (round 49 deleted the other worker's 48 and 49).
    EXPECT_EQ(Keys(store(), info.cf).size(), 80u);
    WriteBatch longer;
    longer.DeleteRange(info.cf, prefix + "1", prefix + "2");
    Status s = store()->Write(longer);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_EQ(Keys(store(), info.cf).size(), 80u) << "a refused batch applies nothing";
    WriteBatch clear;
    clear.DeleteRange(info.cf, "", std::string(8, '\xff'));
    ASSERT_TRUE(store()->Write(clear).ok());
    EXPECT_TRUE(Keys(store(), info.cf).empty());
  }
}

TEST_F(StoreTest, WriteBatchClearMoveAndEmptyWrite) {
  WriteBatch b;
  b.Put(Cf::kUnits, "a", "1");
  b.Clear();
  EXPECT_TRUE(b.empty());
  ASSERT_TRUE(store()->Write(b).ok());  // empty: nothing happens
  EXPECT_FALSE(Has(store(), Cf::kUnits, "a"));

  WriteBatch src;
  src.Put(Cf::kUnits, "moved", "1");
  WriteBatch dst(std::move(src));
  EXPECT_EQ(dst.Count(), 1u);
  ASSERT_TRUE(store()->Write(dst).ok());
  EXPECT_TRUE(Has(store(), Cf::kUnits, "moved"));
  // A batch can be written twice (Write does not consume it).
  WriteBatch twice;
  twice.Put(Cf::kUnits, "t", "1");
  ASSERT_TRUE(store()->Write(twice).ok());
  EXPECT_EQ(twice.Count(), 1u);
}

// A batch keeps every operation's bytes in one buffer: many operations of mixed sizes (empty,
// binary, larger than the first buffer growths) keep their own bytes, and a cleared batch that
// is filled again writes only its new content.
TEST_F(StoreTest, BatchOfManyMixedSizeOperationsKeepsEveryKeyAndValue) {
  std::map<std::string, std::string> expected;
  WriteBatch b;
  for (int i = 0; i < 300; ++i) {
    std::string key = "k" + std::to_string(i) + std::string(static_cast<size_t>(i % 7), '\0');
    std::string value(static_cast<size_t>((i * 37) % 5 == 0 ? 0 : (i * 131) % 3000),
                      static_cast<char>('a' + i % 26));
    if (i == 150) value.assign(200 * 1024, 'z');
    b.Put(Cf::kUnits, key, value);
    expected[key] = value;
  }
  for (int i = 0; i < 300; i += 10) {
    const std::string key = "k" + std::to_string(i) + std::string(static_cast<size_t>(i % 7), '\0');
    b.Delete(Cf::kUnits, key);
    expected.erase(key);
  }
  ASSERT_TRUE(store()->Write(b).ok());
  for (const auto& [k, v] : expected) EXPECT_EQ(GetOrDie(store(), Cf::kUnits, k), v) << k;
  EXPECT_EQ(Keys(store(), Cf::kUnits).size(), expected.size());

  b.Clear();
  b.Put(Cf::kReady, "after-clear", "v");
  EXPECT_EQ(b.Count(), 1u);
  ASSERT_TRUE(store()->Write(b).ok());
  EXPECT_EQ(Keys(store(), Cf::kReady), std::vector<std::string>{"after-clear"});
  EXPECT_EQ(Keys(store(), Cf::kUnits).size(), expected.size());  // nothing written twice
}

// A batch that RocksDB refuses leaves nothing behind: Write's contract is "an error means nothing
// was applied". RocksDB checks a range delete's bounds only while inserting into the memtable,
// after the WAL write and after the earlier operations of the batch were applied.
TEST_F(StoreTest, RefusedBatchAppliesNothing) {
  WriteBatch b;
  b.Put(Cf::kUnits, "first", "1");
  b.DeleteRange(Cf::kUnits, "z", "a");  // end before begin
  b.Put(Cf::kUnits, "last", "1");
  Status s = store()->Write(b);
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(Has(store(), Cf::kUnits, "first")) << s.ToString();
  EXPECT_FALSE(Has(store(), Cf::kUnits, "last"));
  ReopenStore();
  EXPECT_FALSE(Has(store(), Cf::kUnits, "first"));
  EXPECT_FALSE(Has(store(), Cf::kUnits, "last"));
}

// ---------------------------------------------------------------------------------------------
// Iterators

TEST_F(StoreTest, IteratorsRespectBoundsAndSeek) {
  WriteBatch b;
  const std::vector<std::string> all = {std::string("\x00", 1),    "a", "b",
                                        std::string("b\x00x", 3),  "c", "d",
                                        std::string("\xff\xff", 2)};
  for (const auto& k : all) b.Put(Cf::kByStatus, k, "v:" + k);
  b.Put(Cf::kCompleted, "b", "other family");
  ASSERT_TRUE(store()->Write(b).ok());

  EXPECT_EQ(Keys(store(), Cf::kByStatus), all);
  EXPECT_EQ(Keys(store(), Cf::kByStatus, "b", "d"),
            (std::vector<std::string>{"b", std::string("b\x00x", 3), "c"}));
  EXPECT_EQ(Keys(store(), Cf::kByStatus, "", "b"),
            (std::vector<std::string>{std::string("\x00", 1), "a"}));
  EXPECT_EQ(Keys(store(), Cf::kByStatus, "c", ""),
            (std::vector<std::string>{"c", "d", std::string("\xff\xff", 2)}));
  EXPECT_TRUE(Keys(store(), Cf::kByStatus, "e", "f").empty());
  EXPECT_EQ(Keys(store(), Cf::kCompleted), std::vector<std::string>{"b"});

  auto it = store()->NewIterator(Cf::kByStatus, "a", "d");
  it->Seek("b\x01");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "c");
  EXPECT_EQ(it->value(), "v:c");
  it->Next();
  EXPECT_FALSE(it->Valid());  // "d" is the exclusive upper bound
  it->Seek("zzz");
  EXPECT_FALSE(it->Valid());
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "a");
  EXPECT_TRUE(it->status().ok());
}

TEST_F(StoreTest, IteratorSeesWritesMadeBeforeItWasCreated) {
  WriteBatch b;
  b.Put(Cf::kLeases, "k1", "");
  ASSERT_TRUE(store()->Write(b).ok());
  auto it = store()->NewIterator(Cf::kLeases, "", "");
  WriteBatch later;
  later.Put(Cf::kLeases, "k0", "");
  ASSERT_TRUE(store()->Write(later).ok());
  std::vector<std::string> seen;
  for (it->SeekToFirst(); it->Valid(); it->Next()) seen.emplace_back(it->key());
  // An iterator reads a consistent snapshot taken when it was made.
  EXPECT_EQ(seen, std::vector<std::string>{"k1"});
  EXPECT_EQ(Keys(store(), Cf::kLeases), (std::vector<std::string>{"k0", "k1"}));
}

// ---------------------------------------------------------------------------------------------
// Durability across reopen

TEST_F(StoreTest, ReopenKeepsData) {
  WriteBatch b;
  for (const auto& info : kColumnFamilies) {
    b.Put(info.cf, std::string("key-") + std::string(info.name), std::string(info.name));
  }
  ASSERT_TRUE(store()->Write(b).ok());
  ASSERT_TRUE(store()->Sync().ok());
  ReopenStore();
  for (const auto& info : kColumnFamilies) {
    EXPECT_EQ(GetOrDie(store(), info.cf, std::string("key-") + std::string(info.name)), info.name);
  }
  // Unsynced writes survive a clean close too (the WAL is in the OS either way).
  WriteBatch u;
  u.Put(Cf::kUnits, "unsynced", "1");
  ASSERT_TRUE(store()->Write(u).ok());
  ReopenStore();
  EXPECT_TRUE(Has(store(), Cf::kUnits, "unsynced"));
  // And with sync off.
  ReopenStore(/*sync=*/false);
  EXPECT_FALSE(store()->sync_enabled());
  WriteBatch n;
  n.Put(Cf::kUnits, "nosync", "1");
  ASSERT_TRUE(store()->Write(n).ok());
  ReopenStore();
  EXPECT_TRUE(Has(store(), Cf::kUnits, "nosync"));
}

// ---------------------------------------------------------------------------------------------
// Format version

TEST_F(StoreTest, NewStoreIsStampedWithTheFormatVersion) {
  auto v = ReadFormatVersion(store());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, kFormatVersion);
  // 8 bytes, big-endian, in the default column family.
  std::string raw = GetOrDie(store(), Cf::kMeta, keys::kFormatVersion);
  ASSERT_EQ(raw.size(), 8u);
  EXPECT_EQ(GetU64(raw), kFormatVersion);
  std::string expected;
  PutU64(&expected, kFormatVersion);
  EXPECT_EQ(raw, expected);
  EXPECT_TRUE(CheckFormatVersion(store()).ok());
  // Reopening keeps the version and does not rewrite it.
  ReopenStore();
  EXPECT_EQ(*ReadFormatVersion(store()), kFormatVersion);
}

TEST_F(StoreTest, MigrationStepsAreOrderedAndEndAtTheCurrentVersion) {
  uint64_t v = 1;
  for (const auto& step : Migrations()) {
    EXPECT_EQ(step.from, v) << step.doc;
    EXPECT_GT(step.to, step.from) << step.doc;
    EXPECT_FALSE(step.doc.empty());
    EXPECT_TRUE(static_cast<bool>(step.apply)) << step.doc;
    v = step.to;
  }
  EXPECT_EQ(v, kFormatVersion) << "the last migration must reach kFormatVersion";
}

const Migration& StepFrom(uint64_t version) {
  for (const auto& step : Migrations()) {
    if (step.from == version) return step;
  }
  ADD_FAILURE() << "no migration step from version " << version;
  return Migrations().front();
}

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A unit record as format version 1 wrote it: 11 elements, no available_since.
std::string V1Unit(int status, double not_before) {
  UnitRecord u;
  u.status = status;
  u.data = Value::Map();
  u.not_before = not_before;
  // 13 elements, the last two `00` (available_since 0, lease_start 0)
  std::string enc = EncodeUnit(u);
  EXPECT_EQ(static_cast<uint8_t>(enc[0]), 0x8d);
  EXPECT_EQ(enc.substr(enc.size() - 2), std::string(2, '\0'));
  return "\x8b" + enc.substr(1, enc.size() - 3);
}

// Version 1 -> 2 (migrations/0002_waiting_index.md): every AVAILABLE unit gets available_since
// (the migration's time) and its `waiting` entry; other units are untouched; re-running the
// step leaves exactly one entry per available unit.
TEST_F(StoreTest, Version1StoreGetsTheWaitingIndex) {
  const double later = 5e9;  // a delay far in the future
  const std::string pending = V1Unit(kPending, 0);
  {
    WriteBatch b;
    b.Put(Cf::kUnits, keys::Unit(1, "a"), V1Unit(kAvailable, 0));
    b.Put(Cf::kUnits, keys::Unit(1, "b"), pending);
    b.Put(Cf::kUnits, keys::Unit(2, "c"), V1Unit(kAvailable, later));
    ASSERT_TRUE(store()->Write(b).ok());
  }
  SetFormatVersion(store(), 1);
  CloseStore();
  const double t0 = WallNow();
  auto reopened = OpenStoreAt(db_path());
  const double t1 = WallNow();
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  Store* st = reopened->get();
  EXPECT_EQ(*ReadFormatVersion(st), kFormatVersion);

  auto a = DecodeUnit(GetOrDie(st, Cf::kUnits, keys::Unit(1, "a")));
  ASSERT_TRUE(a.ok());
  EXPECT_GE(a->available_since, t0 - 0.001);
  EXPECT_LE(a->available_since, t1 + 0.001);
  auto c = DecodeUnit(GetOrDie(st, Cf::kUnits, keys::Unit(2, "c")));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(GetOrDie(st, Cf::kUnits, keys::Unit(1, "b")), pending) << "not AVAILABLE: untouched";
  const std::vector<std::string> expected = {keys::Waiting(1, a->available_since, "a"),
                                             keys::Waiting(2, later, "c")};
  EXPECT_EQ(Keys(st, Cf::kWaiting), expected);

  // The step is idempotent (a crash before the version is written re-runs it).
  ASSERT_TRUE(Migrations().front().apply(st).ok());
  EXPECT_EQ(Keys(st, Cf::kWaiting).size(), 2u);
  auto a2 = DecodeUnit(GetOrDie(st, Cf::kUnits, keys::Unit(1, "a")));
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(Keys(st, Cf::kWaiting).front(), keys::Waiting(1, a2->available_since, "a"));
}

// Version 2 -> 3 (migrations/0003_narrow_by_status.md): by_status loses the entries of PENDING
// units and of AVAILABLE units that are not delayed; everything else stays; a re-run changes
// nothing.
TEST_F(StoreTest, Version2StoreNarrowsByStatus) {
  struct Unit {
    std::string key;
    int status;
    double not_before;
    double priority;
  };
  const std::vector<Unit> units = {{"ready", kAvailable, 0, 5}, {"delayed", kAvailable, 5e9, 1},
                                   {"leased", kPending, 0, 2},  {"done", kFinished, 0, 0},
                                   {"broke", kFailed, 0, -1},   {"waits", kBlocked, 0, 3}};
  {
    WriteBatch b;
    for (const Unit& u : units) {
      UnitRecord r;
      r.status = u.status;
      r.not_before = u.not_before;
      r.priority = u.priority;
      r.data = Value::Map();
      b.Put(Cf::kUnits, keys::Unit(7, u.key), EncodeUnit(r));
      b.Put(Cf::kByStatus, keys::ByStatus(7, u.status, u.priority, u.key), "");
    }
    // An entry whose unit is gone (damage the step leaves for `check` to report).
    b.Put(Cf::kByStatus, keys::ByStatus(7, kFinished, 0, "orphan"), "");
    ASSERT_TRUE(store()->Write(b).ok());
  }
  auto reopened = ReopenFromVersion(2);
  ASSERT_NE(reopened, nullptr);
  Store* st = reopened.get();
  std::vector<std::string> expected = {
      keys::ByStatus(7, kAvailable, 1, "delayed"), keys::ByStatus(7, kBlocked, 3, "waits"),
      keys::ByStatus(7, kFinished, 0, "done"), keys::ByStatus(7, kFinished, 0, "orphan"),
      keys::ByStatus(7, kFailed, -1, "broke")};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Keys(st, Cf::kByStatus), expected);
  for (const Unit& u : units) EXPECT_FALSE(GetOrDie(st, Cf::kUnits, keys::Unit(7, u.key)).empty());

  ASSERT_TRUE(StepFrom(2).apply(st).ok());
  EXPECT_EQ(Keys(st, Cf::kByStatus), expected);
}

// Version 3 -> 4 (migrations/0004_open_attempt_in_unit.md): a PENDING unit's stored record of
// its current attempt moves into the unit record (lease_start) and is deleted; ended attempts
// and other units stay as they are; a re-run changes nothing.
TEST_F(StoreTest, Version3StoreMovesOpenAttemptsIntoUnitRecords) {
  UnitRecord leased;
  leased.status = kPending;
  leased.data = Value::Map();
  leased.worker_id = Value::Text("w");
  leased.expiration = 2000;
  leased.attempts = 2;
  AttemptRecord ended;
  ended.worker_id = Value::Text("v");
  ended.start = 500;
  ended.expires = 600;
  ended.end = 600;
  ended.status = "expired";
  AttemptRecord open;
  open.worker_id = Value::Text("w");
  open.start = 1000;
  open.expires = 2000;
  UnitRecord done = leased;
  done.status = kFinished;
  done.expiration = 1500;
  done.attempts = 1;
  AttemptRecord finished = open;
  finished.end = 1500;
  finished.status = "finished";
  {
    WriteBatch b;
    b.Put(Cf::kUnits, keys::Unit(3, "leased"), EncodeUnit(leased));
    b.Put(Cf::kLeases, keys::Lease(3, 2000, "leased"), "");
    b.Put(Cf::kAttempts, keys::Attempt(3, "leased", 1), EncodeAttempt(ended));
    b.Put(Cf::kAttempts, keys::Attempt(3, "leased", 2), EncodeAttempt(open));
    b.Put(Cf::kUnits, keys::Unit(3, "done"), EncodeUnit(done));
    b.Put(Cf::kAttempts, keys::Attempt(3, "done", 1), EncodeAttempt(finished));
    ASSERT_TRUE(store()->Write(b).ok());
  }
  auto reopened = ReopenFromVersion(3);
  ASSERT_NE(reopened, nullptr);
  Store* st = reopened.get();
  auto check = [&] {
    auto u = DecodeUnit(GetOrDie(st, Cf::kUnits, keys::Unit(3, "leased")));
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->lease_start, 1000);
    EXPECT_EQ(u->attempts, 2u);
    const std::vector<std::string> attempts = {keys::Attempt(3, "done", 1),
                                               keys::Attempt(3, "leased", 1)};
    auto sorted = attempts;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(Keys(st, Cf::kAttempts), sorted);
    EXPECT_EQ(GetOrDie(st, Cf::kUnits, keys::Unit(3, "done")), EncodeUnit(done));
    // The history reads the same as before: the ended attempt, then the open one.
    auto history = ReadAttempts(*st, 3, "leased", *u);
    ASSERT_TRUE(history.ok());
    ASSERT_EQ(history->size(), 2u);
    EXPECT_EQ((*history)[0].number, 1u);
    EXPECT_EQ(EncodeAttempt((*history)[0].record), EncodeAttempt(ended));
    EXPECT_EQ((*history)[1].number, 2u);
    EXPECT_EQ(EncodeAttempt((*history)[1].record), EncodeAttempt(open));
  };
  check();
  ASSERT_TRUE(StepFrom(3).apply(st).ok());
  check();
}

// Damage does not stop a migration (a store that stopped half way would open with no binary):
// the steps skip short index keys and records that do not decode, leaving them for `check`.
TEST_F(StoreTest, DamagedVersion2StoreStillMigrates) {
  const std::string short_key = keys::Spec(4) + std::string("\x01\x02", 2);
  {
    WriteBatch b;
    b.Put(Cf::kByStatus, short_key, "");
    b.Put(Cf::kByStatus, keys::ByStatus(4, kAvailable, 0, "junk"), "");
    b.Put(Cf::kUnits, keys::Unit(4, "junk"), "not cbor");
    b.Put(Cf::kLeases, short_key, "");
    b.Put(Cf::kLeases, keys::Lease(4, 100, "junk"), "");
    ASSERT_TRUE(store()->Write(b).ok());
  }
  auto reopened = ReopenFromVersion(2);
  ASSERT_NE(reopened, nullptr);
  Store* st = reopened.get();
  std::vector<std::string> by_status = {short_key, keys::ByStatus(4, kAvailable, 0, "junk")};
  std::sort(by_status.begin(), by_status.end());
  EXPECT_EQ(Keys(st, Cf::kByStatus), by_status);
  EXPECT_EQ(Keys(st, Cf::kLeases).size(), 2u);
  EXPECT_EQ(GetOrDie(st, Cf::kUnits, keys::Unit(4, "junk")), "not cbor");
}

TEST_F(StoreTest, NewerStoreIsRefusedNamingBothVersions) {
  SetFormatVersion(store(), kFormatVersion + 1);
  CloseStore();
  for (bool read_only : {false, true}) {
    auto s = OpenStoreAt(db_path(), true, read_only);
    ASSERT_FALSE(s.ok()) << "read_only=" << read_only;
    EXPECT_EQ(s.status().code(), Code::kFailedPrecondition) << s.status().ToString();
    const std::string& m = s.status().message();
    EXPECT_NE(m.find("format version " + std::to_string(kFormatVersion + 1)), std::string::npos)
        << m;
    EXPECT_NE(m.find("(" + std::to_string(kFormatVersion) + ")"), std::string::npos) << m;
    EXPECT_NE(m.find(db_path()), std::string::npos) << m;
  }
  // (The read-only pass runs after the writable refusal: the refusal changed nothing.)
}

TEST_F(StoreTest, MalformedFormatVersionIsCorruption) {
  WriteBatch b;
  b.Put(Cf::kMeta, keys::kFormatVersion, "v1");
  ASSERT_TRUE(store()->Write(b).ok());
  auto v = ReadFormatVersion(store());
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kCorruption);
  CloseStore();
  auto s = OpenStoreAt(db_path());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kCorruption) << s.status().ToString();
}

TEST_F(StoreTest, StoreWithSpecsButNoVersionIsRefused) {
  WriteBatch b;
  b.Put(Cf::kSpecs, keys::Spec(1), "a spec record");
  b.Delete(Cf::kMeta, keys::kFormatVersion);
  ASSERT_TRUE(store()->Write(b).ok());
  ASSERT_EQ(*ReadFormatVersion(store()), 0u);
  CloseStore();
  auto s = OpenStoreAt(db_path());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kCorruption) << s.status().ToString();
  EXPECT_NE(s.status().message().find("no format version"), std::string::npos);
}

TEST_F(StoreTest, EmptyStoreWithoutVersionIsStampedOnOpen) {
  WriteBatch b;
  b.Delete(Cf::kMeta, keys::kFormatVersion);
  b.Put(Cf::kWorkers, "w", "not a spec");  // only specs make a store "not ours"
  ASSERT_TRUE(store()->Write(b).ok());
  ReopenStore();
  EXPECT_EQ(*ReadFormatVersion(store()), kFormatVersion);
  EXPECT_TRUE(Has(store(), Cf::kWorkers, "w"));
}

// ---------------------------------------------------------------------------------------------
// Read-only opens (coordinate-admin with the daemon up or down)

TEST_F(StoreTest, ReadOnlyOpenOfAnExistingStore) {
  WriteBatch b;
  b.Put(Cf::kUnits, "u", "1");
  b.Put(Cf::kSpecs, keys::Spec(1), "s");
  ASSERT_TRUE(store()->Write(b).ok());
  ASSERT_TRUE(store()->Sync().ok());
  {
    // While the writer is still open.
    auto ro = OpenStoreAt(db_path(), true, /*read_only=*/true);
    ASSERT_TRUE(ro.ok()) << ro.status().ToString();
    EXPECT_EQ(GetOrDie(ro->get(), Cf::kUnits, "u"), "1");
    EXPECT_EQ(*ReadFormatVersion(ro->get()), kFormatVersion);
  }
  CloseStore();
  auto ro = OpenStoreAt(db_path(), true, /*read_only=*/true);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  Store* r = ro->get();
  EXPECT_EQ(GetOrDie(r, Cf::kUnits, "u"), "1");
  EXPECT_EQ(Keys(r, Cf::kSpecs), std::vector<std::string>{keys::Spec(1)});
  // Writes are refused and nothing changes.
  WriteBatch w;
  w.Put(Cf::kUnits, "x", "1");
  EXPECT_FALSE(r->Write(w).ok());
  EXPECT_FALSE(Has(r, Cf::kUnits, "x"));
  ro->reset();
  OpenStore();
  EXPECT_FALSE(Has(store(), Cf::kUnits, "x"));
}

// A store written before the locks and dependency families were added (they came without a
// format version change) lacks those column families. A writable open creates them; a
// read-only open (coordinate-admin with the daemon down) must work too.
TEST(StoreOpenTest, ReadOnlyOpenOfAStoreMissingALaterColumnFamily) {
  TempDir dir;
  const std::string path = dir.path() + "/db";
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& info : kColumnFamilies) {
      if (info.cf == Cf::kLocks || info.cf == Cf::kDepsForward || info.cf == Cf::kDepsReverse) {
        continue;
      }
      cfs.emplace_back(std::string(info.name), rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, path, cfs, &handles, &db).ok());
    std::string v;
    PutU64(&v, kFormatVersion);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[0], "format_version", v).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[2], keys::Unit(1, "u"), "x").ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  auto ro = OpenStoreAt(path, true, /*read_only=*/true);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ(GetOrDie(ro->get(), Cf::kUnits, keys::Unit(1, "u")), "x");
  EXPECT_TRUE(Scan(ro->get(), Cf::kLocks).empty());
}

// Only the families looked up by key carry Bloom filters in their table files.
TEST_F(StoreTest, OnlyPointReadFamiliesBuildFilters) {
  WriteBatch b;
  for (const auto& info : kColumnFamilies) {
    for (int i = 0; i < 100; ++i) b.Put(info.cf, keys::Unit(1, "k" + std::to_string(i)), "v");
  }
  ASSERT_TRUE(store()->Write(b).ok());
  auto asked = store()->FlushMemtables(/*min_entries=*/1, /*wait=*/true);
  ASSERT_TRUE(asked.ok()) << asked.status().ToString();
  EXPECT_EQ(*asked, static_cast<int>(std::size(kColumnFamilies)));
  CloseStore();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& info : kColumnFamilies) {
    cfs.emplace_back(std::string(info.name), rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), db_path(), cfs, &handles, &db).ok());
  for (size_t i = 0; i < handles.size(); ++i) {
    rocksdb::TablePropertiesCollection tables;
    ASSERT_TRUE(db->GetPropertiesOfAllTables(handles[i], &tables).ok());
    ASSERT_FALSE(tables.empty()) << kColumnFamilies[i].name;
    for (const auto& [file, props] : tables) {
      EXPECT_EQ(props->filter_size > 0, kColumnFamilies[i].point_reads)
          << kColumnFamilies[i].name << " " << file << " filter " << props->filter_size;
    }
  }
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  delete db;
}

// The nice value of every thread of this process named `name`.
std::vector<int> NiceOfThreads(const std::string& name) {
  std::vector<int> out;
  for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(t.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != name) continue;
    std::ifstream stat(t.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const size_t close = line.rfind(')');
    if (close == std::string::npos || close + 2 > line.size()) continue;  // the thread ended
    // Fields after the parenthesised command: state is field 3, nice field 19.
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    int i = 3;
    for (; i <= 19 && rest >> field; ++i) {
    }
    if (i == 20) out.push_back(std::stoi(field));
  }
  return out;
}

TEST_F(StoreTest, CompactionsRunAtTheLowestCpuPriority) {
  // Overlapping level-0 files until RocksDB compacts them on its compaction thread, which
  // takes the lowered priority when it picks up the job.
  for (int round = 0; round < 40; ++round) {
    WriteBatch b;
    for (int i = 0; i < 50; ++i) b.Put(Cf::kUnits, keys::Unit(1, "k" + std::to_string(i)), "v");
    ASSERT_TRUE(store()->Write(b).ok());
    ASSERT_TRUE(store()->FlushMemtables(1, /*wait=*/true).ok());
    for (int nice : NiceOfThreads("rocksdb:low")) {
      if (nice == 19) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "no compaction thread at nice 19";
}

// ---------------------------------------------------------------------------------------------
// Sync: one fsync per dirty group, none when clean or when sync is off

TEST_F(StoreTest, SyncCountsOnlyWhenDirty) {
  const uint64_t base = store()->syncs();
  ASSERT_TRUE(store()->Sync().ok());
  EXPECT_EQ(store()->syncs(), base) << "nothing written: no fsync";
  WriteBatch b;
  b.Put(Cf::kUnits, "a", "1");
  ASSERT_TRUE(store()->Write(b).ok());
  ASSERT_TRUE(store()->Write(b).ok());  // two writes, one group
  ASSERT_TRUE(store()->Sync().ok());
  EXPECT_EQ(store()->syncs(), base + 1);
  ASSERT_TRUE(store()->Sync().ok());
  EXPECT_EQ(store()->syncs(), base + 1) << "clean again after a sync";
  WriteBatch empty;
  ASSERT_TRUE(store()->Write(empty).ok());
  ASSERT_TRUE(store()->Sync().ok());
  EXPECT_EQ(store()->syncs(), base + 1) << "an empty batch does not make the store dirty";
  ASSERT_TRUE(store()->Write(b).ok());
  ASSERT_TRUE(store()->Sync().ok());
  EXPECT_EQ(store()->syncs(), base + 2);
}

TEST_F(StoreTest, OpeningANewStoreSyncsItsStamp) {
  // The fixture created a new store: the version stamp was synced once.
  EXPECT_EQ(store()->syncs(), 1u);
  ReopenStore();  // an existing, current store: nothing to write, nothing to sync
  EXPECT_EQ(store()->syncs(), 0u);
}

TEST_F(StoreTest, SyncOffNeverSyncs) {
  ReopenStore(/*sync=*/false);
  WriteBatch b;
  b.Put(Cf::kUnits, "a", "1");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store()->Write(b).ok());
    ASSERT_TRUE(store()->Sync().ok());
  }
  EXPECT_EQ(store()->syncs(), 0u);
}

// ---------------------------------------------------------------------------------------------
// Checkpoint

TEST_F(StoreTest, CheckpointOpensAsAStoreWithTheSameData) {
  WriteBatch b;
  for (const auto& info : kColumnFamilies) {
    for (int i = 0; i < 20; ++i) {
      b.Put(info.cf, std::string(info.name) + std::to_string(i), std::to_string(i));
    }
  }
  ASSERT_TRUE(store()->Write(b).ok());
  const std::string cp = dir() + "/checkpoint";
  ASSERT_TRUE(store()->Checkpoint(cp).ok());
  // Changes after the checkpoint are not in it.
  WriteBatch after;
  after.Put(Cf::kUnits, "after", "1");
  ASSERT_TRUE(store()->Write(after).ok());

  std::vector<std::vector<std::pair<std::string, std::string>>> original;
  for (const auto& info : kColumnFamilies) original.push_back(Scan(store(), info.cf));

  auto copy = OpenStoreAt(cp);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(*ReadFormatVersion(copy->get()), kFormatVersion);
  for (size_t i = 0; i < std::size(kColumnFamilies); ++i) {
    auto got = Scan(copy->get(), kColumnFamilies[i].cf);
    auto want = original[i];
    if (kColumnFamilies[i].cf == Cf::kUnits) {
      std::erase_if(want, [](const auto& kv) { return kv.first == "after"; });
    }
    EXPECT_EQ(got, want) << kColumnFamilies[i].name;
  }
  // The copy is independent of the original.
  WriteBatch w;
  w.Put(Cf::kUnits, "only-in-copy", "1");
  ASSERT_TRUE((*copy)->Write(w).ok());
  EXPECT_FALSE(Has(store(), Cf::kUnits, "only-in-copy"));
  // A checkpoint into an existing directory is refused.
  EXPECT_FALSE(store()->Checkpoint(cp).ok());
}

// ---------------------------------------------------------------------------------------------
// Batch encoding: WriteBatch's own encoding against the library's

TEST_F(StoreTest, FreshStoreHandsItsOwnBatchEncodingToRocksDb) {
  EXPECT_TRUE(store()->direct_batches());
  ReopenStore();
  EXPECT_TRUE(store()->direct_batches());
}

// The same random batches (puts, deletes and range deletions in every family, keys and values
// whose lengths take one to three varint bytes, one batch object cleared and reused) written to
// a store that hands WriteBatch's encoding to RocksDB and to one that re-encodes through the
// library's API leave the same contents, also after both replay their write-ahead logs.
TEST_F(StoreTest, DirectAndLibraryBatchesLeaveTheSameStore) {
  TempDir other_dir;
  StoreOptions o;
  o.path = other_dir.path() + "/db";
  o.library_batches = true;
  auto library = Store::Open(o);
  ASSERT_TRUE(library.ok()) << library.status().ToString();
  ASSERT_FALSE((*library)->direct_batches());
  ASSERT_TRUE(store()->direct_batches());

  std::mt19937 rng(7);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  auto text = [&](size_t max_len) {
    const size_t lens[] = {0, 1, 5, 127, 128, 300, 20000};
    std::string t(std::min(max_len, lens[pick(std::size(lens))]), 'x');
    for (char& c : t) c = static_cast<char>('a' + pick(4));
    return t;
  };
  WriteBatch b;
  for (int round = 0; round < 60; ++round) {
    b.Clear();
    const int ops = 1 + static_cast<int>(pick(40));
    for (int i = 0; i < ops; ++i) {
      const Cf cf = kColumnFamilies[pick(std::size(kColumnFamilies))].cf;
      const std::string key = (cf == Cf::kMeta ? "k" : "") + text(300);
      switch (pick(5)) {
        case 0:
          b.Delete(cf, key);
          break;
        case 1:
          // Range deletions only where no insert hint applies (Store::Write refuses others).
          if (kColumnFamilies[CfIndex(cf)].hint_prefix == 0) {
            std::string end = key + "b";
            b.DeleteRange(cf, key + "a", end);
          }
          break;
        default:
          b.Put(cf, key, text(20000), /*read_soon=*/pick(2) == 0);
      }
    }
    ASSERT_TRUE(store()->Write(b).ok()) << round;
    ASSERT_TRUE((*library)->Write(b).ok()) << round;
  }
  auto same = [&](const Store* a, const Store* l) {
    for (const auto& info : kColumnFamilies) {
      if (info.cf == Cf::kMeta) continue;  // each store's own bookkeeping lives there too
      EXPECT_EQ(Scan(a, info.cf), Scan(l, info.cf)) << info.name;
    }
    EXPECT_EQ(Scan(a, Cf::kMeta, "k", "l"), Scan(l, Cf::kMeta, "k", "l"));
  };
  same(store(), library->get());
  size_t entries = 0;
  for (const auto& info : kColumnFamilies) entries += Scan(store(), info.cf).size();
  EXPECT_GT(entries, 300u);  // the batches left something to compare
  ReopenStore();
  library->reset();
  library = Store::Open(o);
  ASSERT_TRUE(library.ok()) << library.status().ToString();
  same(store(), library->get());
}

}  // namespace
}  // namespace coordinated::storage
