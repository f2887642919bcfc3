// The Coordinator on a disk that runs out of space (FaultFs NoSpace injection): a call whose
// write fails reports ResourceExhausted and changes nothing, in the store or in memory; reads
// keep working; once space returns, writes succeed again and are durable.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "scheduler/coordinator.h"
#include "support/faulty_store.h"
#include "unit/scheduler/coordinator_fixture.h"

namespace coordtest {
namespace {

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    Open();
    ASSERT_TRUE(coord_->SetWorkSpec(coordinated::MapOf({{"name", B("s")}})).ok());
    Status added = coord_->AddWorkUnits(
        B("s"), Value::Array({Item(B("a")), Item(B("b")), Item(B("c")), Item(B("d"))}));
    ASSERT_TRUE(added.ok()) << added.ToString();
    Coordinator::GetWorkOptions o;
    o.max_jobs = 2;
    auto granted = coord_->GetWork(B("w"), o);
    ASSERT_TRUE(granted.ok() && granted->size() == 2u);
    ASSERT_TRUE(db_.store()->Sync().ok());
  }
  void Open() {
    Status s = db_.Open();
    ASSERT_TRUE(s.ok()) << s.ToString();
    coord_ = std::make_unique<Coordinator>(db_.store(), &clock_, CoordinatorOptions());
    Status loaded = coord_->Load();
    ASSERT_TRUE(loaded.ok()) << loaded.ToString();
  }
  // Every invariant holds, and what the coordinator keeps in memory is what a fresh Load of
  // the store builds.
  void ExpectConsistent(const std::string& where) {
    auto problems = coord_->CheckConsistency();
    EXPECT_TRUE(problems.empty()) << where << "\n" << Join(problems);
    Coordinator fresh(db_.store(), &clock_, CoordinatorOptions());
    ASSERT_TRUE(fresh.Load().ok());
    auto live = Summaries(*coord_), loaded = Summaries(fresh);
    ASSERT_EQ(live.size(), loaded.size()) << where;
    for (const auto& [name, sum] : live) {
      EXPECT_EQ(sum.counts, loaded.at(name).counts) << where << " " << name;
      EXPECT_EQ(sum.record, loaded.at(name).record) << where << " " << name;
    }
  }
  int StatusCode(const std::string& key) {
    auto r = coord_->GetWorkUnitStatus(B("s"), Value::Array({B(key)}));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || !(*r)[0].is_map()) return 0;
    return static_cast<int>((*r)[0].FindKey("status")->raw_num());
  }
  // The first two units were granted in SetUp: a and b.
  StatusOr<std::pair<bool, std::string>> Finish(const std::string& key) {
    return coord_->UpdateWorkUnit(B("s"), B(key),
                                  coordinated::MapOf({{"status", U(storage::kFinished)}}));
  }

  TempDir dir_;
  FaultyStore db_{dir_.path() + "/db"};
  FakeClock clock_{kT0};
  std::unique_ptr<Coordinator> coord_;
};

TEST_F(DiskFullTest, FailedWritesChangeNothingAndWritesResumeWhenSpaceReturns) {
  // RocksDB recovers only through the store's Resume (not its own polling): deterministic.
  db_.faults()->SetFreeSpaceUnknown(true);
  ASSERT_EQ(StatusCode("a"), storage::kPending);
  db_.faults()->SetSpaceLimit(0);

  Status add = coord_->AddWorkUnits(B("s"), Value::Array({Item(B("e"))}));
  EXPECT_EQ(add.code(), Code::kResourceExhausted) << add.ToString();
  ExpectConsistent("after the failed add");
  auto fin = Finish("a");
  ASSERT_FALSE(fin.ok()) << "a finish cannot be written without space";
  EXPECT_EQ(fin.status().code(), Code::kResourceExhausted) << fin.status().ToString();
  ExpectConsistent("after the failed finish");
  auto work = coord_->GetWork(B("w2"), Coordinator::GetWorkOptions());
  EXPECT_EQ(work.status().code(), Code::kResourceExhausted);
  ExpectConsistent("after the failed get_work");

  // Nothing changed; reads work.
  EXPECT_EQ(StatusCode("a"), storage::kPending);
  EXPECT_EQ(StatusCode("c"), storage::kAvailable);
  EXPECT_EQ(StatusCode("e"), 0);
  auto counts = coord_->CountWorkUnits(B("s"));
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[storage::kPending], 2u);
  EXPECT_EQ((*counts)[storage::kAvailable], 2u);
  EXPECT_TRUE(db_.store()->Sync().ok()) << "nothing applied, nothing to sync";

  // Space is back: the same calls succeed.
  db_.faults()->ClearSpaceLimit();
  fin = Finish("a");
  ASSERT_TRUE(fin.ok()) << fin.status().ToString();
  EXPECT_TRUE(fin->first) << fin->second;
  ASSERT_TRUE(coord_->AddWorkUnits(B("s"), Value::Array({Item(B("e"))})).ok());
  ExpectConsistent("after space returned");
  ASSERT_TRUE(db_.store()->Sync().ok());

  // And they are durable.
  coord_.reset();
  ASSERT_TRUE(db_.PowerLossAndClose().ok());
  Open();
  ExpectConsistent("after the power loss");
  EXPECT_EQ(StatusCode("a"), storage::kFinished);
  EXPECT_EQ(StatusCode("b"), storage::kPending);
  EXPECT_EQ(StatusCode("e"), storage::kAvailable);
}

