// Unit tests for the memtable index (src/storage/memtable_rep.h): a real RocksDB opened directly
// with NewSkipListMemTableFactory(), checked against a std::map model through every read path
// that goes through the index (Get, forward and reverse iteration, Seek, SeekForPrev, direction
// changes, snapshots, WAL replay), with concurrent readers, and for its memory accounting.
//
// The random tests print their seed; set COORD_TEST_SEED=<n> to replay one.
#include "storage/memtable_rep.h"

#include <gtest/gtest.h>
#include <rocksdb/comparator.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "unit/temp_store.h"

namespace coordinated::storage {
namespace {

using Model = std::map<std::string, std::string>;
using KVs = std::vector<std::pair<std::string, std::string>>;

uint64_t Seed() {
  if (const char* s = std::getenv("COORD_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

// Bytes as text: printable ASCII as is, everything else as \xNN.
std::string Show(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

// Empty when equal, else where and how `got` first differs from `want`.
std::string Diff(const KVs& got, const KVs& want) {
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (got[i] != want[i]) {
      return "at " + std::to_string(i) + ": got " + Show(got[i].first) + "=" + Show(got[i].second) +
             ", want " + Show(want[i].first) + "=" + Show(want[i].second);
    }
  }
  if (got.size() != want.size()) {
    const bool longer = got.size() > want.size();
    const auto& extra = longer ? got[want.size()] : want[got.size()];
    return "got " + std::to_string(got.size()) + " entries, want " + std::to_string(want.size()) +
           "; first " + (longer ? "unexpected " : "missing ") + Show(extra.first);
  }
  return "";
}

class MemTableRepTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed"; }
  void TearDown() override { Close(); }

  // Opens (or reopens) the database at <tempdir>/db with the index under test.
  void Open() {
    Close();
    options_.create_if_missing = true;
    options_.memtable_factory = NewSkipListMemTableFactory();
    options_.allow_concurrent_memtable_write = false;
    options_.write_buffer_size = 64ull << 20;  // everything stays in the memtable unless flushed
    // What the WAL replays stays in the memtable (read back through the index) after Open.
    options_.avoid_flush_during_recovery = true;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options_, dir_.path() + "/db", &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
    ASSERT_STREQ(db_->GetOptions().memtable_factory->Name(), "coordinated.SkipListRep");
  }
  void Close() {
    if (!db_) return;
    rocksdb::Status s = db_->Close();
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset();
  }
  void Flush() {
    rocksdb::Status s = db_->Flush(rocksdb::FlushOptions());
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(IntProperty("rocksdb.num-entries-active-mem-table"), 0u);
  }
  uint64_t IntProperty(const char* name) {
    uint64_t v = 0;
    EXPECT_TRUE(db_->GetIntProperty(name, &v)) << name;
    return v;
  }
  rocksdb::Status Put(const std::string& k, const std::string& v) {
    return db_->Put(rocksdb::WriteOptions(), k, v);
  }

  coordtest::TempDir dir_;
  rocksdb::Options options_;
  std::unique_ptr<rocksdb::DB> db_;
};

// ---------------------------------------------------------------------------------------------
// Random operations against a model

// A few hundred distinct keys: fixed awkward ones (empty, \x00 and \xff runs, long) and random
// ones over a small alphabet, many made by extending an existing key (shared prefixes).
std::vector<std::string> KeyPool(std::mt19937_64& rng) {
  std::set<std::string> keys = {"",
                                "a",
                                "aa",
                                "aaa",
                                "ab",
                                "abc",
                                "abd",
                                "b",
                                std::string(1, '\0'),
                                std::string(2, '\0'),
                                std::string(3, '\0'),
                                "\xff",
                                "\xff\xff",
                                "\xff\xff\xff",
                                std::string("a\0", 2),
                                "a\xff",
                                std::string("\0\xff", 2),
                                std::string("\xff\0", 2),
                                std::string(300, 'x'),
                                std::string(300, 'x') + "y"};
  static const char kAlphabet[] = {'\0', '\x01', 'a',    'b',    '/',
                                   'z',  '\x7f', '\x80', '\xfe', '\xff'};
  std::vector<std::string> grown(keys.begin(), keys.end());
  while (keys.size() < 400) {
    std::string k;
    if (rng() % 2 == 0) k = grown[rng() % grown.size()];  // a shared prefix
    const size_t extra = 1 + rng() % 8;
    for (size_t i = 0; i < extra; ++i) k.push_back(kAlphabet[rng() % sizeof(kAlphabet)]);
    if (keys.insert(k).second) grown.push_back(k);
  }
  return grown;
}

std::string RandomValue(std::mt19937_64& rng, int op) {
  std::string v = "v" + std::to_string(op) + ":";
  const size_t n = rng() % 4 == 0 ? rng() % 400 : rng() % 24;
  for (size_t i = 0; i < n; ++i) v.push_back(static_cast<char>(rng()));
  return v;
}

class RandomOps {
 public:
  RandomOps(uint64_t seed, rocksdb::DB** db) : rng_(seed), db_(db), pool_(KeyPool(rng_)) {}

  const std::string& PoolKey() { return pool_[rng_() % pool_.size()]; }

  // A key to look up or seek to: a pool key, one just after or before a pool key, or random.
  std::string ProbeKey() {
    switch (rng_() % 5) {
      case 0:
        return PoolKey() + std::string(1, '\0');
      case 1: {
        std::string k = PoolKey();
        if (!k.empty()) k.pop_back();
        return k;
      }
      case 2: {
        std::string k;
        const size_t n = rng_() % 6;
        for (size_t i = 0; i < n; ++i) k.push_back(static_cast<char>(rng_()));
        return k;
      }
      default:
        return PoolKey();
    }
  }
  // A present key of the model if there is one (overwrites, deletes of existing keys).
  std::string PresentKey() {
    if (model_.empty()) return PoolKey();
    auto it = model_.lower_bound(ProbeKey());
    if (it == model_.end()) it = model_.begin();
    return it->first;
  }

  // One random write: a Put, an overwrite, a Delete, or a batch of several.
  void Step(int op) {
    const uint64_t r = rng_() % 100;
    rocksdb::Status s;
    if (r < 45) {
      const std::string& k = PoolKey();
      std::string v = RandomValue(rng_, op);
      s = (*db_)->Put(rocksdb::WriteOptions(), k, v);
      model_[k] = v;
    } else if (r < 65) {
      std::string k = PresentKey();
      std::string v = RandomValue(rng_, op);
      s = (*db_)->Put(rocksdb::WriteOptions(), k, v);
      model_[k] = v;
    } else if (r < 90) {
      std::string k = rng_() % 4 == 0 ? PoolKey() : PresentKey();
      s = (*db_)->Delete(rocksdb::WriteOptions(), k);
      model_.erase(k);
    } else {
      rocksdb::WriteBatch batch;
      const int n = 2 + static_cast<int>(rng_() % 8);
      for (int i = 0; i < n; ++i) {
        // The same key more than once in a batch now and then (the last op wins).
        std::string k = rng_() % 3 == 0 ? PresentKey() : PoolKey();
        if (rng_() % 4 == 0) {
          ASSERT_TRUE(batch.Delete(k).ok());
          model_.erase(k);
        } else {
          std::string v = RandomValue(rng_, op);
          ASSERT_TRUE(batch.Put(k, v).ok());
          model_[k] = v;
        }
      }
      s = (*db_)->Write(rocksdb::WriteOptions(), &batch);
    }
    ASSERT_TRUE(s.ok()) << "op " << op << ": " << s.ToString();
  }

  // Checks every read path against the model; `where` names the point of the run.
  void Verify(const std::string& where) {
    SCOPED_TRACE(where);
    rocksdb::DB* db = *db_;
    // Point reads, present and absent.
    for (int i = 0; i < 60; ++i) {
      const std::string k = i % 2 ? PoolKey() : ProbeKey();
      std::string v;
      rocksdb::Status s = db->Get(rocksdb::ReadOptions(), k, &v);
      auto m = model_.find(k);
      if (m == model_.end()) {
        ASSERT_TRUE(s.IsNotFound()) << "Get " << Show(k) << ": " << s.ToString() << " " << Show(v);
      } else {
        ASSERT_TRUE(s.ok()) << "Get " << Show(k) << ": " << s.ToString();
        ASSERT_EQ(Show(v), Show(m->second)) << "Get " << Show(k);
      }
    }
    const KVs want(model_.begin(), model_.end());
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    // Full forward scan.
    KVs got;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      got.emplace_back(it->key().ToString(), it->value().ToString());
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    ASSERT_EQ(Diff(got, want), "") << "forward scan";
    // Full reverse scan.
    got.clear();
    for (it->SeekToLast(); it->Valid(); it->Prev()) {
      got.emplace_back(it->key().ToString(), it->value().ToString());
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    std::reverse(got.begin(), got.end());
    ASSERT_EQ(Diff(got, want), "") << "reverse scan";
    // Seek and SeekForPrev.
    for (int i = 0; i < 40; ++i) {
      const std::string k = ProbeKey();
      it->Seek(k);
      auto lb = model_.lower_bound(k);
      ExpectAt(it.get(), lb, "Seek(" + Show(k) + ")");
      it->SeekForPrev(k);
      auto ub = model_.upper_bound(k);
      ExpectAt(it.get(), ub == model_.begin() ? model_.end() : std::prev(ub),
               "SeekForPrev(" + Show(k) + ")");
      if (::testing::Test::HasFatalFailure()) return;
    }
    // Next/Prev alternation from random positions.
    for (int walk = 0; walk < 10; ++walk) {
      const std::string k = ProbeKey();
      auto m = model_.lower_bound(k);
      std::string trail;
      if (walk % 2 == 0) {
        it->Seek(k);
        trail = "Seek(" + Show(k) + ")";
      } else {
        auto ub = model_.upper_bound(k);
        m = ub == model_.begin() ? model_.end() : std::prev(ub);
        it->SeekForPrev(k);
        trail = "SeekForPrev(" + Show(k) + ")";
      }
      for (int step = 0; step < 40 && m != model_.end(); ++step) {
        ExpectAt(it.get(), m, trail);
        if (::testing::Test::HasFatalFailure()) return;
        if (rng_() % 2 == 0) {
          it->Next();
          ++m;
          trail += " Next";
        } else {
          it->Prev();
          m = m == model_.begin() ? model_.end() : std::prev(m);
          trail += " Prev";
        }
      }
      ExpectAt(it.get(), m, trail);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

  const Model& model() const { return model_; }

 private:
  // The iterator is at `m` (model_.end(): not valid).
  void ExpectAt(rocksdb::Iterator* it, Model::const_iterator m, const std::string& what) {
    ASSERT_TRUE(it->status().ok()) << what << ": " << it->status().ToString();
    if (m == model_.end()) {
      ASSERT_FALSE(it->Valid()) << what << ": at " << Show(it->key().ToString())
                                << ", want not valid";
      return;
    }
    ASSERT_TRUE(it->Valid()) << what << ": not valid, want " << Show(m->first);
    ASSERT_EQ(Show(it->key().ToString()), Show(m->first)) << what;
    ASSERT_EQ(Show(it->value().ToString()), Show(m->second)) << what << " value";
  }

  std::mt19937_64 rng_;
  rocksdb::DB** db_;
  std::vector<std::string> pool_;
  Model model_;
};

class MemTableRepRandomTest : public MemTableRepTest {
 protected:
  void Run() {
    const uint64_t seed = Seed();
    std::cout << "[ SEED ] " << seed << " (rerun with COORD_TEST_SEED=" << seed << ")\n";
    SCOPED_TRACE("seed " + std::to_string(seed));
    ASSERT_NO_FATAL_FAILURE(Open());
    rocksdb::DB* db = db_.get();
    RandomOps ops(seed, &db);
    constexpr int kOps = 20000;
    for (int op = 1; op <= kOps; ++op) {
      ASSERT_NO_FATAL_FAILURE(ops.Step(op));
      if (op % 500 == 0) {
        ASSERT_NO_FATAL_FAILURE(ops.Verify("after op " + std::to_string(op)));
      }
      if (op == kOps / 2) {
        // The memtable must still hold everything (no flush behind the test's back).
        ASSERT_GE(IntProperty("rocksdb.num-entries-active-mem-table"), static_cast<uint64_t>(op));
        ASSERT_NO_FATAL_FAILURE(Flush());
        ASSERT_NO_FATAL_FAILURE(ops.Verify("after the flush at op " + std::to_string(op)));
      }
    }
    ASSERT_GT(IntProperty("rocksdb.num-entries-active-mem-table"), 0u);
    // Reopening replays the WAL into a new memtable, through the index.
    ASSERT_NO_FATAL_FAILURE(Open());
    db = db_.get();
    ASSERT_GE(IntProperty("rocksdb.num-entries-active-mem-table"), static_cast<uint64_t>(kOps / 2));
    ASSERT_NO_FATAL_FAILURE(ops.Verify("after reopening (WAL replayed)"));
    ASSERT_NO_FATAL_FAILURE(Flush());
    ASSERT_NO_FATAL_FAILURE(ops.Verify("after the final flush"));
    ASSERT_NO_FATAL_FAILURE(Open());
    db = db_.get();
    ASSERT_NO_FATAL_FAILURE(ops.Verify("after reopening (flushed)"));
    EXPECT_GT(ops.model().size(), 50u);  // the run kept a meaningful number of keys
  }
};

TEST_F(MemTableRepRandomTest, RandomOperationsMatchAModel) { Run(); }

// The same with memtable insert hints (one splice per 2-byte prefix; shorter keys go without),
// as the store configures for some column families.
TEST_F(MemTableRepRandomTest, RandomOperationsWithInsertHintsMatchAModel) {
  options_.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(2));
  Run();
}

// ---------------------------------------------------------------------------------------------
// Many entries of one user key

TEST_F(MemTableRepTest, SnapshotsSeeOldVersions) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_TRUE(Put("j", "before").ok());
  ASSERT_TRUE(Put("l", "after").ok());
  constexpr int kVersions = 400;
  std::vector<const rocksdb::Snapshot*> snapshots;
  std::vector<std::string> versions;  // "" = deleted at that snapshot
  for (int i = 0; i < kVersions; ++i) {
    if (i % 37 == 36) {
      ASSERT_TRUE(db_->Delete(rocksdb::WriteOptions(), "k").ok());
      versions.emplace_back();
    } else {
      versions.push_back("v" + std::to_string(i));
      ASSERT_TRUE(Put("k", versions.back()).ok());
    }
    snapshots.push_back(db_->GetSnapshot());
  }
  // Every version is an entry of its own in the memtable.
  ASSERT_EQ(IntProperty("rocksdb.num-entries-active-mem-table"), kVersions + 2u);

  auto check = [&](const std::string& where) {
    SCOPED_TRACE(where);
    for (int i = 0; i < kVersions; ++i) {
      SCOPED_TRACE("snapshot " + std::to_string(i));
      rocksdb::ReadOptions ro;
      ro.snapshot = snapshots[static_cast<size_t>(i)];
      const std::string& want = versions[static_cast<size_t>(i)];
      std::string v;
      rocksdb::Status s = db_->Get(ro, "k", &v);
      if (want.empty()) {
        ASSERT_TRUE(s.IsNotFound()) << s.ToString() << " " << v;
      } else {
        ASSERT_TRUE(s.ok()) << s.ToString();
        ASSERT_EQ(v, want);
      }
      KVs expected = {{"j", "before"}};
      if (!want.empty()) expected.emplace_back("k", want);
      expected.emplace_back("l", "after");
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
      KVs got;
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        got.emplace_back(it->key().ToString(), it->value().ToString());
      }
      ASSERT_EQ(Diff(got, expected), "") << "forward";
      got.clear();
      for (it->SeekToLast(); it->Valid(); it->Prev()) {
        got.emplace_back(it->key().ToString(), it->value().ToString());
      }
      std::reverse(got.begin(), got.end());
      ASSERT_EQ(Diff(got, expected), "") << "reverse";
      it->Seek("k");
      ASSERT_TRUE(it->Valid());
      ASSERT_EQ(it->key().ToString(), want.empty() ? "l" : "k") << "Seek";
      if (!want.empty()) {
        ASSERT_EQ(it->value().ToString(), want);
      }
      it->SeekForPrev("k");
      ASSERT_TRUE(it->Valid());
      ASSERT_EQ(it->key().ToString(), want.empty() ? "j" : "k") << "SeekForPrev";
      if (!want.empty()) {
        ASSERT_EQ(it->value().ToString(), want);
      }
      // Direction changes across the run of versions.
      it->SeekToLast();
      it->Prev();
      ASSERT_TRUE(it->Valid());
      ASSERT_EQ(it->key().ToString(), want.empty() ? "j" : "k") << "SeekToLast, Prev";
      it->Next();
      ASSERT_TRUE(it->Valid());
      ASSERT_EQ(it->key().ToString(), "l") << "SeekToLast, Prev, Next";
      it->Prev();
      ASSERT_TRUE(it->Valid());
      ASSERT_EQ(it->key().ToString(), want.empty() ? "j" : "k") << "SeekToLast, Prev, Next, Prev";
      ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    }
    std::string latest;
    ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), "k", &latest).ok());
    ASSERT_EQ(latest, versions.back());
  };
  ASSERT_NO_FATAL_FAILURE(check("in the memtable"));
  // Flushing keeps every version a snapshot still sees.
  ASSERT_NO_FATAL_FAILURE(Flush());
  ASSERT_NO_FATAL_FAILURE(check("flushed"));
  for (const rocksdb::Snapshot* s : snapshots) db_->ReleaseSnapshot(s);
}

// ---------------------------------------------------------------------------------------------
// Readers concurrent with the writer

std::string SeqKey(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "k%06llu", static_cast<unsigned long long>(i));
  return buf;
}
std::string SeqValue(uint64_t i) { return "value-" + std::to_string(i); }

