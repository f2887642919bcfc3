// Coordinator: every coordination operation (work specs, work units, leases, workers, mode) as
// one transaction over the Store.
//
// Model. A work spec has a definition, derived settings and per-status counts; a work unit has a
// key (arbitrary bytes), data, a status (AVAILABLE 1, BLOCKED 2, PENDING 3, FINISHED 4,
// FAILED 5), a priority, and while PENDING a worker and a lease deadline. Semantics follow the
// original Python daemon (docs/protocol.md lists every method and reply).
//
// Transactions. Each public method reads what it needs, decides, and applies all of its changes
// as one atomic WriteBatch (records, every index entry and the spec counters together). The
// batch is applied unsynced; the sequencer syncs the write-ahead log before any reply leaves.
//
// Invariants (checked by CheckConsistency and `coordinate-admin check`):
//  * each unit has exactly the index entries its record implies (unit_index.h), and every
//    index entry belongs to a unit whose record implies it:
//  * AVAILABLE with not_before == 0  <=> a ready entry; AVAILABLE with not_before > 0 <=> a
//    delayed entry and a by_status entry; PENDING <=> a lease entry at its expiration;
//    FINISHED/FAILED <=> a completed entry at its expiration (completion time) and a by_status
//    entry; BLOCKED <=> a by_status entry; AVAILABLE <=> a waiting entry;
//  * a spec's stored counts equal the number of its units per status;
//  * a unit's `blockers` equals its deps_forward edges, each mirrored in deps_reverse, and an
//    AVAILABLE-or-BLOCKED unit is BLOCKED exactly when blockers > 0 (coordinator_deps.cc).
// In memory only small per-spec summaries live: settings, counts, the earliest lease deadline
// and not-before, the best ready priority (a cache), scheduling credit, and once PENDING units
// have been listed, their order (as many entries as there are leases).
//
// Thread-safety: not thread-safe. Owned by the sequencer thread; every call happens there.
#pragma once

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/value.h"
#include "scheduler/spec_settings.h"
#include "storage/keys.h"
#include "storage/records.h"
#include "storage/store.h"

namespace coordinated::scheduler {

struct CoordinatorOptions {
  uint64_t max_name_bytes = 1024;
  uint64_t max_key_bytes = 16384;
  std::optional<int64_t> limit_completed_count;  // archive
  std::optional<double> limit_completed_age;     // archive
  double archive_period_seconds = 60;
};

// Per-spec state held in memory.
struct SpecState {
  storage::SpecId id = 0;
  std::string name_bytes;  // identity (bytes of the name, whatever its CBOR type)
  storage::SpecRecord record;
  SpecSettings settings;
  storage::SpecStats stats;
  std::optional<double> next_deadline;  // earliest lease deadline, if any may exist
  std::optional<double> next_due;       // earliest not-before of a delayed unit
  bool best_valid = false;              // cache of the highest ready priority
  std::optional<double> best_priority;  // nullopt: no ready unit
  // A ready-index key no ready entry of this spec sorts below (empty: the spec's first key).
  // Seeks start here, so the deletion tombstones left at the head of the queue by units
  // already handed out are never scanned again.
  std::string ready_floor;
  double credit = 0;        // recent grants minus fair share (scheduling)
  uint64_t last_grant = 0;  // grant sequence number of the last grant
  // The spec's PENDING units in get_work_units order, each as its listing position (8-byte
  // inverted priority, then the key). Absent until a listing of PENDING units needs it (built
  // with one pass over the spec's leases); from then on PutUnit keeps it equal to the stored
  // PENDING records, so later listings cost a page rather than a pass over every lease. Load
  // starts every spec without it. (Mutable: a cache that listings, which are const, fill in.)
  mutable std::optional<std::set<std::string, std::less<>>> pending_order;
};

// Totals since start-up, for metrics (read on the sequencer thread).
struct CoordinatorCounters {
  uint64_t created = 0;   // units created (add, chaining, dependencies, continuous)
  uint64_t finished = 0;  // transitions into FINISHED
  uint64_t failed = 0;    // transitions into FAILED
  uint64_t retried = 0;   // FINISHED/FAILED/PENDING units sent back to AVAILABLE by a caller
  uint64_t expired = 0;   // leases that lapsed
  uint64_t granted = 0;   // units handed out by get_work
};

// One unit handed out by get_work.
struct Grant {
  Value spec_name;
  Value key;
  Value data;
};

struct ListSpecsResult {
  std::vector<Value> definitions;
  Value next;  // name of the first spec not returned, or null
};

class Coordinator {
 public:
  Coordinator(storage::Store* store, Clock* clock, CoordinatorOptions options);
  ~Coordinator();

