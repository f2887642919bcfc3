// A full disk, against the real daemon: below storage.min_free_bytes, calls that create work
// (set_work_spec, add_work_units, add_dependent_work_units) are refused with a ResourceExhausted
// error while work already handed out still finishes, fails and renews, and reads and deletes
// work; the RESERVE file is released; service resumes by itself once space returns.
//
// The first test sets the threshold above any real free space, so it needs no special file
// system. The second fills a small tmpfs for real; it needs mount(2) (root, and a container that
// allows it) and is skipped otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

using coordinated::Code;

constexpr uint64_t kMiB = 1ull << 20;

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

uint64_t FreeBytes(const std::string& dir) {
  struct statvfs st;
  if (::statvfs(dir.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

// add_work_units(spec, [(key, {})]).
StatusOr<Value> TryAdd(Client& c, std::string_view spec, std::string_view key) {
  return c.Call("add_work_units", A({B(spec), A({Tup({B(key), M({})})})}));
}

void ExpectRefused(const StatusOr<Value>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what << " was accepted: " << r->ToDiagnostic();
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted) << what << ": " << r.status().ToString();
  EXPECT_NE(r.status().message().find("disk space low"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("storage.min_free_bytes"), std::string::npos)
      << r.status().message();
}

// The keys get_work handed out (list form).
std::vector<std::string> Granted(const Value& reply) {
  std::vector<std::string> keys;
  if (!reply.is_tuple() || !reply.items()[0].is_array()) return keys;
  for (const auto& t : reply.items()[0].items()) keys.push_back(t.items()[1].str());
  return keys;
}

Value GetWork(Client& c, std::string_view worker, int n) {
  return Call(c, "get_work", A({B(worker), M({{"max_jobs", I(n)}})}));
}

TEST(DiskFullTest, BelowTheThresholdNewWorkIsRefusedAndRunningWorkFinishes) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  {
    Daemon d(data);
    ASSERT_TRUE(d.Start().ok()) << d.Log();
    auto c = d.NewClient();
    SetSpec(*c, SpecDef("s"));
    AddUnits(*c, "s",
             {Tup({B("u1"), M({})}), Tup({B("u2"), M({})}), Tup({B("u3"), M({})}),
              Tup({B("u4"), M({})})});
    EXPECT_EQ(Granted(GetWork(*c, "w1", 2)), (std::vector<std::string>{"u1", "u2"}));
    EXPECT_EQ(FileSize(data + "/RESERVE"), static_cast<int64_t>(64 * kMiB))
        << "the default reserve is held while space is plentiful";
    ASSERT_EQ(d.Stop(), 0) << d.Log();
  }

  // Restart with a threshold no disk can meet (2^62 bytes).
  DaemonOptions low;
  low.extra_args = {"--set", "storage.min_free_bytes=4611686018427387904"};
  Daemon d(data, low);
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  auto c = d.NewClient();
  EXPECT_EQ(FileSize(data + "/RESERVE"), -1) << "the reserve is released";

  ExpectRefused(TryAdd(*c, "s", "u5"), "add_work_units");
  ExpectRefused(c->Call("set_work_spec", A({SpecDef("t")})), "set_work_spec");
  ExpectRefused(c->Call("add_dependent_work_units",
                        A({Tup({B("s"), B("u6"), Null()}), Tup({B("s"), B("u3"), Null()})})),
                "add_dependent_work_units");
  // The same refusal inside a batch, element by element.
  auto batch = c->Batch({{"add_work_units", A({B("s"), A({Tup({B("u7"), M({})})})})},
                         {"count_work_units", A({B("s")})}});
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].status().code(), Code::kResourceExhausted);
  EXPECT_TRUE(batch[1].ok());

  // Work already handed out finishes and fails; leases renew; new leases are granted.
  EXPECT_TRUE(Same(Update(*c, "s", "u1", M({{"status", I(kFinished)}})), OkPair()));
  EXPECT_TRUE(Same(Update(*c, "s", "u2", M({{"lease_time", I(600)}})), OkPair()));
  EXPECT_TRUE(
      Same(Update(*c, "s", "u2", M({{"status", I(kFailed)}, {"data", M({{"traceback", B("x")}})}})),
           OkPair()));
  EXPECT_EQ(Granted(GetWork(*c, "w2", 5)), (std::vector<std::string>{"u3", "u4"}));
  EXPECT_TRUE(Same(Update(*c, "s", "u3", M({{"status", I(kFinished)}})), OkPair()));
  // Reads and deletes work.
  Value counts = Value::Map();
  counts.AppendEntry(I(kPending), I(1));
  counts.AppendEntry(I(kFinished), I(2));
  counts.AppendEntry(I(kFailed), I(1));
  EXPECT_TRUE(Same(Call(*c, "count_work_units", A({B("s")})), Pair(counts, Null())));
  EXPECT_TRUE(Same(Call(*c, "del_work_units", A({B("s"), M({{"work_unit_keys", A({B("u4")})}})})),
                   Pair(I(1), Null())));
  EXPECT_TRUE(Same(Call(*c, "_test_check"), A()));
  EXPECT_NE(d.Log().find("disk space low"), std::string::npos) << "logged at start-up";
  ASSERT_EQ(d.Stop(), 0) << d.Log();

  // Back to the default threshold: new work is accepted again.
  Daemon again(data);
  ASSERT_TRUE(again.Start().ok()) << again.Log();
  auto c2 = again.NewClient();
  auto added = TryAdd(*c2, "s", "u5");
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_TRUE(Same(Call(*c2, "_test_check"), A()));
  ASSERT_EQ(again.Stop(), 0);
}

