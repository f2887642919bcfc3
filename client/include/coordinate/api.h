// coordinate::Api: one typed method per CBOR-RPC method of docs/protocol.md.
//
//   coordinate::ClientOptions opts;
//   opts.address = "127.0.0.1:5932";
//   coordinate::Client client(opts);
//   coordinate::Api api(client);
//   COORD_RETURN_IF_ERROR(api.SetWorkSpec(coordinate::M({{"name", coordinate::B("spec")}})));
//   auto leases = api.GetWork(coordinate::B("worker-1"));
//
// The Api wraps a Client (which it does not own) and inherits its behaviour: lazy connection,
// reconnect and resend with exponential back-off on transport failures, and the per-reply
// timeout of ClientOptions::timeout_seconds. For pipelining or batches use Client::Pipeline and
// Client::Batch directly; the Parse* helpers below turn their raw results into typed ones.
//
// Errors:
//  * an error reply ({error: {message}}) keeps the Status its "Class:" prefix names;
//  * an in-band failure ((False, msg), (None, msg), (0, msg), [False, msg]) becomes kNotFound
//    when the daemon's message starts with "no such" or "no worker", kFailedPrecondition
//    otherwise, with the daemon's message;
//  * a reply of an unexpected shape is kIOError.
//
// Names (work spec names, keys, worker ids) are Values: bytes (B("x")) or text (T("x")), sent
// as given. Thread-safety: as the Client: one Api (and Client) per thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coordinate/client.h"

namespace coordinate {

using coordinated::Code;

// Work unit statuses.
inline constexpr int kAvailable = 1;
inline constexpr int kBlocked = 2;
inline constexpr int kPending = 3;
inline constexpr int kFinished = 4;
inline constexpr int kFailed = 5;

// ---- parameter and result types -----------------------------------------------------------

struct ListWorkSpecsOptions {
  std::optional<Value> start;  // inclusive spec name to start at
  std::optional<int64_t> limit;
};

struct WorkSpecList {
  std::vector<Value> definitions;  // sorted by name
  Value next;                      // first name not returned, or null
};

// control_work_spec options; unset fields are not sent.
struct ControlOptions {
  std::optional<int> status;  // 1 or 2, as docs/protocol.md
  std::optional<bool> continuous;
  std::optional<double> weight;
  std::optional<double> interval;
  std::optional<int64_t> max_running;
};

struct WorkSpecMeta {
  int64_t status = 0;
  bool continuous = false;
  double interval = 0;
  int64_t max_running = 0;
  double weight = 0;
  Value raw;  // the reply map as sent
};

// One item of add_work_units: (key, data[, meta]) with meta {priority, delay}.
struct WorkUnitItem {
  WorkUnitItem(Value k, Value d = Value::Map()) : key(std::move(k)), data(std::move(d)) {}
  Value key;
  Value data;
  std::optional<double> priority;
  std::optional<double> delay;  // seconds before the unit may be handed out
};

struct GetWorkUnitsOptions {
  std::vector<Value> work_unit_keys;  // empty: any
  std::vector<int> states;            // empty: any
  std::optional<Value> start;         // inclusive key
  std::optional<int64_t> limit;       // daemon default 1000, at most 10000
};

struct UnitStatus {
  int status = 0;
  std::optional<double> expiration;
  std::optional<Value> worker_id;
  std::optional<Value> traceback;
  std::vector<std::pair<Value, Value>> depends_on;  // (spec, key) still waited for
};

struct PrioritizeOptions {
  std::optional<double> priority;    // set to this
  std::optional<double> adjustment;  // or add this
};

struct DelWorkUnitsOptions {
  bool all = false;
  std::vector<Value> work_unit_keys;
  std::vector<int> states;
};

// update_work_unit options; unset fields are not sent.
struct UpdateOptions {
  std::optional<double> lease_time;
  std::optional<int> status;
  std::optional<Value> data;
  std::optional<Value> worker_id;
};

struct Attempt {
  Value worker_id;
  double start = 0;
  double expires = 0;
  std::optional<double> end;
  std::string status;  // "pending", "finished", "failed", "retried", ...
};

struct GetWorkOptions {
  int max_jobs = 1;
  double lease_time = 300;
  std::vector<Value> work_spec_names;  // empty: any spec
};

// A unit handed out by get_work.
struct Lease {
  Value spec;
  Value key;
  Value data;
};

struct WorkerStatsInfo {
  uint64_t num_workers = 0;
  uint64_t num_children = 0;
  uint64_t num_expirable = 0;
};

struct ChildUnit {
  Value work_spec_name;
  Value work_unit_key;
  Value work_unit_data;
  Value worker_id;
  double expires = 0;
};

// (spec, key, data or None) for add_dependent_work_units.
struct UnitRef {
  UnitRef(Value s, Value k, std::optional<Value> d = std::nullopt)
      : spec(std::move(s)), key(std::move(k)), data(std::move(d)) {}
  Value spec;
  Value key;
  std::optional<Value> data;
};

struct LockInfo {
  Value path;
  Value owner;
  double deadline = 0;
};

// ---- the API --------------------------------------------------------------------------------

class Api {
 public:
  explicit Api(Client& client) : c_(client) {}
  Client& client() { return c_; }