  // Loads spec summaries from the store (never scans units).
  Status Load();

  // ---- work specs ------------------------------------------------------------------------
  Status SetWorkSpec(const Value& definition);
  const Value* GetWorkSpec(const Value& name) const;  // nullptr when unknown
  ListSpecsResult ListWorkSpecs(const Value& start, std::optional<int64_t> limit) const;
  Status DelWorkSpec(const Value& name);  // kNotFound
  StatusOr<size_t> Clear();
  // kNotFound; kFailedPrecondition for "cannot make ... continuous"; kInvalidArgument.
  Status ControlWorkSpec(const Value& name, const Value& options);
  StatusOr<Value> GetWorkSpecMeta(const Value& name);  // kNotFound

  // ---- work units ------------------------------------------------------------------------
  // items: list of (key, data[, meta[, priority]]). kNotFound for an unknown spec.
  Status AddWorkUnits(const Value& name, Value items);
  // Returns [(key, data)] per the options (work_unit_keys / state / start / limit).
  StatusOr<std::vector<std::pair<Value, Value>>> GetWorkUnits(const Value& name,
                                                              const Value& options);
  // One status map (or null) per key.
  StatusOr<std::vector<Value>> GetWorkUnitStatus(const Value& name, const Value& keys);
  // {status: count} including archived units; only non-zero entries.
  StatusOr<std::map<int, uint64_t>> CountWorkUnits(const Value& name);
  Status PrioritizeWorkUnits(const Value& name, const Value& options);
  StatusOr<uint64_t> DelWorkUnits(const Value& name, const Value& options);
  Status Archive(const Value& options);
  StatusOr<std::vector<Value>> GetWorkUnitAttempts(const Value& name, const Value& key);

  // ---- work ------------------------------------------------------------------------------
  struct GetWorkOptions {
    int64_t max_jobs = 1;
    double lease_time = 300;
    std::optional<std::vector<std::string>> work_spec_names;
  };
  StatusOr<std::vector<Grant>> GetWork(const Value& worker_id, const GetWorkOptions& options);
  // Returns (ok, message) as the original: ok=false with a message for in-band failures.
  StatusOr<std::pair<bool, std::string>> UpdateWorkUnit(const Value& name, const Value& key,
                                                        const Value& options);
  // Several update_work_unit calls, in order, with one result each, equal to calling
  // UpdateWorkUnit for each at the same instant. They share transactions (one write and one
  // counter update per spec for the lot): a call starts a new transaction when it names a unit
  // the current one already changed, when its spec has a lease or delay due (reaped first, as
  // a call alone would be), or when dependency edges exist (their releases must see every
  // earlier change). When a transaction's write fails, every call in it gets that error;
  // a call that failed validation changed nothing and never joins one.
  struct UnitUpdate {
    const Value* name;
    const Value* key;
    const Value* options;
  };
  std::vector<StatusOr<std::pair<bool, std::string>>> UpdateWorkUnits(
      const std::vector<UnitUpdate>& updates);

  // ---- workers and mode ------------------------------------------------------------------
  StatusOr<std::optional<std::string>> WorkerHeartbeat(const Value& worker_id, const Value& mode,
                                                       const Value& expire_seconds,
                                                       const Value& data, const Value& parent);
  StatusOr<bool> WorkerUnregister(const Value& worker_id);
  StatusOr<Value> ListWorkerModes();
  StatusOr<Value> GetWorkerInfo(const Value& worker_id);
  StatusOr<Value> ModeCounts();
  StatusOr<Value> WorkerStats();
  StatusOr<Value> GetChildWorkUnits(const Value& worker_id);
  Status SetMode(const std::string& mode);
  std::string GetMode() const { return mode_; }

  // ---- unit dependencies -----------------------------------------------------------------
  // `later` waits for `earlier` (each (spec, key, data or None); missing units are created).
  // (false, message) when refused: unknown spec, a cycle. See coordinator_deps.cc.
  StatusOr<std::pair<bool, std::string>> AddDependentWorkUnits(const Value& later,
                                                               const Value& earlier,
                                                               const Value& hard);
  // (spec name, key) of the unfinished prerequisites of a unit.
  StatusOr<std::vector<std::pair<Value, Value>>> PendingPrerequisites(const SpecState& spec,
                                                                      std::string_view key);

