// The column families of the store, declared once. docs/storage-format.md describes each key
// and value byte by byte; tests/unit/storage/keys_test.cc pins them with golden bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace coordinated::storage {

enum class Cf : uint8_t {
  kMeta,            // format version, id counters, global mode, per-spec statistics
  kSpecs,           // spec id -> spec record (name, definition, control settings)
  kUnits,           // spec id, unit key -> unit record
  kReady,           // spec id, inverted priority, unit key -> "" (AVAILABLE and due)
  kDelayed,         // spec id, not-before, unit key -> "" (AVAILABLE, not yet due)
  kLeases,          // spec id, deadline, unit key -> "" (PENDING, by lease deadline)
  kByStatus,        // spec id, status, inverted priority, unit key -> "" (every unit)
  kCompleted,       // spec id, status, completion time, unit key -> "" (FINISHED, FAILED)
  kAttempts,        // spec id, key length, unit key, attempt number -> attempt record
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
};

inline constexpr CfInfo kColumnFamilies[] = {
    {Cf::kMeta, "default", false},        {Cf::kSpecs, "specs", true},
    {Cf::kUnits, "units", true},          {Cf::kReady, "ready", true},
    {Cf::kDelayed, "delayed", true},      {Cf::kLeases, "leases", true},
    {Cf::kByStatus, "by_status", true},   {Cf::kCompleted, "completed", true},
    {Cf::kAttempts, "attempts", true},    {Cf::kWorkers, "workers", false},
    {Cf::kWorkerUnits, "worker_units", false},
    {Cf::kWorkerChildren, "worker_children", false},
    {Cf::kLocks, "locks", false},
    {Cf::kDepsForward, "deps_forward", true},
    {Cf::kDepsReverse, "deps_reverse", true},
    {Cf::kWaiting, "waiting", true},
};
static_assert(std::size(kColumnFamilies) == static_cast<size_t>(Cf::kCount));

inline constexpr size_t CfIndex(Cf cf) { return static_cast<size_t>(cf); }
inline constexpr std::string_view CfName(Cf cf) { return kColumnFamilies[CfIndex(cf)].name; }

}  // namespace coordinated::storage
