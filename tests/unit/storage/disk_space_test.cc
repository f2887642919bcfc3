// A full disk: the free-space guard (src/storage/disk_space.h) with an injected free-space
// figure, and the Store when RocksDB itself runs out of space or fails to write
// (tests/support/fault_fs.h injects NoSpace and I/O errors).
#include "storage/disk_space.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>

#include "storage/store.h"
#include "support/fault_fs.h"
#include "support/faulty_store.h"
#include "unit/temp_store.h"

namespace coordtest {
namespace {

using coordinated::Code;
using coordinated::Status;
using coordinated::StatusOr;
using coordinated::storage::Cf;
using coordinated::storage::DiskSpaceGuard;
using coordinated::storage::DiskSpaceOptions;
using coordinated::storage::Store;
using coordinated::storage::WriteBatch;

constexpr uint64_t kMiB = 1ull << 20;

// Size of a file, or -1 when it does not exist.
int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

// A file system whose free space is `disk_free` minus what the reserve file takes, like a real
// one: deleting the reserve gives its space back.
class GuardTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  std::unique_ptr<DiskSpaceGuard> MakeGuard(uint64_t min_free, uint64_t reserve) {
    DiskSpaceOptions o;
    o.dir = dir_.path();
    o.min_free_bytes = min_free;
    o.reserve_bytes = reserve;
    return std::make_unique<DiskSpaceGuard>(o, [this](const std::string&) -> StatusOr<uint64_t> {
      if (!provider_error_.ok()) return provider_error_;
      const int64_t reserve = FileSize(reserve_path());
      return disk_free_ - (reserve > 0 ? static_cast<uint64_t>(reserve) : 0);
    });
  }
  std::string reserve_path() const {
    return dir_.path() + "/" + coordinated::storage::kReserveFileName;
  }