TEST(DiskFullTest, StorageMinFreeBytesZeroTurnsTheGuardOff) {
  TempDir dir;
  DaemonOptions off;
  off.extra_args = {"--set", "storage.min_free_bytes=0"};
  Daemon d(dir.path() + "/data", off);
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  auto c = d.NewClient();
  SetSpec(*c, SpecDef("s"));
  EXPECT_TRUE(TryAdd(*c, "s", "u1").ok());
  EXPECT_EQ(FileSize(dir.path() + "/data/RESERVE"), -1) << "no reserve without the guard";
  ASSERT_EQ(d.Stop(), 0);
}

// A real small file system filled by another "process" (this test), then emptied again.
class TmpfsDiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mnt_ = dir_.path() + "/mnt";
    std::filesystem::create_directories(mnt_);
    if (::mount("tmpfs", mnt_.c_str(), "tmpfs", 0, "size=64m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                   << "): needs root and a container that allows mount(2)";
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (d_) d_->Kill();
    if (mounted_) ::umount2(mnt_.c_str(), MNT_DETACH);
  }
  // Takes `bytes` more of the file system with a filler file (really allocated).
  bool Fill(uint64_t bytes) {
    const std::string path = mnt_ + "/filler";
    int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    const off_t at = static_cast<off_t>(FileSize(path));
    const int err = ::posix_fallocate(fd, at, static_cast<off_t>(bytes));
    ::close(fd);
    return err == 0;
  }
  void Unfill() { ::unlink((mnt_ + "/filler").c_str()); }

  // A daemon on the tmpfs (threshold 16 MiB, reserve 8 MiB) with spec "s", ten units, and
  // three of them leased to w1 (`held_`).
  void StartDaemon() {
    data_ = mnt_ + "/data";
    DaemonOptions o;
    o.extra_args = {"--set", "storage.min_free_bytes=16777216",  // 16 MiB
                    "--set", "storage.reserve_bytes=8388608"};   // 8 MiB
    d_ = std::make_unique<Daemon>(data_, o);
    ASSERT_TRUE(d_->Start().ok()) << d_->Log();
    c_ = d_->NewClient();
    free_at_start_ = FreeBytes(mnt_);
    ASSERT_GT(free_at_start_, 24 * kMiB) << "the store and its reserve should leave room";
    EXPECT_EQ(FileSize(data_ + "/RESERVE"), static_cast<int64_t>(8 * kMiB));
    SetSpec(*c_, SpecDef("s"));
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(TryAdd(*c_, "s", "u" + std::to_string(i)).ok());
    held_ = Granted(GetWork(*c_, "w1", 3));
    ASSERT_EQ(held_.size(), 3u);
  }
  // Takes every free byte; waits until the guard has released the reserve.
  void FillAndWaitForTheReserveRelease() {
    ASSERT_TRUE(Fill(FreeBytes(mnt_)));
    free_when_full_ = FreeBytes(mnt_);
    for (int i = 0; i < 50 && FileSize(data_ + "/RESERVE") >= 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ASSERT_EQ(FileSize(data_ + "/RESERVE"), -1) << "the reserve was not released\n" << d_->Log();
  }

  TempDir dir_;
  std::string mnt_, data_;
  bool mounted_ = false;
  std::unique_ptr<Daemon> d_;
  std::unique_ptr<Client> c_;
  std::vector<std::string> held_;
  uint64_t free_at_start_ = 0, free_when_full_ = 0;
};

