// The index entries a unit record implies. One definition, used by the coordinator when it
// writes units, by the consistency check and by repair/restore tools that rebuild indexes.
//
//   every unit                      -> by_status (spec, status, inverted priority, key)
//   AVAILABLE, not_before == 0      -> ready     (spec, inverted priority, key)
//   AVAILABLE, not_before > 0       -> delayed   (spec, not_before, key)
//   AVAILABLE                       -> waiting   (spec, storage::WaitingSince(unit), key)
//   PENDING                         -> leases    (spec, expiration, key)
//   FINISHED or FAILED              -> completed (spec, status, expiration, key)
//   BLOCKED                         -> nothing more
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

// The column families that hold only derived unit indexes (rebuildable from unit records).
inline constexpr storage::Cf kUnitIndexFamilies[] = {
    storage::Cf::kReady,    storage::Cf::kDelayed,   storage::Cf::kLeases,
    storage::Cf::kByStatus, storage::Cf::kCompleted, storage::Cf::kWaiting};

}  // namespace coordinated::scheduler
