// Records: the values stored in the column families, each a CBOR array whose first element is
// the record's schema version (1). Client data (unit data, spec definitions, worker data) is
// stored as its Value, so byte vs text strings, tuples, UUIDs, map order and integer vs float
// come back exactly (half and single floats are widened to doubles and indefinite lengths
// become definite, as the original daemon's encoder did). docs/storage-format.md lists every field.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/value.h"

namespace coordinated::storage {

// Unit statuses, as on the wire.
enum UnitStatus : int {
  kAvailable = 1,
  kBlocked = 2,
  kPending = 3,
  kFinished = 4,
  kFailed = 5,
};
inline bool ValidStatus(int s) { return s >= kAvailable && s <= kFailed; }

// specs: spec id -> SpecRecord
struct SpecRecord {
  Value name;        // as first sent (bytes or text)
  Value definition;  // the map given to set_work_spec
  Value control;     // map of control_work_spec overrides since the last set_work_spec
};
std::string EncodeSpec(const SpecRecord& r);
StatusOr<SpecRecord> DecodeSpec(std::string_view bytes);

// meta "stats/<id>" -> SpecStats: counts kept in the same batches as the units they count, so
// start-up never counts units.
struct SpecStats {
  std::array<uint64_t, 6> counts{};    // by status 1..5 (index 0 unused)
  std::array<uint64_t, 6> archived{};  // units removed by archive, by status
  double next_continuous = 0;          // continuous specs: not before this time
};
std::string EncodeStats(const SpecStats& s);
StatusOr<SpecStats> DecodeStats(std::string_view bytes);

// units: spec id + key -> UnitRecord
struct UnitRecord {
  bool key_is_text = false;  // the key's CBOR type when it was created
  int status = kAvailable;
  double priority = 0;
  Value data;
  Value worker_id;                   // null when none (PY keeps it after completion)
  std::optional<double> expiration;  // lease deadline (PENDING) or completion time (4, 5)
  double not_before = 0;             // AVAILABLE units are not handed out before this
  uint32_t attempts = 0;             // leases granted so far (attempt records 1..attempts)
  uint32_t expiries = 0;             // leases that lapsed (for max_retries)
  uint32_t blockers = 0;             // prerequisites not yet finished (BLOCKED while > 0)
  double available_since = 0;        // AVAILABLE: when it became so; 0 in other states
  // PENDING: when the current lease (attempt number `attempts`) was granted; 0 in other
  // states. A PENDING unit's current attempt is this record (worker_id, lease_start,
  // expiration), not a stored attempt record: see OpenAttempt and ReadAttempts (attempts.h).
  double lease_start = 0;
};
// When an AVAILABLE unit started waiting to be handed out: the later of the time it became
// AVAILABLE and its not-before time. A spec's oldest available age is now minus the smallest
// of these (its first kWaiting key).
inline double WaitingSince(const UnitRecord& r) {
  return std::max(r.available_since, r.not_before);
}
// Whether the unit has a by_status entry (scheduler/unit_index.h): every unit except a PENDING
// one (its lease entry lists it) and an AVAILABLE one without a delay (its ready entry is the
// same key without the status byte).
inline bool InByStatus(const UnitRecord& r) {
  if (r.status == kPending) return false;
  return r.status != kAvailable || r.not_before > 0;
}
std::string EncodeUnit(const UnitRecord& r);
// How DecodeUnit hands over the unit's data: decoded (a Value tree), or, for a caller that only
// passes the data on (into a reply, into the record it writes back), possibly kept as its bytes
// (Value::Encoded, after the same checks and limits as decoding). kMayKeep is a permission,
// not a promise: a record read by the general path has its data decoded.
enum class UnitData { kDecoded, kMayKeep };
// Reads the layout EncodeUnit writes field by field; any other form (older or longer records,
// numbers in other encodings, damage) goes through DecodeUnitGeneral, which decodes the CBOR
// array first. Both give the same record, or the same error.
StatusOr<UnitRecord> DecodeUnit(std::string_view bytes, UnitData data = UnitData::kDecoded);
StatusOr<UnitRecord> DecodeUnitGeneral(std::string_view bytes);

// attempts: spec id + key + number -> AttemptRecord
struct AttemptRecord {
  Value worker_id;
  double start = 0;
  double expires = 0;
  std::optional<double> end;
  std::string status = "pending";  // pending, expired, finished, failed, retried
};
// The current attempt of a PENDING unit, as its record describes it (status "pending").
AttemptRecord OpenAttempt(const UnitRecord& unit);
// That attempt, ended now with `outcome` (expired, finished, failed, retried): the record
// kAttempts keeps for it.
AttemptRecord EndedAttempt(const UnitRecord& unit, std::string_view outcome, double now);
std::string EncodeAttempt(const AttemptRecord& r);
StatusOr<AttemptRecord> DecodeAttempt(std::string_view bytes);

// locks: path key -> LockRecord
struct LockRecord {
  Value owner;
  double deadline = 0;
  Value path;  // the path as the client sent it (a list of labels)
};
std::string EncodeLock(const LockRecord& r);
StatusOr<LockRecord> DecodeLock(std::string_view bytes);

// workers: worker id -> WorkerRecord
struct WorkerRecord {
  Value id;
  Value mode;
  Value data;
  Value parent;  // null for none
  double last_heard = 0;
  double expires = 0;
};
std::string EncodeWorker(const WorkerRecord& r);
StatusOr<WorkerRecord> DecodeWorker(std::string_view bytes);

}  // namespace coordinated::storage
