// Store: the RocksDB data directory behind the coordinator.
//
// Every state change is one WriteBatch applied by Write() without waiting for the disk; Sync()
// then makes everything applied so far durable with one fsync of the write-ahead log (group
// commit, driven by the sequencer). With `sync` off, Sync() does nothing: a crash of the
// process loses nothing (the WAL is in the OS), a power loss may lose the last moments, and the
// store is never left inconsistent because each batch is atomic.
//
// Open() creates a missing store, checks the format version (runs migrations/ steps for an older
// store, refuses a newer one) and never scans work units.
//
// Thread-safety: Write/Sync/Get/NewIterator may be called from any thread (RocksDB is
// thread-safe). The coordinator reads and writes from its sequencer thread only, which is what
// makes read-decide-write sequences atomic; Sync runs on the sequencer's committer thread,
// concurrently with later writes (SyncWAL makes everything written before the call durable).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/column_families.h"
#include "storage/write_cache.h"

namespace rocksdb {
class Env;
}

namespace coordinated::storage {

inline constexpr uint64_t kFormatVersion = 4;

struct StoreOptions {
  std::string path;
  bool sync = true;  // fsync the WAL in Sync()
  bool create_if_missing = true;
  bool read_only = false;  // open as a secondary/read-only view (tools)
  // Memory bounds (storage.block_cache_bytes, storage.memtable_bytes): one block cache shared
  // by every column family, and one budget for all memtables together.
  uint64_t block_cache_bytes = 64ull << 20;
  uint64_t memtable_bytes = 64ull << 20;
  // Budget of the cache of recently written unit records (storage.write_cache_bytes,
  // see write_cache.h); 0 = no cache.
  uint64_t write_cache_bytes = 16ull << 20;
  // Encode every batch through RocksDB's API even where WriteBatch's own encoding would be
  // accepted (tests compare the two paths).
  bool library_batches = false;
  // The RocksDB environment (file system, threads); null = the default. Tests pass one whose
  // file system injects faults. Not owned; must outlive the store.
  rocksdb::Env* env = nullptr;
};

class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  // `read_soon`: the value will likely be read back shortly (a leased unit's record, an open
  // attempt); in a family with CfInfo::cache_writes it is then kept in the store's WriteCache.
  // Any other write of the key removes it from there.
  void Put(Cf cf, std::string_view key, std::string_view value, bool read_soon = false);
  void Delete(Cf cf, std::string_view key);
  // Deletes [begin, end).
  void DeleteRange(Cf cf, std::string_view begin, std::string_view end);
  size_t Count() const;
  bool empty() const { return Count() == 0; }
  void Clear();

 private:
  friend class Store;
  friend struct BatchAccess;  // store.cc
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

// A forward iterator over one column family, bounded to [lower, upper).
class Iterator {
 public:
  virtual ~Iterator() = default;
  virtual void Seek(std::string_view key) = 0;
  virtual void SeekToFirst() = 0;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

class Store {
 public:
  static StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();

  // kNotFound when absent.
  Status Get(Cf cf, std::string_view key, std::string* value) const;
  // Point reads of many keys of one family at once (one RocksDB MultiGet, cheaper per key than
  // as many Gets): (*values)[i] is the value of keys[i], or nullopt when it is absent. Any other
  // failure is returned for the whole call.
  Status MultiGet(Cf cf, const std::vector<std::string>& keys,
                  std::vector<std::optional<std::string>>* values) const;
  // Iterates keys in [lower, upper); an empty `upper` means no upper bound.
  std::unique_ptr<Iterator> NewIterator(Cf cf, std::string_view lower,
                                        std::string_view upper) const;
  // Applies the batch atomically, without syncing. An error means nothing was applied.
  // kResourceExhausted: the disk is full (RocksDB stops writing after that); each later Write
  // first tries to resume (RocksDB's DB::Resume), so writes work again once space is freed.
  // kIOError/kCorruption: the write-ahead log could not be written; the store is then failed
  // and every later Sync() returns that error, so nothing more is acknowledged.
  Status Write(WriteBatch& batch);
  // Makes every write applied so far durable (no-op when nothing changed or sync is off).
  // After a Write that ran out of space it first waits (at most 15 s) for RocksDB to recover,
  // which flushes the earlier writes into synced table files. An error is final: the caller
  // must stop acknowledging and exit (never retry in place).
  Status Sync();
  // A consistent copy of the store in `dir` (RocksDB checkpoint).
  Status Checkpoint(const std::string& dir);

  const std::string& path() const { return options_.path; }
  bool sync_enabled() const { return options_.sync; }
  uint64_t syncs() const { return syncs_.load(); }
  // Point reads answered by the write cache, and the bytes it holds (metrics).
  uint64_t write_cache_hits() const { return write_cache_->hits(); }
  uint64_t write_cache_bytes() const { return write_cache_->bytes(); }
  // Total seconds spent in write-ahead-log syncs, and the slowest one (metrics).
  double sync_seconds() const { return sync_seconds_.load(); }
  double max_sync_seconds() const { return max_sync_seconds_.load(); }
  // Approximate bytes in SST files (the write-ahead log is not counted), for metrics.
  uint64_t ApproximateSize() const;
  // True when batches reach RocksDB in WriteBatch's own encoding (see WriteBatch::Rep in
  // store.cc), false when they are re-encoded through the library's API.
  bool direct_batches() const;
  // Batches applied so far. It only grows, so an unchanged figure means nothing was written.
  uint64_t writes() const { return writes_.load(std::memory_order_relaxed); }
  // When the memtables of all families together hold at least `min_entries` entries, asks
  // RocksDB to flush every family whose memtable is not empty, in the background unless `wait`.
  // (Entries, not bytes: a memtable's memory figure counts its arena's reserved blocks.) Returns
  // how many families were asked: 0 below the threshold, for a read-only store, and while the
  // store is out of space or failed (RocksDB's own recovery flushes then). Meant for a store
  // that has gone idle (storage.idle_flush_seconds, idle_flush.h): the flush and the compactions
  // it leads to then run while nothing else does, and a restart replays less log.
  StatusOr<int> FlushMemtables(uint64_t min_entries, bool wait);

 private:
  struct Rep;
  explicit Store(StoreOptions options);
  StoreOptions options_;
  std::unique_ptr<Rep> rep_;
  std::unique_ptr<WriteCache> write_cache_;  // families with CfInfo::cache_writes
  std::atomic<bool> dirty_{false};           // written since the last Sync began
  // Faults, set by Write (sequencer thread) and Sync (committer thread). `faulty_` is true
  // whenever either field is set, so the fast paths take no lock.
  std::atomic<bool> faulty_{false};
  std::mutex fault_mu_;
  bool no_space_ = false;  // guarded by fault_mu_: a write ran out of space; resume first
  Status failed_;          // guarded by fault_mu_: a log write or sync failed; final
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> writes_{0};
  std::atomic<double> sync_seconds_{0};
  std::atomic<double> max_sync_seconds_{0};
};

}  // namespace coordinated::storage