  TempDir dir_;
  uint64_t disk_free_ = 0;
  Status provider_error_;
};

TEST_F(GuardTest, RefusesBelowThresholdReleasesReserveAndResumesAboveThresholdPlusReserve) {
  const uint64_t kMin = 100 * kMiB, kReserve = 1 * kMiB;
  disk_free_ = 1024 * kMiB;
  auto guard = MakeGuard(kMin, kReserve);
  ASSERT_TRUE(guard->Init().ok());
  EXPECT_FALSE(guard->low());
  EXPECT_TRUE(guard->CheckCanGrow().ok());
  EXPECT_TRUE(guard->reserve_held());
  EXPECT_EQ(FileSize(reserve_path()), static_cast<int64_t>(kReserve));

  // 99.5 MiB free with the reserve held: below the threshold.
  disk_free_ = kMin + kReserve / 2;
  ASSERT_TRUE(guard->Refresh().ok());
  EXPECT_TRUE(guard->low());
  EXPECT_FALSE(guard->reserve_held());
  EXPECT_EQ(FileSize(reserve_path()), -1) << "the reserve is released for finishing work";
  Status s = guard->CheckCanGrow();
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_NE(s.ToString().find("ResourceExhausted: disk space low: 99.5 MiB free"),
            std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find("below storage.min_free_bytes (100.0 MiB)"), std::string::npos)
      << s.message();

  // Releasing the reserve raised the free space above the threshold, but not above threshold
  // plus reserve: still refusing (no flapping), the reserve is not taken back.
  ASSERT_TRUE(guard->Refresh().ok());
  EXPECT_TRUE(guard->low());
  EXPECT_FALSE(guard->reserve_held());

  // Just enough for both: service resumes and the reserve is back.
  disk_free_ = kMin + kReserve;
  ASSERT_TRUE(guard->Refresh().ok());
  EXPECT_FALSE(guard->low());
  EXPECT_TRUE(guard->CheckCanGrow().ok());
  EXPECT_EQ(FileSize(reserve_path()), static_cast<int64_t>(kReserve));
  ASSERT_TRUE(guard->Refresh().ok());
  EXPECT_FALSE(guard->low()) << "holding the reserve does not trip the guard again";
}

TEST_F(GuardTest, StartsLowWithoutTakingAReserve) {
  disk_free_ = 10 * kMiB;
  auto guard = MakeGuard(100 * kMiB, kMiB);
  ASSERT_TRUE(guard->Init().ok());
  EXPECT_TRUE(guard->low());
  EXPECT_EQ(guard->CheckCanGrow().code(), Code::kResourceExhausted);
  EXPECT_EQ(FileSize(reserve_path()), -1);
}

TEST_F(GuardTest, ReserveLeftByAnEarlierRunIsReleasedAtInitOnAFullDisk) {
  std::ofstream(reserve_path()) << std::string(4096, '\0');
  disk_free_ = 10 * kMiB;
  auto guard = MakeGuard(100 * kMiB, 4096);
  ASSERT_TRUE(guard->Init().ok());
  EXPECT_TRUE(guard->low());
  EXPECT_EQ(FileSize(reserve_path()), -1);
}

TEST_F(GuardTest, ZeroThresholdTurnsTheGuardOffAndRemovesTheReserve) {
  std::ofstream(reserve_path()) << "x";
  disk_free_ = 0;
  auto guard = MakeGuard(0, kMiB);
  ASSERT_TRUE(guard->Init().ok());
  EXPECT_FALSE(guard->low());
  EXPECT_TRUE(guard->CheckCanGrow().ok());
  EXPECT_EQ(FileSize(reserve_path()), -1);
}

TEST_F(GuardTest, ZeroReserveKeepsTheThresholdWithoutAFile) {
  disk_free_ = 1024 * kMiB;
  auto guard = MakeGuard(100 * kMiB, 0);
  ASSERT_TRUE(guard->Init().ok());
  EXPECT_FALSE(guard->low());
  EXPECT_EQ(FileSize(reserve_path()), -1);
  disk_free_ = 99 * kMiB;
  ASSERT_TRUE(guard->Refresh().ok());
  EXPECT_TRUE(guard->low());
  disk_free_ = 100 * kMiB;
  ASSERT_TRUE(guard->Refresh().ok());
  EXPECT_FALSE(guard->low());
}

TEST_F(GuardTest, ReserveOfAnotherSizeIsReplaced) {
  std::ofstream(reserve_path()) << "tiny";
  disk_free_ = 1024 * kMiB;
  auto guard = MakeGuard(100 * kMiB, 2 * kMiB);
  ASSERT_TRUE(guard->Init().ok());
  EXPECT_EQ(FileSize(reserve_path()), static_cast<int64_t>(2 * kMiB));
}

TEST_F(GuardTest, UnknownFreeSpaceKeepsTheLastState) {
  disk_free_ = 10 * kMiB;
  auto guard = MakeGuard(100 * kMiB, 0);
  ASSERT_TRUE(guard->Init().ok());
  ASSERT_TRUE(guard->low());
  provider_error_ = Status::IOError("statvfs failed");
  disk_free_ = 1024 * kMiB;
  EXPECT_EQ(guard->Refresh().code(), Code::kIOError);
  EXPECT_TRUE(guard->low());
}

TEST(FreeSpaceOfTest, ReportsTheTempDirectorysFileSystem) {
  TempDir dir;
  auto free = coordinated::storage::FreeSpaceOf(dir.path());
  ASSERT_TRUE(free.ok()) << free.status().ToString();
  EXPECT_GT(*free, 0u);
  EXPECT_EQ(coordinated::storage::FreeSpaceOf(dir.path() + "/missing").status().code(),
            Code::kIOError);
}

TEST(FormatBytesTest, BinaryUnits) {
  EXPECT_EQ(coordinated::storage::FormatBytes(512), "512 B");
  EXPECT_EQ(coordinated::storage::FormatBytes(256 * kMiB), "256.0 MiB");
  EXPECT_EQ(coordinated::storage::FormatBytes(3 * kMiB / 2), "1.5 MiB");
}

// ---- the store on a full or failing disk ------------------------------------------------------

class FaultyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    Open();
  }
  void Open() {
    Status s = db_.Open();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Power off, close, drop everything not synced, reopen on a healthy file system.
  void PowerLossAndReopen() {
    auto dropped = db_.PowerLossAndClose();
    ASSERT_TRUE(dropped.ok()) << dropped.ToString();
    Open();
  }
  Status Put(const std::string& key) {
    WriteBatch b;
    b.Put(Cf::kMeta, "test/" + key, std::string(100, 'v'));
    return db_.store()->Write(b);
  }
  bool Has(const std::string& key) {
    std::string v;
    return db_.store()->Get(Cf::kMeta, "test/" + key, &v).ok();
  }
  Store* store() { return db_.store(); }
  FaultFs* faults() { return db_.faults(); }

  TempDir dir_;
  FaultyStore db_{dir_.path() + "/db"};
};

