// IdleFlush: when an idle store's memtables are flushed (storage.idle_flush_seconds).
//
// A burst of writes (a bulk add_work_units, say) leaves its tail in memtables. Left there, it is
// flushed by the next burst, whose writes then share table files with it: for a queue-like
// family that file spans from the head of the queue (claims delete there) to its tail (adds
// went there), so the compaction it joins rewrites the family's whole first level under the
// load. Flushing once the store has been quiet for a while does that work while nothing else
// runs, and a restart after it replays less write-ahead log.
//
// The policy is a pure function of what it is shown (a write counter and a time), so tests
// drive it with any clock. Not thread-safe: one caller (the daemon's maintenance timer).
#pragma once

#include <cstdint>
#include <optional>

namespace coordinated::storage {

// Memtable entries (all families together) below which an idle flush is not worth its table
// files: a trickle of writes with pauses longer than the idle time would otherwise make a few
// tiny files per pause.
inline constexpr uint64_t kIdleFlushMinEntries = 10000;

class IdleFlushPolicy {
 public:
  // `idle_seconds` <= 0: never flush.
  explicit IdleFlushPolicy(double idle_seconds) : idle_seconds_(idle_seconds) {}

  // Shown the store's write counter (Store::writes) at time `now` (seconds, any monotonic
  // origin). True once per quiet spell: when the counter has not moved for `idle_seconds`
  // since it last moved. The first call only records the counter.
  bool ShouldFlush(uint64_t writes, double now);

 private:
  double idle_seconds_;
  std::optional<uint64_t> writes_;  // the counter when it last moved (or was first seen)
  double since_ = 0;                // when it did
  bool flushed_ = true;             // this quiet spell's flush is done (or there was no write)
};

}  // namespace coordinated::storage