  // -- work specs --
  // set_work_spec: creates or replaces a spec (a map with `name`).
  Status SetWorkSpec(const Value& spec);
  // get_work_spec: the definition, or nullopt when there is no such spec.
  StatusOr<std::optional<Value>> GetWorkSpec(const Value& name);
  // list_work_specs: definitions sorted by name from `start`, at most `limit`, and `next`.
  StatusOr<WorkSpecList> ListWorkSpecs(const ListWorkSpecsOptions& options = {});
  // del_work_spec: kNotFound when there is no such spec.
  Status DelWorkSpec(const Value& name);
  // clear: deletes every spec; returns how many.
  StatusOr<uint64_t> Clear();
  // control_work_spec: runtime overrides (status, continuous, weight, interval, max_running).
  Status ControlWorkSpec(const Value& name, const ControlOptions& options);
  // get_work_spec_meta: the effective scheduling settings.
  StatusOr<WorkSpecMeta> GetWorkSpecMeta(const Value& name);

  // -- work units --
  // add_work_units: adds or replaces units (all or nothing).
  Status AddWorkUnits(const Value& spec, const std::vector<WorkUnitItem>& units);
  // get_work_units: (key, data) pairs in key order.
  StatusOr<std::vector<std::pair<Value, Value>>> GetWorkUnits(
      const Value& spec, const GetWorkUnitsOptions& options = {});
  // get_work_unit_status: one entry per key, nullopt for a missing unit.
  StatusOr<std::vector<std::optional<UnitStatus>>> GetWorkUnitStatus(
      const Value& spec, const std::vector<Value>& keys);
  // count_work_units: status -> count (archived units included).
  StatusOr<std::map<int, uint64_t>> CountWorkUnits(const Value& spec);
  // prioritize_work_units: sets or adjusts the priority of the given keys (empty keys:
  // kFailedPrecondition "missing work_unit_keys").
  Status PrioritizeWorkUnits(const Value& spec, const std::vector<Value>& keys,
                             const PrioritizeOptions& options);
  // del_work_units: deletes units (all, by key and/or by state); returns how many.
  StatusOr<uint64_t> DelWorkUnits(const Value& spec, const DelWorkUnitsOptions& options);
  // update_work_unit: lease renewal, status change (finish/fail/retry), data replacement.
  Status UpdateWorkUnit(const Value& spec, const Value& key, const UpdateOptions& options);
  // archive: archives finished/failed units of the named specs (all specs when empty).
  Status Archive(const std::vector<Value>& work_spec_names = {});
  // get_work_unit_attempts: the unit's attempts, oldest first.
  StatusOr<std::vector<Attempt>> GetWorkUnitAttempts(const Value& spec, const Value& key);

  // -- work --
  // get_work: leases up to max_jobs units (all from one spec); empty when there is no work.
  StatusOr<std::vector<Lease>> GetWork(const Value& worker_id, const GetWorkOptions& options = {});

