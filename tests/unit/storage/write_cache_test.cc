// WriteCache on its own, and the store's use of it: a cached read is always what RocksDB holds.
#include "storage/write_cache.h"

#include <gtest/gtest.h>

#include <string>

#include "storage/store.h"
#include "unit/temp_store.h"

namespace coordinated::storage {
namespace {

TEST(WriteCacheTest, PutGetEraseAndFamiliesAreSeparate) {
  WriteCache c(1 << 20);
  std::string v;
  EXPECT_FALSE(c.Get(Cf::kUnits, "k", &v));
  c.Put(Cf::kUnits, "k", "unit");
  c.Put(Cf::kAttempts, "k", "attempt");
  ASSERT_TRUE(c.Get(Cf::kUnits, "k", &v));
  EXPECT_EQ(v, "unit");
  ASSERT_TRUE(c.Get(Cf::kAttempts, "k", &v));
  EXPECT_EQ(v, "attempt");
  c.Put(Cf::kUnits, "k", "newer");
  ASSERT_TRUE(c.Get(Cf::kUnits, "k", &v));
  EXPECT_EQ(v, "newer");
  EXPECT_EQ(c.entries(), 2u);
  c.Erase(Cf::kUnits, "k");
  EXPECT_FALSE(c.Get(Cf::kUnits, "k", &v));
  EXPECT_TRUE(c.Get(Cf::kAttempts, "k", &v));
  EXPECT_EQ(c.hits(), 4u);
  c.Clear();
  EXPECT_EQ(c.entries(), 0u);
  EXPECT_EQ(c.bytes(), 0u);
}

TEST(WriteCacheTest, EraseRangeIsHalfOpenAndStaysInItsFamily) {
  WriteCache c(1 << 20);
  for (const char* k : {"a", "b", "b\x01", "c", "d"}) c.Put(Cf::kAttempts, k, "v");
  c.Put(Cf::kUnits, "b", "v");
  c.EraseRange(Cf::kAttempts, "b", "d");
  std::string v;
  EXPECT_TRUE(c.Get(Cf::kAttempts, "a", &v));
  EXPECT_FALSE(c.Get(Cf::kAttempts, "b", &v));
  EXPECT_FALSE(c.Get(Cf::kAttempts, std::string("b\x01"), &v));
  EXPECT_FALSE(c.Get(Cf::kAttempts, "c", &v));
  EXPECT_TRUE(c.Get(Cf::kAttempts, "d", &v));  // the end is not in the range
  EXPECT_TRUE(c.Get(Cf::kUnits, "b", &v));
  EXPECT_EQ(c.entries(), 3u);
}

TEST(WriteCacheTest, BudgetDropsTheOldestWrittenFirst) {
  const size_t each = 1 + 100 + WriteCache::kEntryOverhead;  // key "N", 100-byte value
  WriteCache c(3 * each);
  const std::string value(100, 'x');
  c.Put(Cf::kUnits, "1", value);
  c.Put(Cf::kUnits, "2", value);
  c.Put(Cf::kUnits, "3", value);
  EXPECT_EQ(c.bytes(), 3 * each);
  c.Put(Cf::kUnits, "1", value);  // rewritten: now the newest
  c.Put(Cf::kUnits, "4", value);  // drops "2", the oldest written
  std::string v;
  EXPECT_TRUE(c.Get(Cf::kUnits, "1", &v));
  EXPECT_FALSE(c.Get(Cf::kUnits, "2", &v));
  EXPECT_TRUE(c.Get(Cf::kUnits, "3", &v));
  EXPECT_TRUE(c.Get(Cf::kUnits, "4", &v));
  EXPECT_LE(c.bytes(), 3 * each);
  c.Put(Cf::kUnits, "big", std::string(4 * each, 'y'));  // larger than the budget: not kept
  EXPECT_FALSE(c.Get(Cf::kUnits, "big", &v));
  EXPECT_TRUE(c.Get(Cf::kUnits, "4", &v));
}

TEST(WriteCacheTest, ZeroBudgetKeepsNothing) {
  WriteCache c(0);
  EXPECT_FALSE(c.enabled());
  c.Put(Cf::kUnits, "k", "v");
  std::string v;
  EXPECT_FALSE(c.Get(Cf::kUnits, "k", &v));
  EXPECT_EQ(c.entries(), 0u);
}

// ---- through the store --------------------------------------------------------------------

class StoreWriteCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = coordtest::OpenStoreAt(dir_.path() + "/db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  std::string Get(Cf cf, std::string_view key) {
    std::string v;
    Status s = store_->Get(cf, key, &v);
    return s.ok() ? v : "<" + s.ToString() + ">";
  }
  Status Write(WriteBatch& b) { return store_->Write(b); }
  coordtest::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreWriteCacheTest, EveryLaterWriteOfAKeyIsSeenByTheNextRead) {
  WriteBatch b;
  b.Put(Cf::kUnits, "u", "leased", /*read_soon=*/true);
  b.Put(Cf::kAttempts, "a", "open", /*read_soon=*/true);  // not a cached family
  b.Put(Cf::kReady, "r", "x", /*read_soon=*/true);        // nor this
  ASSERT_TRUE(Write(b).ok());
  const uint64_t hits = store_->write_cache_hits();
  EXPECT_EQ(Get(Cf::kUnits, "u"), "leased");
  EXPECT_EQ(Get(Cf::kAttempts, "a"), "open");
  EXPECT_EQ(Get(Cf::kReady, "r"), "x");
  EXPECT_EQ(store_->write_cache_hits(), hits + 1);
  EXPECT_GT(store_->write_cache_bytes(), 0u);

  WriteBatch plain;  // a write without the mark replaces the cached value
  plain.Put(Cf::kUnits, "u", "finished");
  ASSERT_TRUE(Write(plain).ok());
  EXPECT_EQ(Get(Cf::kUnits, "u"), "finished");
  EXPECT_EQ(store_->write_cache_hits(), hits + 1);  // answered by RocksDB

  WriteBatch del;
  del.Put(Cf::kUnits, "u", "again", true);
  del.Delete(Cf::kUnits, "u");  // in the same batch, after the put
  ASSERT_TRUE(Write(del).ok());
  EXPECT_EQ(Get(Cf::kUnits, "u").substr(0, 10), "<NotFound:");

  WriteBatch range;
  range.Put(Cf::kAttempts, "a2", "open", true);
  range.DeleteRange(Cf::kAttempts, "a", "a3");
  ASSERT_TRUE(Write(range).ok());
  EXPECT_EQ(Get(Cf::kAttempts, "a").substr(0, 10), "<NotFound:");
  EXPECT_EQ(Get(Cf::kAttempts, "a2").substr(0, 10), "<NotFound:");
}

TEST_F(StoreWriteCacheTest, RefusedBatchLeavesTheCachedValue) {
  WriteBatch b;
  b.Put(Cf::kUnits, "u", "v1", true);
  ASSERT_TRUE(Write(b).ok());
  WriteBatch bad;
  bad.Put(Cf::kUnits, "u", "v2", true);
  bad.DeleteRange(Cf::kAttempts, "z", "a");  // inverted: the whole batch is refused
  EXPECT_FALSE(Write(bad).ok());
  EXPECT_EQ(Get(Cf::kUnits, "u"), "v1");
}

}  // namespace
}  // namespace coordinated::storage
