// The column families of the store, declared once. docs/storage-format.md describes each key
// and value byte by byte; tests/unit/storage/keys_test.cc pins them with golden bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/keys.h"

namespace coordinated::storage {

enum class Cf : uint8_t {
  kMeta,            // format version, id counters, global mode, per-spec statistics
  kSpecs,           // spec id -> spec record (name, definition, control settings)
  kUnits,           // spec id, unit key -> unit record
  kReady,           // spec id, inverted priority, unit key -> "" (AVAILABLE and due)
  kDelayed,         // spec id, not-before, unit key -> "" (AVAILABLE, not yet due)
  kLeases,          // spec id, deadline, unit key -> "" (PENDING, by lease deadline)
  kByStatus,        // spec id, status, inverted priority, unit key -> "" (unit_index.h says
                    // which units: not PENDING ones, nor AVAILABLE ones without a delay)
  kCompleted,       // spec id, status, completion time, unit key -> "" (FINISHED, FAILED)
  kAttempts,        // spec id, key length, unit key, attempt number -> ended attempt record
  kWorkers,         // worker id -> worker record
  kWorkerUnits,     // worker id length, worker id, spec id, unit key -> "" (PY current units)
  kWorkerChildren,  // parent id length, parent id, child id -> ""
  kLocks,           // lock path (length-prefixed CBOR labels) -> lock record
  kDepsForward,     // unit ref, prerequisite unit ref -> hard flag (what a unit waits for)
  kDepsReverse,     // prerequisite unit ref, dependent unit ref -> hard flag
  kWaiting,         // spec id, waiting since, unit key -> "" (AVAILABLE, oldest first)
  kCount,
};

struct CfInfo {
  Cf cf;
  std::string_view name;  // RocksDB column family name ("default" is kMeta)
  bool per_spec;          // every key starts with the 4-byte spec id
  // Memtable inserts of keys longer than `hint_prefix` bytes start from where the last insert
  // with the same first `hint_prefix` bytes went (0: no hint). Worth it where successive writes
  // land next to each other: per spec (and status), keys go in by time or in the order units
  // are handed out (about 15-20% fewer instructions per unit handed out and finished).
  // kHintLengthPrefixed: the prefix is the key's leading 4-byte big-endian length and that
  // many bytes (a worker's keys: keys::WorkerUnitPrefix), so each worker has its own hint.
  // Constraint: a DeleteRange on such a family must begin at a key no longer than its prefix
  // (HintPrefixLength 0; Store::Write refuses others), because the RocksDB release we build
  // against shares the hints between a memtable's point entries and its range deletions.
  uint8_t hint_prefix;
  // Values written are kept in the store's WriteCache (see write_cache.h) for point reads that
  // follow soon after: records read back by the next state change of the same unit.
  bool cache_writes;
  // Looked up by key (Get, MultiGet): its table files carry a Bloom filter, which answers most
  // lookups of absent keys without reading a block. The other families are only scanned in
  // key order, where a whole-key filter is never consulted: building one would only cost CPU
  // in every flush and compaction, block cache and disk.
  bool point_reads;
};

inline constexpr uint8_t kHintLengthPrefixed = 255;

inline constexpr CfInfo kColumnFamilies[] = {
    // cf, name, per_spec, hint_prefix, cache_writes, point_reads
    {Cf::kMeta, "default", false, 0, false, true},
    {Cf::kSpecs, "specs", true, 0, false, false},
    {Cf::kUnits, "units", true, 4, true, true},
    {Cf::kReady, "ready", true, 4, false, false},
    {Cf::kDelayed, "delayed", true, 4, false, false},
    {Cf::kLeases, "leases", true, 4, false, false},
    {Cf::kByStatus, "by_status", true, 5, false, false},
    {Cf::kCompleted, "completed", true, 5, false, false},
    // range-deleted per unit; written, not read
    {Cf::kAttempts, "attempts", true, 0, false, false},
    {Cf::kWorkers, "workers", false, 0, false, true},
    {Cf::kWorkerUnits, "worker_units", false, kHintLengthPrefixed, false, false},
    {Cf::kWorkerChildren, "worker_children", false, 0, false, false},
    {Cf::kLocks, "locks", false, 0, false, true},
    {Cf::kDepsForward, "deps_forward", true, 0, false, true},
    {Cf::kDepsReverse, "deps_reverse", true, 0, false, false},
    {Cf::kWaiting, "waiting", true, 4, false, false},
};
static_assert(std::size(kColumnFamilies) == static_cast<size_t>(Cf::kCount));

// The length of `key`'s insert-hint prefix under `hint_prefix` (CfInfo::hint_prefix), or 0 when
// the key takes no hint: no hint for the family, or the key is not longer than its prefix.
inline size_t HintPrefixLength(uint8_t hint_prefix, std::string_view key) {
  size_t n = hint_prefix;
  if (hint_prefix == kHintLengthPrefixed) {
    if (key.size() < 4) return 0;
    n = 4 + static_cast<size_t>(GetU32(key));
  }
  return n > 0 && key.size() > n ? n : 0;
}

inline constexpr size_t CfIndex(Cf cf) { return static_cast<size_t>(cf); }
inline constexpr std::string_view CfName(Cf cf) { return kColumnFamilies[CfIndex(cf)].name; }

}  // namespace coordinated::storage