// RocksDB stops writing after a NoSpace error; with its own free-space polling off (as when the
// file system cannot report free space), the store resumes it on the next write.
TEST_F(FaultyStoreTest, NoSpaceIsReportedAndWritesResumeWhenSpaceReturns) {
  faults()->SetFreeSpaceUnknown(true);
  ASSERT_TRUE(Put("a").ok());
  ASSERT_TRUE(store()->Sync().ok());

  faults()->SetSpaceLimit(0);
  Status b = Put("b");
  EXPECT_EQ(b.code(), Code::kResourceExhausted) << b.ToString();
  Status c = Put("c");
  EXPECT_EQ(c.code(), Code::kResourceExhausted) << c.ToString();
  EXPECT_NE(c.message().find("out of disk space"), std::string::npos) << c.ToString();
  EXPECT_TRUE(store()->Sync().ok()) << "nothing was applied, nothing to sync";
  EXPECT_TRUE(Has("a")) << "reads keep working";
  EXPECT_FALSE(Has("b"));
  EXPECT_GE(faults()->no_space_errors(), 1u);

  faults()->ClearSpaceLimit();
  ASSERT_TRUE(Put("d").ok());
  ASSERT_TRUE(store()->Sync().ok());
  PowerLossAndReopen();
  EXPECT_TRUE(Has("a"));
  EXPECT_FALSE(Has("b"));
  EXPECT_FALSE(Has("c"));
  EXPECT_TRUE(Has("d")) << "a write acknowledged after the recovery survives a power loss";
}

// The write that ran out of space followed a successful one in the same group: Sync waits for
// RocksDB's own recovery (it polls free space), which flushes the earlier write to a synced
// table file, instead of syncing the damaged log.
TEST_F(FaultyStoreTest, EarlierWriteOfTheGroupIsMadeDurableByTheRecovery) {
  ASSERT_TRUE(Put("a").ok());
  faults()->SetSpaceLimit(0);
  EXPECT_EQ(Put("b").code(), Code::kResourceExhausted);
  faults()->ClearSpaceLimit();
  Status synced = store()->Sync();
  ASSERT_TRUE(synced.ok()) << synced.ToString();
  ASSERT_TRUE(Put("c").ok());
  ASSERT_TRUE(store()->Sync().ok());
  PowerLossAndReopen();
  EXPECT_TRUE(Has("a"));
  EXPECT_FALSE(Has("b"));
  EXPECT_TRUE(Has("c"));
}

TEST_F(FaultyStoreTest, SyncFailsWhenSpaceDoesNotReturn) {
  faults()->SetFreeSpaceUnknown(true);  // RocksDB does not wait for space: the failure is immediate
  ASSERT_TRUE(Put("a").ok());
  faults()->SetSpaceLimit(0);
  EXPECT_EQ(Put("b").code(), Code::kResourceExhausted);
  Status s = store()->Sync();
  EXPECT_FALSE(s.ok()) << "the earlier write cannot be made durable: nothing may be acknowledged";
}

// A write-ahead-log write error (not a full disk) fails the store for good: every later Sync
// fails even after the disk recovers, so the daemon never acknowledges after it.
TEST_F(FaultyStoreTest, WriteErrorMakesEveryLaterSyncFail) {
  ASSERT_TRUE(Put("a").ok());
  ASSERT_TRUE(store()->Sync().ok());
  faults()->SetWriteError(true);
  EXPECT_EQ(Put("b").code(), Code::kIOError);
  EXPECT_EQ(store()->Sync().code(), Code::kIOError);
  faults()->SetWriteError(false);
  EXPECT_EQ(store()->Sync().code(), Code::kIOError);
  PowerLossAndReopen();
  EXPECT_TRUE(Has("a"));
  EXPECT_FALSE(Has("b"));
}

TEST_F(FaultyStoreTest, SyncErrorIsFinal) {
  ASSERT_TRUE(Put("a").ok());
  ASSERT_TRUE(store()->Sync().ok());
  ASSERT_TRUE(Put("b").ok());
  faults()->SetSyncError(true);
  EXPECT_EQ(store()->Sync().code(), Code::kIOError);
  const uint64_t failed = faults()->failed_syncs();
  faults()->SetSyncError(false);
  EXPECT_EQ(store()->Sync().code(), Code::kIOError) << "a failed sync is never retried";
  EXPECT_EQ(faults()->failed_syncs(), failed);
  EXPECT_FALSE(Put("c").ok());
  PowerLossAndReopen();
  EXPECT_TRUE(Has("a"));
  EXPECT_FALSE(Has("c"));
}

}  // namespace
}  // namespace coordtest
