// FaultFs: a rocksdb::FileSystem for tests that models what a disk keeps after a power loss and
// injects the errors a disk can return (LevelDB's fault_injection_test and RocksDB's
// FaultInjectionTestFS, reduced to what our tests need).
//
//   auto fs = std::make_shared<FaultFs>();
//   auto env = rocksdb::NewCompositeEnv(fs);       // StoreOptions::env = env.get()
//   ... open the store, write ...
//   fs->PowerOff();                                 // nothing written from now on persists
//   ... close the store ...
//   fs->DropUnsyncedData();                         // the directory as the disk left it
//
// Durability model. For every file created or reopened for writing through it, FaultFs tracks
// the bytes appended and the size at the last successful Sync/Fsync ("synced size"), and whether
// the file's directory entry is durable: a file created here becomes durable in its directory
// when that directory is fsynced. Files that existed before (or were not written through this
// instance) count as fully durable. Simplifications: a rename is treated as durable at once (the
// target keeps its synced size; RocksDB fsyncs the directory after each rename anyway), deletes
// are durable at once, and RangeSync never counts as a sync.
//
// PowerOff(): from then on nothing becomes durable, as on a machine that lost power while the
// process still thinks it runs. Data still reaches the files (as the page cache would take it,
// so RocksDB can read back what it just wrote), but syncs and directory fsyncs report success
// without making anything durable, new files stay non-durable, and deletes, renames and
// directory changes report success and do nothing (the disk keeps the old state). Re-creating a
// durable file fails. There is no power-on: build a new FaultFs (and Env) for the next open.
//
// DropUnsyncedData() (call after the store is closed): truncates every tracked file to its
// synced size and deletes every tracked file whose directory entry never became durable.
//
// Error injection, settable at any time from any thread:
//   * SetSyncError(true): Sync/Fsync of files and directories return IOError, with no effect.
//   * SetWriteError(true): Append returns IOError and writes nothing.
//   * SetSpaceLimit(n): appends may add n more bytes in total; an Append that does not fit
//     returns IOStatus::NoSpace() and writes nothing (GetFreeSpace reports what is left).
//     ClearSpaceLimit() lifts it.
//   * SetFreeSpaceUnknown(true): GetFreeSpace returns NotSupported, which turns off RocksDB's
//     own polling recovery from a full disk (only DB::Resume recovers then).
//   * SimulateWriteback(): everything written so far becomes synced, as when the kernel flushes
//     its page cache on its own (used to model `sync: false`).
//
// Thread-safety: every method may be called concurrently (RocksDB calls from its own threads).
#pragma once

#include <rocksdb/file_system.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace coordtest {

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  // Wraps `base` (the default POSIX file system when null).
  explicit FaultFs(std::shared_ptr<rocksdb::FileSystem> base = nullptr);

  const char* Name() const override { return "FaultFs"; }

  // ---- faults ---------------------------------------------------------------------------------
  void PowerOff() { power_off_.store(true); }
  bool powered_off() const { return power_off_.load(); }
  void SetSyncError(bool on) { sync_error_.store(on); }
  void SetWriteError(bool on) { write_error_.store(on); }
  void SetFreeSpaceUnknown(bool on) { free_space_unknown_.store(on); }
  void SetSpaceLimit(uint64_t bytes);
  void ClearSpaceLimit();
  void SimulateWriteback();

  struct DropStats {
    uint64_t files_truncated = 0;
    uint64_t bytes_dropped = 0;
    uint64_t files_deleted = 0;
  };
  // See the header comment. Call only while no store is open on the directory.
  rocksdb::IOStatus DropUnsyncedData(DropStats* stats = nullptr);

  // ---- counters (since construction) ------------------------------------------------------------
  uint64_t syncs() const { return syncs_.load(); }  // successful file syncs
  uint64_t failed_syncs() const { return failed_syncs_.load(); }
  uint64_t no_space_errors() const { return no_space_errors_.load(); }

  // ---- FileSystem -------------------------------------------------------------------------------
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& s, const std::string& t,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& s, const std::string& t,
                             const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& f, size_t size, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& d, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& d, const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteDir(const std::string& d, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetFreeSpace(const std::string& path, const rocksdb::IOOptions& o,
                                 uint64_t* free, rocksdb::IODebugContext* dbg) override;

  // ---- used by the file and directory wrappers
  // ----------------------------------------------------
  struct FileState {
    uint64_t size = 0;         // bytes written through FaultFs (or found at reopen)
    uint64_t synced = 0;       // size at the last successful sync
    bool dir_durable = false;  // the directory entry survives a power loss
  };
  rocksdb::IOStatus BeforeAppend(size_t n);  // power, write error and space checks
  rocksdb::IOStatus BeforeSync();            // sync error check
  void AfterAppend(FileState* st, size_t n);
  void AfterSync(FileState* st, uint64_t size_before);
  uint64_t SizeOf(FileState* st);
  void DirSynced(const std::string& dir);
  void CountFailedSync() { failed_syncs_.fetch_add(1); }
  std::mutex& mu() { return mu_; }

 private:
  std::shared_ptr<FileState> Track(const std::string& f, FileState initial);

  std::atomic<bool> power_off_{false};
  std::atomic<bool> sync_error_{false};
  std::atomic<bool> write_error_{false};
  std::atomic<bool> free_space_unknown_{false};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> failed_syncs_{0};
  std::atomic<uint64_t> no_space_errors_{0};
  std::mutex mu_;
  std::optional<uint64_t> space_left_;                       // guarded by mu_
  std::map<std::string, std::shared_ptr<FileState>> files_;  // guarded by mu_; by path
};

}  // namespace coordtest