// The default: RocksDB polls free space itself and recovers on its own once space is back.
TEST_F(DiskFullTest, RocksDbsOwnRecoveryAlsoResumesWrites) {
  db_.faults()->SetSpaceLimit(0);
  EXPECT_EQ(coord_->AddWorkUnits(B("s"), Value::Array({Item(B("e"))})).code(),
            Code::kResourceExhausted);
  ExpectConsistent("after the failed add");
  db_.faults()->ClearSpaceLimit();
  // Its recovery runs in the background; a write fails with ResourceExhausted until it is done
  // (a few seconds at most: it polls every 5 s).
  Status add;
  for (int i = 0; i < 100; ++i) {
    add = coord_->AddWorkUnits(B("s"), Value::Array({Item(B("e"))}));
    if (add.code() != Code::kResourceExhausted) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(add.ok()) << add.ToString();
  auto fin = Finish("a");
  ASSERT_TRUE(fin.ok() && fin->first);
  ASSERT_TRUE(db_.store()->Sync().ok());
  ExpectConsistent("after recovery");
}

// Batched update_work_unit calls commit between calls when they touch the same unit: when such
// a write fails, the coordinator reloads its state, and the calls after it are answered with
// the failure without touching what the reload replaced (under AddressSanitizer this read freed
// memory before).
TEST_F(DiskFullTest, BatchedUpdatesAfterAFailedWriteAreAnsweredWithTheFailure) {
  db_.faults()->SetFreeSpaceUnknown(true);
  db_.faults()->SetSpaceLimit(0);
  const Value name = B("s");
  const Value a = B("a");
  const Value renew = coordinated::MapOf({{"lease_time", U(100)}});
  const Value finish = coordinated::MapOf({{"status", U(storage::kFinished)}});
  auto results =
      coord_->UpdateWorkUnits({{&name, &a, &renew}, {&name, &a, &finish}, {&name, &a, &renew}});
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) {
    EXPECT_EQ(r.status().code(), Code::kResourceExhausted) << r.status().ToString();
  }
  db_.faults()->ClearSpaceLimit();
  EXPECT_EQ(StatusCode("a"), storage::kPending);
  ExpectConsistent("after the failed batch");
}

// Totals since start-up (metrics) count transitions that were written: a write that fails for
// lack of space must not count.
TEST_F(DiskFullTest, CountersDoNotCountAFailedWrite) {
  db_.faults()->SetFreeSpaceUnknown(true);
  const auto before = coord_->counters();
  db_.faults()->SetSpaceLimit(0);
  EXPECT_FALSE(coord_->AddWorkUnits(B("s"), Value::Array({Item(B("e"))})).ok());
  EXPECT_FALSE(coord_->GetWork(B("w2"), Coordinator::GetWorkOptions()).ok());
  EXPECT_FALSE(Finish("a").ok());
  const auto after = coord_->counters();
  EXPECT_EQ(after.created, before.created);
  EXPECT_EQ(after.granted, before.granted);
  EXPECT_EQ(after.finished, before.finished);
}

}  // namespace
}  // namespace coordtest
