// Coordinator::Txn: the write set of one coordinator operation (internal to the scheduler).
//
// Collects every change into one WriteBatch, remembers unit records written so far so that later
// reads in the same operation see them (Read), and on Commit writes the touched specs' counters
// into the same batch and applies it atomically. If the write fails, the coordinator reloads its
// in-memory summaries from the store, so memory never disagrees with what is stored.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "scheduler/coordinator.h"
#include "storage/store.h"

namespace coordinated::scheduler {

class Coordinator::Txn {
 public:
  explicit Txn(Coordinator* c) : c_(c) {}
  storage::WriteBatch& batch() { return batch_; }
  void Touch(SpecState& spec) { touched_.insert(&spec); }
  StatusOr<std::optional<storage::UnitRecord>> Read(const SpecState& spec, std::string_view key);
  void Remember(const SpecState& spec, std::string_view key, const storage::UnitRecord* now);
  Status Commit();

 private:
  Coordinator* c_;
  storage::WriteBatch batch_;
  std::set<SpecState*> touched_;
  std::map<std::pair<storage::SpecId, std::string>, std::optional<storage::UnitRecord>> overlay_;
};

}  // namespace coordinated::scheduler
