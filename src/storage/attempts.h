// A work unit's attempt history (get_work_unit_attempts, dumps, the admin tool).
//
// Each lease granted is one attempt, numbered from 1 (UnitRecord::attempts is the latest
// number). An attempt that has ended (expired, finished, failed, retried) is a record in
// kAttempts under keys::Attempt(spec, key, number). The attempt a PENDING unit is in now is
// not stored: the unit record holds everything it says (worker_id, lease_start, expiration),
// so a claim and a lease renewal write no attempt record and a finish writes one.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/keys.h"
#include "storage/records.h"

namespace coordinated::storage {

class Store;

struct NumberedAttempt {
  uint32_t number;
  AttemptRecord record;
};

// Every attempt of the unit `key` of spec `spec` whose record is `unit`, oldest first: the
// stored ones, then the open one when the unit is PENDING. Corruption for an undecodable record.
StatusOr<std::vector<NumberedAttempt>> ReadAttempts(const Store& store, SpecId spec,
                                                    std::string_view key, const UnitRecord& unit);

class WriteBatch;

// For a PENDING `unit` whose open attempt still has a stored record (a store written before
// format 4, or damage): sets unit->lease_start to that record's start when it is unset and
// adds the record's deletion to `batch`. Returns true when it found such a record (the caller
// then writes the unit record too); a record that does not decode is deleted all the same (it
// could never be listed). False, and nothing done, for any other unit.
StatusOr<bool> FoldStoredOpenAttempt(const Store& store, SpecId spec, std::string_view key,
                                     UnitRecord* unit, WriteBatch* batch);

}  // namespace coordinated::storage
