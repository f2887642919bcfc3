// History: every call the crash harness makes, recorded as invoke then ok / failed / unknown.
//
// An operation is invoked (its invoke time is stamped just before the request is sent) and then
// completes as:
//  * ok      - the daemon replied with success: the change is acknowledged;
//  * failed  - the daemon replied with an error or an in-band refusal: the change did not happen;
//  * unknown - the connection dropped before a reply (the daemon died): it may or may not have
//              happened, but only before the daemon died.
// Times are wall-clock Unix seconds, the clock the daemon's lease and lock deadlines use.
//
// Thread-safety: Invoke and Complete may be called from any thread. ops() may only be read
// while no actor is running (between rounds).
#pragma once

#include <compare>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace crashtest {

// Wall-clock seconds since the Unix epoch.
double WallNow();

enum class OpType {
  kCreate,      // add_work_units
  kGetWork,     // get_work
  kFinish,      // update_work_unit status 4
  kFail,        // update_work_unit status 5
  kRenew,       // update_work_unit lease_time
  kDelete,      // del_work_units by key
  kPrioritize,  // prioritize_work_units
  kPause,       // control_work_spec status 2
  kResume,      // control_work_spec status 1
  kDepend,      // add_dependent_work_units
  kLock,        // lock
  kUnlock,      // unlock
  kReadLock,    // readlock
  kCount
};
const char* OpName(OpType t);

enum class Outcome { kPending, kOk, kFailed, kUnknown };
const char* OutcomeName(Outcome o);

// A work unit: spec name and key (both byte strings on the wire).
struct UnitId {
  std::string spec;
  std::string key;
  auto operator<=>(const UnitId&) const = default;
};
std::string ToString(const UnitId& u);

struct Op {
  uint64_t index = 0;
  int round = 0;
  std::string actor;
  OpType type = OpType::kCount;
  // Units acted on. get_work: the units granted (known only when ok). add_dependent_work_units:
  // {later, earlier}.
  std::vector<UnitId> units;
  std::vector<UnitId> creates;  // units this op creates if it is applied (add, chain, depend)
  std::string spec;             // pause / resume target
  std::string who;              // worker id or lock owner
  double seconds = 0;           // lease time (get_work, renew) or lock timeout
  bool hard = false;            // add_dependent_work_units
  std::string path;             // lock path label
  double invoke = 0;
  double complete = 0;
  Outcome outcome = Outcome::kPending;
  std::string error;

  bool ok() const { return outcome == Outcome::kOk; }
  // Ok or unknown: it may have been applied.
  bool maybe_applied() const { return outcome == Outcome::kOk || outcome == Outcome::kUnknown; }
  std::string Describe() const;
};

class History {
 public:
  // Records `op` as invoked now; returns its index.
  size_t Invoke(Op op);
  // Records the outcome of op `i`, completed now. `granted` fills the units of a get_work.
  void Complete(size_t i, Outcome outcome, std::string error = {},
                std::vector<UnitId> granted = {});
  // Ops still pending become unknown (their client never came back), completed at `t`.
  void SettlePending(double t);

  // Only while no actor runs.
  const std::deque<Op>& ops() const { return ops_; }
  // Writes one line per op to `path`.
  bool WriteTo(const std::string& path) const;

 private:
  mutable std::mutex mu_;
  std::deque<Op> ops_;  // guarded by mu_ while actors run
};

}  // namespace crashtest
