// DiskSpaceGuard: refuses new work before the data directory's file system fills up, and holds a
// reserve file so that finishing work can still be written when it does.
//
// Model. Refresh() reads the free space of the file system holding the data directory (statvfs:
// f_bavail * f_frsize, what the daemon may still write). The daemon calls it once a second, never
// per request. The guard is "low" when the free space, counted as if the reserve were held, is
// below `min_free_bytes`:
//
//     low  <=>  free - (reserve held ? 0 : reserve_bytes) < min_free_bytes
//
// While low, CheckCanGrow() returns kResourceExhausted with a message giving both figures (the
// RPC dispatcher refuses every method that creates work with it), and the reserve file is
// deleted, so its space is there for finishes, fails, renewals and RocksDB's flushes. Refusal
// starts when free space drops below min_free_bytes and ends when it reaches min_free_bytes +
// reserve_bytes (the reserve is then re-created), so the state does not flap around one value.
//
// min_free_bytes == 0 turns the guard off: never low, no reserve file (an existing one is
// deleted). reserve_bytes == 0 keeps the threshold without a reserve file.
//
// The reserve is the file kReserveFileName in the data directory, allocated with
// posix_fallocate so its blocks are really taken. RocksDB ignores it.
//
// Test seam: the free-space provider is injectable (FreeSpaceFn); the default is statvfs.
//
// Thread-safety: Init and Refresh from one thread at a time; CheckCanGrow, low, free_bytes and
// reserve_held from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"

namespace coordinated::storage {

inline constexpr const char* kReserveFileName = "RESERVE";

// Bytes the daemon may still write on the file system holding `dir`; kIOError when unknown.
StatusOr<uint64_t> FreeSpaceOf(const std::string& dir);

struct DiskSpaceOptions {
  std::string dir;              // the data directory (must exist)
  uint64_t min_free_bytes = 0;  // 0 = guard off
  uint64_t reserve_bytes = 0;   // 0 = no reserve file
};

class DiskSpaceGuard {
 public:
  using FreeSpaceFn = std::function<StatusOr<uint64_t>(const std::string& dir)>;

  explicit DiskSpaceGuard(DiskSpaceOptions options, FreeSpaceFn free_space = FreeSpaceOf);

  // Deletes the reserve file when the guard or the reserve is off, then Refresh(). Call once,
  // before the store opens, so a reserve left by an earlier run is released on a full disk.
  Status Init();
  // Re-reads the free space; releases or re-creates the reserve as described above. An error
  // (free space unknown, the reserve cannot be written) leaves the low/not-low state as it was.
  Status Refresh();

  // OK, or kResourceExhausted while low ("disk space low: ...").
  Status CheckCanGrow() const;
  bool low() const { return low_.load(); }
  // Free bytes at the last successful Refresh (the reserve, when held, counts as used).
  uint64_t free_bytes() const { return free_bytes_.load(); }
  bool reserve_held() const { return reserve_held_.load(); }
  const DiskSpaceOptions& options() const { return options_; }
  std::string reserve_path() const;

 private:
  Status CreateReserve();
  Status DeleteReserve();

  DiskSpaceOptions options_;
  FreeSpaceFn free_space_;
  std::atomic<bool> low_{false};
  std::atomic<uint64_t> free_bytes_{0};
  std::atomic<bool> reserve_held_{false};
};

// "12.5 MiB" (binary units, one decimal), for messages.
std::string FormatBytes(uint64_t bytes);

}  // namespace coordinated::storage