TEST_F(MemTableRepTest, ConcurrentReadersSeeConsistentPrefixes) {
  ASSERT_NO_FATAL_FAILURE(Open());
  constexpr uint64_t kMaxKeys = 400000;
  constexpr int kScansPerMode = 6;   // each reader's goal; the writer writes until both reach it
  std::atomic<uint64_t> written{0};  // keys 0..written-1 are acknowledged by Put
  std::atomic<int> readers_satisfied{0};
  std::atomic<bool> stop{false};  // set by the writer when it is done
  std::string writer_error;       // written by the writer, read after join

  std::thread writer([&] {
    struct StopOnExit {
      std::atomic<bool>* stop;
      ~StopOnExit() { stop->store(true, std::memory_order_relaxed); }
    } stop_on_exit{&stop};
    for (uint64_t i = 0; i < kMaxKeys && readers_satisfied.load(std::memory_order_relaxed) < 2;
         ++i) {
      rocksdb::WriteOptions wo;
      wo.sync = false;
      rocksdb::Status s = db_->Put(wo, SeqKey(i), SeqValue(i));
      if (!s.ok()) {
        writer_error = "Put " + SeqKey(i) + ": " + s.ToString();
        return;
      }
      written.store(i + 1, std::memory_order_release);
    }
  });

  struct ReaderResult {
    std::string error;         // the first inconsistency seen
    int scans[3] = {0, 0, 0};  // scans that saw at least one key
    uint64_t longest = 0;
    bool satisfied = false;  // reached kScansPerMode scans in every mode
  };
  // Mode 0: forward scan of a snapshot iterator; 1: reverse scan; 2: forward scan of a tailing
  // iterator (no snapshot: it sees entries as they are inserted into the memtable).
  auto read = [&](ReaderResult* r) {
    // Start racing once the writer is under way (on few cores it may start late).
    while (written.load(std::memory_order_acquire) == 0 && !stop.load(std::memory_order_relaxed)) {
      std::this_thread::yield();
    }
    for (int n = 0; r->error.empty() && (!stop.load(std::memory_order_relaxed) || n < 6); ++n) {
      const int mode = n % 3;
      const uint64_t before = written.load(std::memory_order_acquire);
      rocksdb::ReadOptions ro;
      ro.tailing = mode == 2;
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
      uint64_t seen = 0;
      std::string error;
      if (mode == 1) {
        it->SeekToLast();
        if (it->Valid()) {
          // The last key names how many keys there are; every one below must follow.
          const std::string last = it->key().ToString();
          seen = std::strtoull(last.c_str() + 1, nullptr, 10) + 1;
          if (last != SeqKey(seen - 1)) error = "last key " + Show(last);
          for (uint64_t i = seen; error.empty() && i-- > 0; it->Prev()) {
            if (!it->Valid()) {
              error = "reverse scan ended before " + SeqKey(i);
            } else if (it->key().ToString() != SeqKey(i) || it->value().ToString() != SeqValue(i)) {
              error = "reverse scan: got " + Show(it->key().ToString()) + ", want " + SeqKey(i);
            }
          }
          if (error.empty() && it->Valid()) {
            error = "reverse scan went past " + SeqKey(0) + " to " + Show(it->key().ToString());
          }
        }
      } else {
        for (it->SeekToFirst(); it->Valid(); it->Next(), ++seen) {
          if (it->key().ToString() != SeqKey(seen) || it->value().ToString() != SeqValue(seen)) {
            error = "forward scan: got " + Show(it->key().ToString()) + ", want " + SeqKey(seen);
            break;
          }
        }
      }
      if (error.empty() && !it->status().ok()) error = it->status().ToString();
      const uint64_t after = written.load(std::memory_order_acquire);
      // At least what was acknowledged before the iterator was made; at most what was
      // acknowledged after the scan, plus the one Put that may be in flight.
      if (error.empty() && (seen < before || seen > after + 1)) {
        error = "saw " + std::to_string(seen) + " keys, acknowledged " + std::to_string(before) +
                " before and " + std::to_string(after) + " after";
      }
      if (!error.empty()) r->error = "mode " + std::to_string(mode) + ": " + error;
      if (seen > 0) ++r->scans[mode];
      r->longest = std::max(r->longest, seen);
      if (!r->satisfied && r->scans[0] >= kScansPerMode && r->scans[1] >= kScansPerMode &&
          r->scans[2] >= kScansPerMode) {
        r->satisfied = true;
        readers_satisfied.fetch_add(1, std::memory_order_relaxed);
      }
    }
  };
  ReaderResult results[2];
  std::thread reader0(read, &results[0]);
  std::thread reader1(read, &results[1]);
  writer.join();
  reader0.join();
  reader1.join();

  ASSERT_EQ(writer_error, "");
  for (const ReaderResult& r : results) {
    EXPECT_EQ(r.error, "");
    // The writer keeps writing until both readers made kScansPerMode scans of each kind (or
    // it reaches kMaxKeys first, on a very slow machine): each kind raced it at least once.
    for (int scans : r.scans) EXPECT_GE(scans, 1);
  }
  const uint64_t total = written.load();
  std::cout << "wrote " << total
            << " keys; scans per reader (forward, reverse, tailing): " << results[0].scans[0] << "/"
            << results[0].scans[1] << "/" << results[0].scans[2] << ", " << results[1].scans[0]
            << "/" << results[1].scans[1] << "/" << results[1].scans[2] << "; longest prefix "
            << results[0].longest << ", " << results[1].longest << "\n";
  // Afterwards everything is there, in order.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++n) {
    ASSERT_EQ(it->key().ToString(), SeqKey(n));
  }
  EXPECT_EQ(n, total);
}

