// A failed sync (or a failed write to the write-ahead log) under the real Sequencer, Coordinator
// and Store: the sequencer calls on_fatal once, never runs the done callbacks of the failing
// group or anything submitted later, never retries the sync; after a restart on a healthy disk
// every acknowledged change is there and the store is consistent (fsyncgate: never retry a
// failed fsync in place, recover from the log instead).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "scheduler/coordinator.h"
#include "scheduler/sequencer.h"
#include "support/faulty_store.h"
#include "unit/scheduler/coordinator_fixture.h"

namespace coordtest {
namespace {

using coordinated::scheduler::Sequencer;
using namespace std::chrono_literals;

class FsyncFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    Open();
    ASSERT_TRUE(coord_->SetWorkSpec(coordinated::MapOf({{"name", B("s")}})).ok());
    ASSERT_TRUE(db_.store()->Sync().ok());
  }
  void Open() {
    Status s = db_.Open();
    ASSERT_TRUE(s.ok()) << s.ToString();
    coord_ = std::make_unique<Coordinator>(db_.store(), &clock_, CoordinatorOptions());
    Status loaded = coord_->Load();
    ASSERT_TRUE(loaded.ok()) << loaded.ToString();
  }
  void StartSequencer() {
    seq_ = std::make_unique<Sequencer>(
        [this] {
          ++syncs_;
          return db_.store()->Sync();
        },
        [] { return 3600.0; },
        [this](const Status& s) {
          std::lock_guard<std::mutex> l(mu_);
          fatal_.push_back(s);
          cv_.notify_all();
        });
    seq_->Start();
  }

  // Submits add_work_units(s, [key]); `acked` and `ran` record what happened to it. After a
  // failed sync the sequencer refuses new jobs (`accepted` false): the caller answers itself.
  struct Call {
    std::string key;
    bool ran = false;
    bool acked = false;
    Status result;
  };
  void SubmitAdd(Call* call, bool accepted = true) {
    EXPECT_EQ(accepted, seq_->Submit(
                            [this, call] {
                              call->ran = true;
                              call->result =
                                  coord_->AddWorkUnits(B("s"), Value::Array({Item(B(call->key))}));
                            },
                            [this, call] {
                              std::lock_guard<std::mutex> l(mu_);
                              call->acked = true;
                              cv_.notify_all();
                            }));
  }
  // Waits (at most 10 s) until `pred` holds under the lock.
  template <typename Pred>
  bool WaitFor(Pred pred) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, 10s, pred);
  }

  // After the failure: the process is gone. Restart on a healthy disk and check every
  // acknowledged unit is there, and the store is consistent.
  void RestartAndCheck(const std::vector<Call>& calls, bool power_loss) {
    seq_.reset();
    coord_.reset();
    if (power_loss) {
      auto s = db_.PowerLossAndClose();
      ASSERT_TRUE(s.ok()) << s.ToString();
    } else {
      db_.Close();
    }
    Open();
    auto problems = coord_->CheckConsistency();
    EXPECT_TRUE(problems.empty()) << Join(problems);
    for (const auto& c : calls) {
      auto st = coord_->GetWorkUnitStatus(B("s"), Value::Array({B(c.key)}));
      ASSERT_TRUE(st.ok()) << st.status().ToString();
      const bool present = (*st)[0].is_map();
      if (c.acked) {
        EXPECT_TRUE(present) << "acknowledged unit " << c.key << " lost";
      }
      if (!c.ran) {
        EXPECT_FALSE(present) << "unit " << c.key << " of a call that never ran";
      }
    }
  }

  TempDir dir_;
  FaultyStore db_{dir_.path() + "/db"};
  FakeClock clock_{kT0};
  std::unique_ptr<Coordinator> coord_;
  std::unique_ptr<Sequencer> seq_;
  std::atomic<int> syncs_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Status> fatal_;  // guarded by mu_
};

