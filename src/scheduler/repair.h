// Repair: rebuilds the derived data of a store from its primary records (behind
// `coordinate-admin check --repair`). Run it on a store no daemon has open.
//
//  * the unit index column families (kUnitIndexFamilies: ready, delayed, leases, by_status,
//    completed) are emptied and rebuilt from the unit records with UnitIndexEntries;
//  * each unit's `blockers` is set to the number of its forward dependency edges (and its status
//    moved between AVAILABLE and BLOCKED to match, as the coordinator does);
//  * a PENDING unit whose open attempt has a stored record (storage/attempts.h) takes that
//    record's start as its lease_start (when unset) and the record is deleted;
//  * deps_reverse is emptied and rebuilt from deps_forward;
//  * each spec's SpecStats counts are recomputed from a scan (archived counts and
//    next_continuous are kept).
//
// Primary records (specs, units, attempts, workers, locks, forward edges) are never deleted,
// except a stored open attempt, which is moved into its unit's record.
// Every step is idempotent: an interrupted repair is finished by running it again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/store.h"

namespace coordinated::scheduler {

struct RepairReport {
  uint64_t specs = 0;
  uint64_t units = 0;
  uint64_t index_entries_removed = 0;  // entries found before the rebuild
  uint64_t index_entries_written = 0;
  uint64_t reverse_edges_written = 0;
  uint64_t blockers_fixed = 0;        // unit records rewritten for their blocker count
  uint64_t open_attempts_folded = 0;  // stored open attempts moved into their unit records
  uint64_t counters_fixed = 0;        // specs whose stored counts differed from the scan
  std::vector<std::string> notes;     // things repair saw but left alone (orphans, bad records)
};

StatusOr<RepairReport> RepairStore(storage::Store* store);

}  // namespace coordinated::scheduler