  // ---- locks (a durable hierarchical lock tree) -------------------------------------------
  // A path is a non-empty list of labels; a held path blocks its ancestors and descendants.
  // Timeouts are whole seconds: <= 0 -> 60, above 1,000,000 -> 1,000,000. Expired locks count as
  // released. kInvalidArgument for malformed paths.
  StatusOr<std::pair<bool, std::string>> Lock(const Value& locker, const Value& timeout,
                                              const Value& paths);
  StatusOr<Value> LockSome(const Value& locker, const Value& timeout, const Value& paths);
  StatusOr<std::pair<bool, std::string>> Renew(const Value& locker, const Value& timeout,
                                               const Value& paths);
  StatusOr<std::vector<Value>> ReadLock(const Value& paths);
  StatusOr<std::pair<bool, std::string>> Unlock(const Value& locker, const Value& paths);
  StatusOr<uint64_t> DeleteNamespace(const Value& prefix);
  // Every lock as (path, owner, deadline), for tools.
  StatusOr<std::vector<storage::LockRecord>> ListLocks();

  // ---- periodic and maintenance ------------------------------------------------------------
  // Expires due leases, releases due delayed units, prunes expired workers, archives on its
  // period. Returns seconds until it wants to run again.
  double Tick();
  // How long the spec's longest-waiting AVAILABLE unit has waited: now minus the earliest
  // max(available_since, not_before) among its AVAILABLE units (one seek in kWaiting); 0 when
  // it has none or all are delayed into the future.
  StatusOr<double> OldestAvailableAge(const SpecState& spec) const;
  // The units of `spec` in `status`, in the order get_work_units lists them: priority
  // descending, then key ascending. Calls `visit(position, key)` for each unit at or after
  // `from` until it returns false; a unit's `position` (8-byte inverted priority, then its key)
  // is its place in that order and may be passed as a later `from` ("" starts at the first).
  // Reads from the store's indexes (unit_index.h): by_status, merged with ready for AVAILABLE;
  // for PENDING the spec's in-memory order (SpecState::pending_order; the first such listing
  // builds it from the lease holders' records). `visit` must not add, remove or reload specs.
  using StatusVisitor = std::function<bool(std::string_view position, std::string_view key)>;
  Status VisitByStatus(const SpecState& spec, int status, std::string_view from,
                       const StatusVisitor& visit) const;
  // Verifies every invariant above with a full scan; one line per problem (empty when sound).
  std::vector<std::string> CheckConsistency() const;
  // A consistent copy of the store in `dir` (which must not exist), openable as a data dir.
  Status Backup(const std::string& dir) { return store_->Checkpoint(dir); }
  storage::Store* store() const { return store_; }

  const std::map<std::string, std::unique_ptr<SpecState>>& specs() const { return specs_; }
  Clock* clock() const { return clock_; }
  const CoordinatorCounters& counters() const { return counters_; }

 private:
  class Txn;
  friend class Txn;