  // -- workers and mode --
  // worker_heartbeat: registers/refreshes a worker; returns the daemon's note (empty if none),
  // e.g. when expire_seconds was replaced.
  StatusOr<std::string> WorkerHeartbeat(const Value& worker_id, std::string_view mode,
                                        double expire_seconds, const Value& data = Value::Map(),
                                        const Value& parent = Value::Null());
  // worker_unregister: kNotFound for an unknown worker.
  Status WorkerUnregister(const Value& worker_id);
  // list_worker_modes: (worker_id, mode) of live workers.
  StatusOr<std::vector<std::pair<Value, Value>>> ListWorkerModes();
  // get_worker_info: the worker's heartbeat data, nullopt when unknown or expired.
  StatusOr<std::optional<Value>> GetWorkerInfo(const Value& worker_id);
  // mode_counts: (mode, number of live workers).
  StatusOr<std::vector<std::pair<Value, uint64_t>>> ModeCounts();
  // worker_stats: worker totals.
  StatusOr<WorkerStatsInfo> WorkerStats();
  // get_child_work_units: child worker id -> its current units.
  StatusOr<std::vector<std::pair<Value, std::vector<ChildUnit>>>> GetChildWorkUnits(
      const Value& worker_id);
  // set_mode: RUN, IDLE or TERMINATE (durable).
  Status SetMode(std::string_view mode);
  // get_mode: the global mode ("RUN" until set).
  StatusOr<std::string> GetMode();

  // -- dependencies --
  // add_dependent_work_units: `later` waits for `earlier` (hard: fails when it fails).
  Status AddDependentWorkUnits(const UnitRef& later, const UnitRef& earlier, bool hard = true);

  // -- locks (paths are arrays of labels; timeouts in whole seconds, 0 = 60) --
  // lock: all paths or none; kFailedPrecondition when one is not lockable.
  Status Lock(const Value& locker_id, int64_t timeout, const std::vector<Value>& paths);
  // locksome: per path, the path when locked or nullopt.
  StatusOr<std::vector<std::optional<Value>>> LockSome(const Value& locker_id, int64_t timeout,
                                                       const std::vector<Value>& paths);
  // renew: extends held locks; kFailedPrecondition when one is held by someone else.
  Status Renew(const Value& locker_id, int64_t timeout, const std::vector<Value>& paths);
  // readlock: per path, its owner or nullopt.
  StatusOr<std::vector<std::optional<Value>>> ReadLock(const std::vector<Value>& paths);
  // unlock: releases held locks; kFailedPrecondition when one is not held.
  Status Unlock(const Value& locker_id, const std::vector<Value>& paths);
  // delete_namespace: drops every lock under a first label.
  Status DeleteNamespace(const Value& ns);
  // list_locks: live locks with owner and deadline.
  StatusOr<std::vector<LockInfo>> ListLocks();

  // -- miscellaneous --
  // now: the daemon's Unix time.
  StatusOr<double> Now();
  // get_config: the configuration tree (secrets removed).
  StatusOr<Value> GetConfig();
  // check: invariant problems found by a full scan (empty when sound).
  StatusOr<std::vector<std::string>> Check();
  // backup: a RocksDB checkpoint into `directory` (which must not exist).
  Status Backup(const std::string& directory);

  // ---- raw-result parsers (for results of Client::Pipeline / Client::Batch) ----
  // (ok-flag, msg) replies -> Status, as described above.
  static Status ParseOk(const StatusOr<Value>& raw);
  // (value, msg) replies -> value, or the in-band failure.
  static StatusOr<Value> ParseFirst(const StatusOr<Value>& raw);
  // get_work replies -> leases.
  static StatusOr<std::vector<Lease>> ParseLeases(const StatusOr<Value>& raw, int max_jobs);

 private:
  Client& c_;
};

// The Status an in-band failure message maps to (kNotFound for "no such ..." / "no worker").
Status InBandStatus(const Value& message);

}  // namespace coordinate