TEST_F(TmpfsDiskFullTest, FullDiskKeepsFinishingFromTheReserveAndResumesWhenSpaceReturns) {
  StartDaemon();
  if (HasFatalFailure()) return;
  Client* c = c_.get();
  const std::string& data = data_;
  const auto& held = held_;
  // Another process takes every free byte. Within a second the guard notices and releases the
  // reserve: its 8 MiB are all the space there is for finishing work.
  FillAndWaitForTheReserveRelease();
  if (HasFatalFailure()) return;
  std::printf(
      "[ disk full ] tmpfs 64 MiB: free at start %.1f MiB; filled to %.1f MiB free; "
      "%.1f MiB free once the 8 MiB reserve was released (threshold 16 MiB)\n",
      static_cast<double>(free_at_start_) / kMiB, static_cast<double>(free_when_full_) / kMiB,
      static_cast<double>(FreeBytes(mnt_)) / kMiB);
  ExpectRefused(TryAdd(*c, "s", "refused"), "add_work_units on a full disk");
  ExpectRefused(c->Call("set_work_spec", A({SpecDef("t")})), "set_work_spec on a full disk");

  // Running work still completes; new leases are granted.
  EXPECT_TRUE(Same(Update(*c, "s", held[0], M({{"status", I(kFinished)}})), OkPair()));
  EXPECT_TRUE(Same(Update(*c, "s", held[1], M({{"status", I(kFailed)}})), OkPair()));
  EXPECT_TRUE(Same(Update(*c, "s", held[2], M({{"lease_time", I(600)}})), OkPair()));
  EXPECT_EQ(Granted(GetWork(*c, "w2", 2)).size(), 2u);
  EXPECT_TRUE(Same(Call(*c, "_test_check"), A()));

  // The filler goes away: service resumes by itself, the reserve is taken again.
  Unfill();
  StatusOr<Value> accepted = Status::Unavailable("not tried");
  for (int i = 0; i < 50; ++i) {
    accepted = TryAdd(*c, "s", "after" + std::to_string(i));
    if (accepted.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(FileSize(data + "/RESERVE"), static_cast<int64_t>(8 * kMiB));
  EXPECT_TRUE(Same(Call(*c, "_test_check"), A()));
  const std::string log = d_->Log();
  EXPECT_NE(log.find("disk space low"), std::string::npos) << log;
  EXPECT_NE(log.find("disk space recovered"), std::string::npos) << log;
  EXPECT_EQ(d_->Stop(), 0) << d_->Log();
  d_.reset();
}

// When even the reserve is taken, the store itself runs out of space (RocksDB's write-ahead log
// hits ENOSPC): the call gets ResourceExhausted, the daemon stays up and serves reads, and writes
// resume on their own once space is freed (RocksDB recovers when it sees free space again).
TEST_F(TmpfsDiskFullTest, StoreOutOfSpaceFailsTheCallKeepsTheDaemonUpAndRecovers) {
  StartDaemon();
  if (HasFatalFailure()) return;
  FillAndWaitForTheReserveRelease();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(Fill(FreeBytes(mnt_)));  // the reserve's space too
  // Renewals carrying 64 KiB of data each, until the log cannot grow any more (RocksDB
  // preallocates its log, so that takes a while).
  const Value pad = B(std::string(64 * 1024, 'x'));
  StatusOr<Value> r = Value::Null();
  int renewed = 0;
  for (; renewed < 2000; ++renewed) {
    r = c_->Call("update_work_unit", A({B("s"), B(held_[0]),
                                        M({{"lease_time", I(600)}, {"data", M({{"pad", pad}})}})}));
    if (!r.ok()) break;
  }
  ASSERT_FALSE(r.ok()) << "the store never ran out of space";
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted) << r.status().ToString();
  std::printf("[ disk full ] store out of space after %d renewals of 64 KiB: %s\n", renewed,
              r.status().ToString().c_str());
  // Still up: reads work, the failed call changed nothing.
  auto counts = c_->Call("count_work_units", A({B("s")}));
  ASSERT_TRUE(counts.ok()) << counts.status().ToString() << "\n" << d_->Log();
  EXPECT_TRUE(Same(Call(*c_, "_test_check"), A()));

  Unfill();
  StatusOr<Value> after = Status::Unavailable("not tried");
  int waited_ms = 0;
  for (; waited_ms < 20000; waited_ms += 200) {
    after = c_->Call("update_work_unit", A({B("s"), B(held_[0]), M({{"status", I(kFinished)}})}));
    if (after.ok()) break;
    EXPECT_EQ(after.status().code(), Code::kResourceExhausted) << after.status().ToString();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(after.ok()) << after.status().ToString() << "\n" << d_->Log();
  EXPECT_TRUE(Same(*after, OkPair()));
  std::printf("[ disk full ] writes resumed about %.1f s after space was freed\n",
              waited_ms / 1000.0);
  EXPECT_TRUE(Same(Call(*c_, "_test_check"), A()));
  ASSERT_EQ(d_->Stop(), 0) << d_->Log();
  // Everything acknowledged is there after a restart.
  ASSERT_TRUE(d_->Start().ok()) << d_->Log();
  c_ = d_->NewClient();
  auto status = Call(*c_, "get_work_unit_status", A({B("s"), A({B(held_[0])})}));
  ASSERT_TRUE(status.is_tuple()) << status.ToDiagnostic();
  const Value* st = status.items()[0].items()[0].FindKey("status");
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->AsInt64(), kFinished);
  EXPECT_TRUE(Same(Call(*c_, "_test_check"), A()));
  EXPECT_EQ(d_->Stop(), 0);
  d_.reset();
}

}  // namespace
}  // namespace coordtest
