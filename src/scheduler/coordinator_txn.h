// Coordinator::Txn: the write set of one coordinator operation (internal to the scheduler).
//
// Collects every change into one WriteBatch, remembers unit records written so far so that later
// reads in the same operation see them (Read), and on Commit writes the touched specs' counters
// into the same batch and applies it atomically. If the write fails, or the transaction is dropped
// with changes it never committed, the coordinator reloads its in-memory summaries from the
// store, so memory never disagrees with what is stored.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "scheduler/coordinator.h"
#include "storage/records.h"
#include "storage/store.h"

namespace coordinated::scheduler {

class Coordinator::Txn {
 public:
  explicit Txn(Coordinator* c) : c_(c), counters_at_start_(c->counters_) {}
  // A transaction dropped with changes it never committed (an operation that failed half-way)
  // has already changed in-memory summaries to match them: they are reloaded from the store.
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  storage::WriteBatch& batch() { return batch_; }
  void Touch(SpecState& spec) { touched_.insert(&spec); }
  // For a spec being removed by this transaction: its counters must not be written back.
  void Forget(SpecState& spec) { touched_.erase(&spec); }
  // The unit as this transaction left it, else as stored. Its data is decoded, unless the
  // caller allows kMayKeep (it only passes the data on): then it may be a Value::Encoded, as
  // units being added carry until they are written and claims read them from the store.
  StatusOr<std::optional<storage::UnitRecord>> Read(
      const SpecState& spec, std::string_view key,
      storage::UnitData data = storage::UnitData::kDecoded);
  // As Read, into `*out`, for a unit whose stored bytes were fetched beforehand with others
  // at once (Store::MultiGet; `fetched` points at them, nullopt when absent): decoded from
  // those, unless this transaction has written the unit since. A null `fetched` is a plain
  // Read. (Inline, with an out parameter: the record is moved once, as when read in place.)
  Status ReadFetched(const SpecState& spec, std::string_view key,
                     const std::optional<std::string>* fetched, storage::UnitData data,
                     std::optional<storage::UnitRecord>* out) {
    if (!fetched || Changed(spec, key)) {
      COORD_ASSIGN_OR_RETURN(*out, Read(spec, key, data));
    } else if (*fetched) {
      COORD_ASSIGN_OR_RETURN(*out, storage::DecodeUnit(**fetched, data));
    } else {
      out->reset();
    }
    return Status::Ok();
  }
  void Remember(const SpecState& spec, std::string_view key, const storage::UnitRecord* now);
  void Remember(const SpecState& spec, std::string_view key, storage::UnitRecord&& now);
  // True when this transaction has written the unit (since its last Commit).
  bool Changed(const SpecState& spec, std::string_view key) const {
    return overlay_.count({spec.id, std::string(key)}) > 0;
  }
  Status Commit();

  // A unit whose dependents must be looked at before the write is applied: it entered
  // FINISHED or FAILED, or it was deleted.
  enum class DepEvent { kFinished, kFailed, kDeleted };
  void Queue(SpecState& spec, std::string_view key, DepEvent e) {
    dep_events_.push_back({&spec, std::string(key), e});
  }

 private:
  Coordinator* c_;
  // The since-start-up counters as they were before this transaction: restored when its write
  // fails (the reload from the store restores everything else).
  CoordinatorCounters counters_at_start_;
  storage::WriteBatch batch_;
  std::set<SpecState*> touched_;
  // Unit records written so far (nullopt: deleted), by spec and unit key. Only looked up,
  // never walked in order.
  struct UnitRef {
    storage::SpecId spec;
    std::string key;
    bool operator==(const UnitRef& o) const { return spec == o.spec && key == o.key; }
  };
  struct UnitRefHash {
    size_t operator()(const UnitRef& r) const {
      return std::hash<std::string>()(r.key) ^
             (static_cast<size_t>(r.spec) * 0x9e3779b97f4a7c15ull);
    }
  };
  std::unordered_map<UnitRef, std::optional<storage::UnitRecord>, UnitRefHash> overlay_;
  struct Event {
    SpecState* spec;
    std::string key;
    DepEvent event;
  };
  std::vector<Event> dep_events_;

  // Drops every uncommitted change and reloads the coordinator's in-memory state (and its
  // since-start-up counters) from the store.
  void Discard();
};

}  // namespace coordinated::scheduler
