// StoreSnapshot: the daemon's state read back after a restart, before any actor runs again.
//
// Every unit of every workload spec (keys listed with get_work_units, statuses read with
// get_work_unit_status), the owner of every workload lock path (readlock) and the daemon's own
// consistency check (the `check` RPC: invariant violations, empty when consistent).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "coordinate/api.h"
#include "history.h"

namespace crashtest {

struct UnitState {
  int status = 0;  // 1 available, 2 blocked, 3 pending, 4 finished, 5 failed
  std::optional<std::string> worker;
};

struct StoreSnapshot {
  std::map<UnitId, UnitState> units;
  std::map<std::string, std::optional<std::string>> lock_owner;  // path label -> owner
  double locks_read_invoke = 0;                                  // wall clock around readlock
  double locks_read_complete = 0;
  std::vector<std::string> check_problems;  // from the `check` RPC
};

// Reads everything; fails on any error (the daemon is expected to be up and idle).
coordinated::StatusOr<StoreSnapshot> TakeSnapshot(coordinate::Api& api);

}  // namespace crashtest
