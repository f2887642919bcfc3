// IdleFlushPolicy (when an idle store flushes) and Store::FlushMemtables (what a flush does).
#include "storage/idle_flush.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "storage/store.h"
#include "unit/temp_store.h"

namespace coordinated::storage {
namespace {

TEST(IdleFlushPolicyTest, FlushesOnceAfterEachQuietSpell) {
  IdleFlushPolicy p(2.0);
  EXPECT_FALSE(p.ShouldFlush(0, 100.0));  // the first look only records the counter
  EXPECT_FALSE(p.ShouldFlush(0, 110.0));  // nothing written since: nothing to flush
  EXPECT_FALSE(p.ShouldFlush(5, 111.0));  // writes: a quiet spell starts now
  EXPECT_FALSE(p.ShouldFlush(5, 112.9));
  EXPECT_TRUE(p.ShouldFlush(5, 113.0));
  EXPECT_FALSE(p.ShouldFlush(5, 120.0));  // once per spell
  EXPECT_FALSE(p.ShouldFlush(9, 121.0));
  EXPECT_FALSE(p.ShouldFlush(12, 122.5));  // still writing: the spell restarts
  EXPECT_FALSE(p.ShouldFlush(12, 124.0));
  EXPECT_TRUE(p.ShouldFlush(12, 124.5));
}

TEST(IdleFlushPolicyTest, ZeroSecondsNeverFlushes) {
  IdleFlushPolicy p(0);
  EXPECT_FALSE(p.ShouldFlush(0, 0));
  EXPECT_FALSE(p.ShouldFlush(1, 1));
  EXPECT_FALSE(p.ShouldFlush(1, 1000));
}

TEST(IdleFlushPolicyTest, WritesBeforeTheFirstLookAreNotFlushedEarly) {
  // A daemon's store may open with writes counted by nobody yet: the first look starts from
  // them without flushing (recovery already flushed what the log replayed).
  IdleFlushPolicy p(1.0);
  EXPECT_FALSE(p.ShouldFlush(40, 0));
  EXPECT_FALSE(p.ShouldFlush(40, 5));
  EXPECT_FALSE(p.ShouldFlush(41, 6));
  EXPECT_TRUE(p.ShouldFlush(41, 7));
}

class FlushMemtablesTest : public coordtest::TempStoreTest {
 protected:
  // Writes `n` units of `bytes` pseudo-random (incompressible) bytes each, in batches of 100.
  void WriteUnits(int n, size_t bytes) {
    std::mt19937 rng(1);
    std::string value(bytes, '\0');
    WriteBatch b;
    for (int i = 0; i < n; ++i) {
      for (char& c : value) c = static_cast<char>(rng());
      b.Put(Cf::kUnits, "unit-" + std::to_string(i), value);
      if (b.Count() == 100) {
        ASSERT_TRUE(store()->Write(b).ok());
        b.Clear();
      }
    }
    if (!b.empty()) {
      ASSERT_TRUE(store()->Write(b).ok());
    }
  }
};

TEST_F(FlushMemtablesTest, WritesCountsEveryAppliedBatch) {
  const uint64_t before = store()->writes();
  WriteUnits(250, 10);  // 3 batches
  EXPECT_EQ(store()->writes(), before + 3);
  WriteBatch empty;
  ASSERT_TRUE(store()->Write(empty).ok());
  EXPECT_EQ(store()->writes(), before + 3);  // an empty batch writes nothing
}

TEST_F(FlushMemtablesTest, BelowTheThresholdNothingIsFlushed) {
  WriteUnits(100, 10000);  // 1 MB, but only 100 entries
  auto n = store()->FlushMemtables(kIdleFlushMinEntries, /*wait=*/true);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(store()->ApproximateSize(), 0u);  // still only in the memtable
}

TEST_F(FlushMemtablesTest, AboveTheThresholdTheMemtablesBecomeTableFiles) {
  WriteUnits(12000, 250);  // 12,000 entries, about 3 MB
  {
    WriteBatch b;
    b.Put(Cf::kSpecs, "spec", "s");  // a small family flushes with the big one
    ASSERT_TRUE(store()->Write(b).ok());
  }
  EXPECT_EQ(store()->ApproximateSize(), 0u);
  auto n = store()->FlushMemtables(kIdleFlushMinEntries, /*wait=*/true);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_GE(*n, 2);  // units, specs, and any family the store wrote when it opened
  EXPECT_GT(store()->ApproximateSize(), 12000u * 250u / 2);
  auto again = store()->FlushMemtables(0, /*wait=*/true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);  // nothing left in any memtable
  std::string v;
  ASSERT_TRUE(store()->Get(Cf::kUnits, "unit-11999", &v).ok());
  EXPECT_EQ(v.size(), 250u);
  ASSERT_TRUE(store()->Get(Cf::kSpecs, "spec", &v).ok());
  ReopenStore();  // and nothing is lost across a restart
  ASSERT_TRUE(store()->Get(Cf::kUnits, "unit-0", &v).ok());
  EXPECT_EQ(v.size(), 250u);
}

TEST_F(FlushMemtablesTest, ReadOnlyStoreNeverFlushes) {
  WriteUnits(12000, 250);
  CloseStore();
  auto ro = coordtest::OpenStoreAt(db_path(), /*sync=*/true, /*read_only=*/true);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  auto n = (*ro)->FlushMemtables(0, /*wait=*/true);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
}

}  // namespace
}  // namespace coordinated::storage
