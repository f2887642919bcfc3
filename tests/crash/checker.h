// Checker: compares the recorded history with the state read back after a restart.
//
// Model (standard uncertain-outcome rules): an ok op happened; a failed op did not; an unknown
// op may or may not have happened, but only between its invoke and its completion. An op X "may
// follow" a time t when X may have been applied (ok or unknown) and X completed after t. The
// workload never re-adds a key, so a unit's status moves only by get_work (grant), lease expiry,
// finish / fail (FINISHED beats FAILED; nothing in the workload takes a unit out of FINISHED),
// delete, and dependency release or failure cascades.
//
// Violation classes (every one must be zero):
//  lost_create           an ok create (add, chain output, dependency) of a unit that is absent,
//                        with no delete that may follow the unit's first possible creation;
//  lost_finish           an ok finish, and the unit is not FINISHED (absent with no delete that
//                        may follow it counts too);
//  lost_fail             an ok fail, and the unit is neither FAILED nor (after some finish that
//                        may have happened) FINISHED;
//  lost_delete           an ok delete, and the unit is present with no create that may follow it
//                        (a resurrected unit);
//  phantom               a unit present that no op ever tried to create;
//  double_lease          a unit acknowledged to two get_work calls whose leases certainly overlap
//                        (the first lease lasts at least from its invoke + lease time, extended
//                        by acknowledged renewals), with no finish / fail / delete / create of
//                        that unit that may have happened in between;
//  blocked_granted       a unit handed out after an acknowledged dependency on a prerequisite
//                        that nobody had finished, failed or deleted yet;
//  blocked_after_release a BLOCKED unit all of whose prerequisites are absent or done;
//  released_early        an acknowledged dependency whose prerequisite is still unfinished while
//                        the dependent is AVAILABLE or PENDING;
//  paused_granted        a unit of a spec handed out while an acknowledged pause certainly held;
//  lost_lock             an acknowledged lock, still within its timeout and never unlocked, not
//                        held by its owner after the restart;
//  lost_unlock           an acknowledged unlock, and the owner holds the path after the restart
//                        without a lock that may follow it;
//  double_lock           two acknowledged locks of one path whose hold times certainly overlap;
//  invariant             a problem reported by the daemon's `check` RPC;
//  offline_check         a problem reported by `coordinate-admin check --data-dir` (run by main).
// Grants and locks are compared across restarts: a lease or a lock survives a restart.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "history.h"
#include "snapshot.h"

namespace crashtest {

struct CheckOptions {
  double margin = 0.05;  // seconds allowed for clock rounding between the harness and the daemon
};

struct Violation {
  std::string cls;
  std::string detail;
  std::vector<uint64_t> ops;  // offending history entries
};

struct CheckResult {
  std::map<std::string, uint64_t> counts;  // every class, zero included
  std::vector<Violation> violations;
  // What the history exercised (reported, not judged): units granted more than once (re-grants
  // after a lapse or across a restart), grants of units that had acknowledged prerequisites,
  // acknowledged locks still live when read back after the restart.
  std::map<std::string, uint64_t> coverage;
  void Add(std::string cls, std::string detail, std::vector<uint64_t> ops);
};

// Every violation class, in report order.
const std::vector<std::string>& ViolationClasses();

CheckResult CheckHistory(const std::deque<Op>& ops, const StoreSnapshot& snap,
                         const CheckOptions& options);

// ---- internals shared by checker*.cc ---------------------------------------------------------

// The ops that touch each unit (as a unit acted on or created), in history order.
struct UnitIndex {
  std::map<UnitId, std::vector<const Op*>> touching;
  std::vector<const Op*> Of(const UnitId& u, OpType type) const;
  std::vector<const Op*> Creators(const UnitId& u) const;
};
UnitIndex BuildIndex(const std::deque<Op>& ops);

void CheckUnits(const std::deque<Op>& ops, const UnitIndex& index, const StoreSnapshot& snap,
                CheckResult* out);
void CheckLeases(const std::deque<Op>& ops, const UnitIndex& index, const CheckOptions& options,
                 CheckResult* out);
void CheckDependencies(const std::deque<Op>& ops, const UnitIndex& index, const StoreSnapshot& snap,
                       CheckResult* out);
void CheckLocks(const std::deque<Op>& ops, const StoreSnapshot& snap, const CheckOptions& options,
                CheckResult* out);

}  // namespace crashtest