TEST_F(FsyncFailureTest, FailedSyncIsFatalAcknowledgesNothingMoreAndIsNeverRetried) {
  StartSequencer();
  std::vector<Call> calls(23);
  for (size_t i = 0; i < calls.size(); ++i) calls[i].key = "k" + std::to_string(i);
  // 20 calls acknowledged normally.
  for (size_t i = 0; i < 20; ++i) SubmitAdd(&calls[i]);
  ASSERT_TRUE(WaitFor([&] {
    for (size_t i = 0; i < 20; ++i) {
      if (!calls[i].acked) return false;
    }
    return true;
  }));
  // The disk starts failing syncs: the next group's sync fails.
  db_.faults()->SetSyncError(true);
  SubmitAdd(&calls[20]);
  ASSERT_TRUE(WaitFor([&] { return !fatal_.empty(); })) << "on_fatal was not called";
  const int syncs_at_failure = syncs_.load();
  // Later calls are refused: never run, never answered by the sequencer.
  SubmitAdd(&calls[21], /*accepted=*/false);
  SubmitAdd(&calls[22], /*accepted=*/false);
  db_.faults()->SetSyncError(false);  // the disk "recovers": still nothing may be retried
  seq_->Stop();

  {
    std::lock_guard<std::mutex> l(mu_);
    ASSERT_EQ(fatal_.size(), 1u);
    EXPECT_EQ(fatal_[0].code(), Code::kIOError) << fatal_[0].ToString();
    EXPECT_NE(fatal_[0].message().find("injected sync failure"), std::string::npos)
        << fatal_[0].ToString();
  }
  EXPECT_TRUE(calls[20].ran);
  EXPECT_TRUE(calls[20].result.ok()) << "the write itself succeeded; only its sync failed";
  EXPECT_FALSE(calls[20].acked) << "a call whose sync failed was acknowledged";
  for (size_t i : {21u, 22u}) {
    EXPECT_FALSE(calls[i].ran) << "call " << i << " ran after the failure";
    EXPECT_FALSE(calls[i].acked) << "call " << i << " was acknowledged after the failure";
  }
  EXPECT_EQ(syncs_.load(), syncs_at_failure) << "the failed sync was retried";
  EXPECT_EQ(db_.faults()->failed_syncs(), 1u);
  // The store refuses to sync again in place, even with the disk healthy.
  EXPECT_FALSE(db_.store()->Sync().ok());

  RestartAndCheck(calls, /*power_loss=*/true);
}

TEST_F(FsyncFailureTest, AfterAProcessCrashTheUnsyncedCallMayBeRecoveredButNothingIsLost) {
  StartSequencer();
  std::vector<Call> calls(6);
  for (size_t i = 0; i < calls.size(); ++i) calls[i].key = "k" + std::to_string(i);
  for (size_t i = 0; i < 5; ++i) SubmitAdd(&calls[i]);
  ASSERT_TRUE(WaitFor([&] { return calls[4].acked; }));
  db_.faults()->SetSyncError(true);
  SubmitAdd(&calls[5]);
  ASSERT_TRUE(WaitFor([&] { return !fatal_.empty(); }));
  seq_->Stop();
  EXPECT_FALSE(calls[5].acked);
  RestartAndCheck(calls, /*power_loss=*/false);
}

// A write to the write-ahead log that fails (EIO, not a full disk) is just as final: the call
// gets the error, the group's sync reports it, the daemon stops.
TEST_F(FsyncFailureTest, FailedLogWriteIsFatalAtTheGroupsSync) {
  StartSequencer();
  std::vector<Call> calls(5);
  for (size_t i = 0; i < calls.size(); ++i) calls[i].key = "k" + std::to_string(i);
  for (size_t i = 0; i < 3; ++i) SubmitAdd(&calls[i]);
  ASSERT_TRUE(WaitFor([&] { return calls[2].acked; }));
  db_.faults()->SetWriteError(true);
  SubmitAdd(&calls[3]);
  ASSERT_TRUE(WaitFor([&] { return !fatal_.empty(); }));
  SubmitAdd(&calls[4], /*accepted=*/false);
  db_.faults()->SetWriteError(false);
  seq_->Stop();
  EXPECT_TRUE(calls[3].ran);
  EXPECT_EQ(calls[3].result.code(), Code::kIOError) << calls[3].result.ToString();
  EXPECT_FALSE(calls[3].acked);
  EXPECT_FALSE(calls[4].ran);
  {
    std::lock_guard<std::mutex> l(mu_);
    ASSERT_EQ(fatal_.size(), 1u);
    EXPECT_EQ(fatal_[0].code(), Code::kIOError);
  }
  // The coordinator reloaded its summaries from the store after the failed write: memory and
  // store agree.
  auto problems = coord_->CheckConsistency();
  EXPECT_TRUE(problems.empty()) << Join(problems);
  EXPECT_EQ(coord_->specs().at("s")->stats.counts[storage::kAvailable], 3u);
  RestartAndCheck(calls, /*power_loss=*/true);
}

}  // namespace
}  // namespace coordtest