// ---------------------------------------------------------------------------------------------
// Memory accounting

TEST_F(MemTableRepTest, MemoryIsAccountedToTheMemtable) {
  ASSERT_NO_FATAL_FAILURE(Open());
  const uint64_t empty = IntProperty("rocksdb.cur-size-active-mem-table");
  std::mt19937_64 rng(7);
  std::string value(1000, '\0');
  for (char& c : value) c = static_cast<char>(rng());
  constexpr int kEntries = 10000;
  uint64_t raw = 0;
  std::vector<int> order(kEntries);
  for (int i = 0; i < kEntries; ++i) order[static_cast<size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), rng);
  for (int i : order) {
    char key[32];
    std::snprintf(key, sizeof(key), "m%08d", i);
    ASSERT_TRUE(Put(key, value).ok());
    raw += std::string(key).size() + value.size();
  }
  ASSERT_GE(raw, 10'000'000u);
  ASSERT_EQ(IntProperty("rocksdb.num-entries-active-mem-table"), static_cast<uint64_t>(kEntries));
  const uint64_t used = IntProperty("rocksdb.cur-size-active-mem-table");
  EXPECT_LT(empty, raw / 10) << "an empty memtable";
  EXPECT_GE(used, raw) << "entries must live in the memtable's arena";
  // Links and entry headers cost tens of bytes per entry, not a multiple of the data.
  EXPECT_LE(used, 2 * raw + (16u << 20));
  EXPECT_GE(IntProperty("rocksdb.size-all-mem-tables"), used);
}