  SpecState* Find(const Value& name) const;
  // Builds spec.pending_order from the spec's leases unless it is already there.
  Status EnsurePendingOrder(const SpecState& spec) const;
  Status ValidateName(const Value& name, std::string_view what, uint64_t max) const;
  // The stored unit; `data` as storage::DecodeUnit (kMayKeep only for callers that pass the
  // data on without looking into it).
  StatusOr<std::optional<storage::UnitRecord>> ReadUnit(
      const SpecState& spec, std::string_view key,
      storage::UnitData data = storage::UnitData::kDecoded) const;
  // Writes `now` (or deletes when null) with every index entry and counter change implied by
  // going from `before` to `now`. Normalizes `now` in place first: AVAILABLE with blockers is
  // BLOCKED and BLOCKED without is AVAILABLE; not_before only stays on an AVAILABLE unit; a unit
  // that becomes AVAILABLE gets available_since = the clock's now (one that stays AVAILABLE
  // keeps its time). With `consume_now` the caller gives `*now` up: it is moved into the
  // transaction's record of what it wrote instead of copied, and must not be read afterwards.
  void PutUnit(Txn& txn, SpecState& spec, std::string_view key, const storage::UnitRecord* before,
               storage::UnitRecord* now, bool consume_now = false);
  void DeleteUnitFully(Txn& txn, SpecState& spec, std::string_view key,
                       const storage::UnitRecord& before);
  Status AddUnitsTo(Txn& txn, SpecState& spec, std::vector<struct NewUnit>& units, double now);
  void Reap(Txn& txn, SpecState& spec, double now);  // expire leases, release delayed
  // Reap for every spec, skipped while no spec has a lease deadline or not-before time due
  // (`timer_floor_`), so a get_work does not visit every spec when nothing is due.
  void ReapAll(Txn& txn, double now);
  // Keeps timer_floor_ a lower bound of every spec's next_deadline and next_due.
  void NoteTimer(double t) { timer_floor_ = std::min(timer_floor_, t); }
  std::optional<double> BestReady(SpecState& spec) {
    // Inline: get_work asks this of every spec, and almost always the summary is valid.
    return spec.best_valid ? spec.best_priority : FindBestReady(spec);
  }
  std::optional<double> FindBestReady(SpecState& spec);  // reads the ready index
  // Ready-queue iterators BestReady positioned while get_work chose a spec (collected only
  // while `collect_probes_` is set). GetWork continues from the chosen spec's instead of
  // seeking again: nothing is written between the choice and the claim, so the iterator's
  // view and position are exactly what a new seek would give. Cleared before GetWork returns,
  // so no iterator outlives the call (an open iterator pins memtables).
  struct ReadyProbe {
    SpecState* spec;
    std::unique_ptr<storage::Iterator> it;
  };
  std::vector<ReadyProbe> probes_;
  bool collect_probes_ = false;
  SpecState* ChooseSpec(const GetWorkOptions& options, double now);
  // True when `spec` can hand out work now; `*ready` is then its best available unit's priority
  // (nullopt when only a continuous run is due).
  bool HasWork(SpecState& spec, double now, std::optional<double>* ready);
  // specs_ in name order as a flat list, for the pass get_work makes over every spec (cheaper
  // to walk than the map). Rebuilt on first use after specs_ changed (MarkSpecsChanged).
  const std::vector<SpecState*>& SpecOrder();
  void MarkSpecsChanged() { spec_order_stale_ = true; }
  void Chain(Txn& txn, SpecState& spec, const storage::UnitRecord& unit, double now);
  struct UpdatePlan;  // a validated update_work_unit call (coordinator_work.cc)
  // Validates one call. Fills `plan`, or returns the call's result: an error or an in-band
  // (false, message).
  std::optional<StatusOr<std::pair<bool, std::string>>> PlanUpdate(const UnitUpdate& u,
                                                                   UpdatePlan* plan);
  // Applies a validated call inside `txn` (after its spec was reaped).
  StatusOr<std::pair<bool, std::string>> ApplyUpdate(Txn& txn, const UpdatePlan& plan, double now);
  // Stores the attempt a PENDING `unit` is in as ended now with `outcome` (no-op for a unit
  // not PENDING). A lease's attempt is stored only when it ends (storage/attempts.h).
  void EndAttempt(Txn& txn, const SpecState& spec, std::string_view key,
                  const storage::UnitRecord& unit, const char* outcome, double now);
  Status ArchiveSpec(Txn& txn, SpecState& spec, double now);
  // Deletes every row of the spec; `detach_edges` first releases units of other specs that
  // wait for it.
  Status RemoveSpec(Txn& txn, SpecState& spec, bool detach_edges);
  Status PruneWorkers(double now);
  Status ApplyDependencyEvent(Txn& txn, SpecState& spec, const std::string& key, int event);
  // Releases edges that cross into or out of `spec` before its units are removed wholesale.
  Status DetachSpecEdges(Txn& txn, SpecState& spec);
  Status PruneLocks(double now);
  StatusOr<std::optional<storage::WorkerRecord>> ReadWorker(std::string_view id) const;

  storage::Store* store_;
  Clock* clock_;
  CoordinatorOptions options_;
  std::map<std::string, std::unique_ptr<SpecState>> specs_;  // by name bytes
  std::map<storage::SpecId, SpecState*> by_id_;
  std::vector<SpecState*> spec_order_;  // see SpecOrder
  bool spec_order_stale_ = true;
  storage::SpecId next_spec_id_ = 1;
  uint64_t grant_seq_ = 0;
  // No spec has a lease deadline or not-before time earlier than this (-inf: unknown).
  double timer_floor_ = -INFINITY;
  std::string mode_ = "RUN";
  double next_archive_ = 0;
  double next_worker_prune_ = 0;
  CoordinatorCounters counters_;
  bool has_dependencies_ = false;  // any dependency edge was ever stored (skips edge lookups)
};

// A unit to create or reset, parsed from add_work_units items or chaining output.
struct NewUnit {
  Value key;
  Value data;
  std::optional<double> priority;  // for a new unit; default 0
  double delay = 0;                // seconds before it may be handed out
};

// Python 2 repr() of a name or key, as the original's messages showed them ('x' or u'x').
std::string PyRepr(const Value& v);

}  // namespace coordinated::scheduler
