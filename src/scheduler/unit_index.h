// The index entries a unit record implies. One definition, used by the coordinator when it
// writes units, by the consistency check and by repair/restore tools that rebuild indexes.
//
//   BLOCKED, FINISHED, FAILED and
//   AVAILABLE with not_before > 0   -> by_status (spec, status, inverted priority, key)
//   AVAILABLE, not_before == 0      -> ready     (spec, inverted priority, key)
//   AVAILABLE, not_before > 0       -> delayed   (spec, not_before, key)
//   AVAILABLE                       -> waiting   (spec, storage::WaitingSince(unit), key)
//   PENDING                         -> leases    (spec, expiration, key)
//   FINISHED or FAILED              -> completed (spec, status, expiration, key)
//   BLOCKED                         -> nothing more
//
// by_status leaves out what another index already lists: the ready index is ordered exactly as
// by_status would be (inverted priority, key), and PENDING units are all in leases. Listing a
// status in (priority, key) order (Coordinator::VisitByStatus) merges ready with by_status for
// AVAILABLE, and for PENDING walks an in-memory order of the lease holders
// (SpecState::pending_order). Each claim and finish writes three index entries fewer than with
// by_status for every unit. The rule is storage::InByStatus (records.h), which the format migration
// shares.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "storage/column_families.h"
#include "storage/keys.h"
#include "storage/records.h"

namespace coordinated::scheduler {

struct IndexEntry {
  storage::Cf cf;
  std::string key;
  bool operator==(const IndexEntry& o) const { return cf == o.cf && key == o.key; }
};

std::vector<IndexEntry> UnitIndexEntries(storage::SpecId id, std::string_view key,
                                         const storage::UnitRecord& unit);

// A unit's place in get_work_units order within its status: 8-byte inverted priority, then
// the key (a ready key, or a by_status key, without its spec and status prefix).
inline std::string ListingPosition(double priority, std::string_view key) {
  std::string pos;
  pos.reserve(8 + key.size());
  storage::PutU64(&pos, storage::InvertedPriority(priority));
  pos.append(key);
  return pos;
}

// The column families that hold only derived unit indexes (rebuildable from unit records).
inline constexpr storage::Cf kUnitIndexFamilies[] = {
    storage::Cf::kReady,    storage::Cf::kDelayed,   storage::Cf::kLeases,
    storage::Cf::kByStatus, storage::Cf::kCompleted, storage::Cf::kWaiting};

}  // namespace coordinated::scheduler