// ---------------------------------------------------------------------------------------------
// Another order

// The index orders entries itself only where the memtable's comparator is bytewise (checked when
// each memtable is made); a family ordered otherwise goes through the comparator. With reverse
// bytewise order, scans, seeks and lookups follow that order, in the memtable and after a
// flush.
TEST_F(MemTableRepTest, OtherKeyOrdersGoThroughTheComparator) {
  options_.comparator = rocksdb::ReverseBytewiseComparator();
  ASSERT_NO_FATAL_FAILURE(Open());
  const std::vector<std::string> keys = {"", "a", std::string("a\0", 2), "ab", "b", "ba", "\xff"};
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_TRUE(Put(keys[i], "v" + std::to_string(i)).ok());
  }
  std::vector<std::string> want = keys;
  std::sort(want.rbegin(), want.rend());  // descending bytewise
  for (int pass = 0; pass < 2; ++pass) {
    SCOPED_TRACE(pass == 0 ? "in the memtable" : "after a flush");
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    std::vector<std::string> got;
    for (it->SeekToFirst(); it->Valid(); it->Next()) got.push_back(it->key().ToString());
    EXPECT_EQ(got, want);
    it->Seek("ab");  // the first key at or after "ab" in descending order: "ab" itself
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->key().ToString(), "ab");
    it->Next();
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->key().ToString(), std::string("a\0", 2));
    for (size_t i = 0; i < keys.size(); ++i) {
      std::string v;
      ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), keys[i], &v).ok()) << Show(keys[i]);
      EXPECT_EQ(v, "v" + std::to_string(i));
    }
    std::string v;
    EXPECT_TRUE(db_->Get(rocksdb::ReadOptions(), "aa", &v).IsNotFound());
    if (pass == 0) {
      ASSERT_NO_FATAL_FAILURE(Flush());
    }
  }
}

}  // namespace
}  // namespace coordinated::storage
