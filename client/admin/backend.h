// Backend: the read side of coordinate-admin, through the daemon (RpcBackend) or straight from a
// data directory opened read-only (StoreBackend). Writes always go through the daemon.
//
// Through the daemon some fields are unknown (priority, not_before, attempt counters, worker
// heartbeat times); they are left empty. Offline, statuses are the stored ones: a lease whose
// deadline passed still shows PENDING (the daemon would expire it on its next look).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace coordadmin {

using coordinated::Status;
using coordinated::StatusOr;
using coordinated::Value;

struct SpecRow {
  Value name;
  Value definition;                  // the set_work_spec map
  Value meta;                        // {status, continuous, interval, max_running, weight}
  std::array<uint64_t, 6> counts{};  // by status 1..5, archived units included
  bool paused = false;
};

struct UnitQuery {
  Value spec;
  std::vector<int> statuses;  // empty: all
  std::string prefix;         // key prefix (bytes)
  uint64_t limit = 0;         // 0: no limit
};

struct AttemptRow {
  Value worker_id;
  double start = 0;
  double expires = 0;
  std::optional<double> end;
  std::string status;
};

struct WorkerRow {
  Value id;
  Value mode;
  Value data;
  Value parent;                      // offline only
  std::optional<double> last_heard;  // offline only
  std::optional<double> expires;     // offline only
  bool alive = true;
  std::optional<uint64_t> unit_count;          // offline: current units
  std::vector<std::pair<Value, Value>> units;  // (spec, key); show
  std::vector<Value> children;                 // show
};

struct UnitRow {
  Value key;
  int status = 0;
  Value data;
  std::optional<double> priority;  // offline only
  Value worker_id;
  std::optional<double> expiration;
  std::optional<double> not_before;                      // offline only
  std::optional<uint32_t> attempts, expiries, blockers;  // offline only
  Value traceback;
  std::vector<std::pair<Value, Value>> depends_on;  // (spec, key) of unfinished prerequisites
  std::vector<AttemptRow> attempt_log;              // Unit() only
  std::optional<WorkerRow> worker;                  // Unit() only: the worker holding it
};

struct LockRow {
  Value path;
  Value owner;
  double deadline = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual StatusOr<std::vector<SpecRow>> Specs() = 0;
  virtual StatusOr<std::optional<SpecRow>> Spec(const Value& name) = 0;
  // kNotFound for an unknown spec.
  virtual StatusOr<std::vector<UnitRow>> Units(const UnitQuery& query) = 0;
  virtual StatusOr<std::optional<UnitRow>> Unit(const Value& spec, const Value& key) = 0;
  virtual StatusOr<std::vector<WorkerRow>> Workers() = 0;
  virtual StatusOr<std::optional<WorkerRow>> Worker(const Value& id) = 0;
  virtual StatusOr<std::vector<LockRow>> Locks() = 0;
  // One line per invariant violation.
  virtual StatusOr<std::vector<std::string>> Check() = 0;
  virtual double Now() = 0;
};

}  // namespace coordadmin
