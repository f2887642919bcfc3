// Coordinator: dependencies between work units.
//
// An edge "D waits for P" is stored twice, in the same batch: deps_forward (D, P) and
// deps_reverse (P, D), the value one byte: 1 hard, 0 soft. Only unfinished prerequisites have
// edges; D's record counts them (`blockers`) and D is BLOCKED while the count is above zero
// (PutUnit normalizes AVAILABLE <-> BLOCKED). When P finishes, fails or is deleted, only P's
// reverse edges are read:
//   * P FINISHED: each edge is removed and D's count drops (D becomes AVAILABLE at zero);
//   * P FAILED: hard edges fail D (data traceback names P), which cascades in turn; soft edges
//     release D as if P had finished;
//   * P deleted: as finished (its dependents are released).
// All of it happens inside the write of the change that triggered it (Txn::Commit drains the
// queued events before writing). Edges are never re-created: retrying a failed prerequisite
// does not bring back dependents that already failed, and a finished prerequisite that runs
// again does not block its dependents again.
#include <fmt/format.h>

#include <set>

#include "common/crash_point.h"
#include "scheduler/coordinator.h"
#include "scheduler/coordinator_txn.h"
#include "storage/keys.h"

namespace coordinated::scheduler {

using storage::Cf;
using storage::UnitRecord;
namespace keys = storage::keys;

namespace {
struct UnitArg {
  SpecState* spec = nullptr;
  Value spec_name;
  Value key;
  Value data;  // null: keep (or {} when created)
};

Value KeyOf(const UnitRecord& u, std::string_view key) {
  return u.key_is_text ? Value::Text(key) : Value::Bytes(key);
}
}  // namespace

StatusOr<std::pair<bool, std::string>> Coordinator::AddDependentWorkUnits(const Value& later,
                                                                          const Value& earlier,
                                                                          const Value& hard) {
  UnitArg args[2];
  const Value* given[2] = {&later, &earlier};
  for (int i = 0; i < 2; ++i) {
    const Value& v = *given[i];
    if (!v.is_sequence() || v.items().size() < 2 || v.items().size() > 3) {
      return Status::InvalidArgument("a unit must be given as (work_spec_name, key, data)");
    }
    args[i].spec_name = v.items()[0];
    args[i].key = v.items()[1];
    args[i].data = v.items().size() == 3 ? v.items()[2] : Value::Null();
    if (!args[i].key.is_string())
      return Status::InvalidArgument("a work unit key must be a string");
    if (args[i].key.str().size() > options_.max_key_bytes) {
      return Status::InvalidArgument(fmt::format("a work unit key of {} bytes exceeds {}",
                                                 args[i].key.str().size(), options_.max_key_bytes));
    }
    args[i].spec = Find(args[i].spec_name);
    if (!args[i].spec) {
      return std::make_pair(false, "no such work_spec " + PyRepr(args[i].spec_name));
    }
  }
  UnitArg& d = args[0];
  UnitArg& p = args[1];
  const bool is_hard = hard.Truthy();
  if (d.spec == p.spec && d.key.str() == p.key.str()) {
    return std::make_pair(false, std::string("a work unit cannot depend on itself"));
  }
  // A cycle would close if `earlier` already (transitively) waits for `later`.
  {
    const std::string target = keys::UnitRef(d.spec->id, d.key.str());
    std::vector<std::string> stack{keys::UnitRef(p.spec->id, p.key.str())};
    std::set<std::string> seen;
    while (!stack.empty()) {
      std::string ref = std::move(stack.back());
      stack.pop_back();
      if (!seen.insert(ref).second) continue;
      auto it = store_->NewIterator(Cf::kDepsForward, ref, keys::PrefixEnd(ref));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        std::string next(it->key().substr(ref.size()));
        if (next == target) {
          return std::make_pair(false, fmt::format("dependency refused: {} {} already depends on "
                                                   "{} {} (a cycle)",
                                                   PyRepr(p.spec_name), PyRepr(p.key),
                                                   PyRepr(d.spec_name), PyRepr(d.key)));
        }
        stack.push_back(std::move(next));
      }
    }
  }
  const double now = clock_->Now();
  Txn txn(this);
  has_dependencies_ = true;
  // Create or update both units.
  std::optional<UnitRecord> recs[2];
  for (int i : {1, 0}) {
    UnitArg& u = args[i];
    COORD_ASSIGN_OR_RETURN(auto existing, txn.Read(*u.spec, u.key.str()));
    if (existing && u.data.is_null()) {
      recs[i] = existing;
      continue;
    }
    UnitRecord after = existing ? *existing : UnitRecord{};
    if (!existing) {
      after.key_is_text = u.key.is_text();
      after.status = storage::kAvailable;
    }
    after.data = u.data.is_null() ? Value::Map() : u.data;
    PutUnit(txn, *u.spec, u.key.str(), existing ? &*existing : nullptr, &after);
    recs[i] = after;
  }
  const UnitRecord& pre = *recs[1];
  UnitRecord dep = *recs[0];
  const std::string fwd = keys::DepEdge(d.spec->id, d.key.str(), p.spec->id, p.key.str());
  std::string existing_edge;
  const bool had_edge = store_->Get(Cf::kDepsForward, fwd, &existing_edge).ok();
  if (pre.status == storage::kFinished) {
    // Nothing to wait for.
  } else if (pre.status == storage::kFailed) {
    if (is_hard && dep.status != storage::kFinished && dep.status != storage::kFailed) {
      UnitRecord failed = dep;
      failed.status = storage::kFailed;
      failed.expiration = now;
      if (!failed.data.is_map()) failed.data = Value::Map();
      failed.data.Set(Value::Bytes("traceback"),
                      Value::Bytes(fmt::format("prerequisite {} {} failed", PyRepr(p.spec_name),
                                               PyRepr(p.key))));
      EndAttempt(txn, *d.spec, d.key.str(), dep, "failed", now);  // when it was PENDING
      PutUnit(txn, *d.spec, d.key.str(), &dep, &failed);
    }
  } else {
    const char flag = is_hard ? '\x01' : '\x00';
    txn.batch().Put(Cf::kDepsForward, fwd, std::string(1, flag));
    txn.batch().Put(Cf::kDepsReverse,
                    keys::DepEdge(p.spec->id, p.key.str(), d.spec->id, d.key.str()),
                    std::string(1, flag));
    if (!had_edge) {
      UnitRecord blocked = dep;
      ++blocked.blockers;
      PutUnit(txn, *d.spec, d.key.str(), &dep, &blocked);
    }
  }
  COORD_RETURN_IF_ERROR(txn.Commit());
  return std::make_pair(true, std::string());
}

Status Coordinator::ApplyDependencyEvent(Txn& txn, SpecState& spec, const std::string& key,
                                         int event) {
  const auto kind = static_cast<Txn::DepEvent>(event);
  const std::string ref = keys::UnitRef(spec.id, key);
  const double now = clock_->Now();
  // Dependents of this unit.
  std::vector<std::pair<std::string, bool>> dependents;  // (dependent ref, hard)
  {
    auto it = store_->NewIterator(Cf::kDepsReverse, ref, keys::PrefixEnd(ref));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      dependents.emplace_back(std::string(it->key().substr(ref.size())),
                              !it->value().empty() && it->value()[0] == '\x01');
    }
    COORD_RETURN_IF_ERROR(it->status());
  }
  for (const auto& [dref, is_hard] : dependents) {
    storage::SpecId dspec_id = 0;
    std::string_view dkey_view;
    if (!storage::DecodeUnitRef(dref, &dspec_id, &dkey_view)) continue;
    const std::string dkey(dkey_view);
    txn.batch().Delete(Cf::kDepsReverse, ref + dref);
    txn.batch().Delete(Cf::kDepsForward, dref + ref);
    auto sit = by_id_.find(dspec_id);
    if (sit == by_id_.end()) continue;
    SpecState& dspec = *sit->second;
    COORD_ASSIGN_OR_RETURN(auto rec, txn.Read(dspec, dkey));
    if (!rec) continue;
    UnitRecord after = *rec;
    if (after.blockers > 0) --after.blockers;
    if (kind == Txn::DepEvent::kFailed && is_hard && after.status != storage::kFinished &&
        after.status != storage::kFailed) {
      after.status = storage::kFailed;
      after.expiration = now;
      if (!after.data.is_map()) after.data = Value::Map();
      after.data.Set(Value::Bytes("traceback"),
                     Value::Bytes(fmt::format("prerequisite {} {} failed", PyRepr(spec.record.name),
                                              PyRepr(Value::Bytes(key)))));
      EndAttempt(txn, dspec, dkey, *rec, "failed", now);  // when it was PENDING
    }
    PutUnit(txn, dspec, dkey, &*rec, &after);
    COORD_CRASH_POINT("coordinator.dependency_release");
  }
  if (kind == Txn::DepEvent::kDeleted) {
    // The deleted unit's own prerequisites forget it.
    auto it = store_->NewIterator(Cf::kDepsForward, ref, keys::PrefixEnd(ref));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string pref(it->key().substr(ref.size()));
      txn.batch().Delete(Cf::kDepsForward, std::string(it->key()));
      txn.batch().Delete(Cf::kDepsReverse, pref + ref);
    }
    COORD_RETURN_IF_ERROR(it->status());
  }
  return Status::Ok();
}

Status Coordinator::DetachSpecEdges(Txn& txn, SpecState& spec) {
  if (!has_dependencies_) return Status::Ok();
  const std::string prefix = keys::Spec(spec.id);
  // Units elsewhere waiting for units of this spec are released.
  std::vector<std::string> prereqs;
  {
    auto it = store_->NewIterator(Cf::kDepsReverse, prefix, keys::PrefixEnd(prefix));
    std::string last;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      storage::SpecId sid;
      std::string_view k;
      const size_t n = storage::DecodeUnitRef(it->key(), &sid, &k);
      if (n == 0) continue;
      std::string ref(it->key().substr(0, n));
      if (ref != last) prereqs.push_back(ref);
      last = std::move(ref);
    }
    COORD_RETURN_IF_ERROR(it->status());
  }
  for (const auto& ref : prereqs) {
    storage::SpecId sid;
    std::string_view k;
    storage::DecodeUnitRef(ref, &sid, &k);
    COORD_RETURN_IF_ERROR(
        ApplyDependencyEvent(txn, spec, std::string(k), static_cast<int>(Txn::DepEvent::kDeleted)));
  }
  // Units of this spec waiting for units elsewhere: remove the other side's reverse edges.
  auto it = store_->NewIterator(Cf::kDepsForward, prefix, keys::PrefixEnd(prefix));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    storage::SpecId sid;
    std::string_view k;
    const size_t n = storage::DecodeUnitRef(it->key(), &sid, &k);
    if (n == 0) continue;
    const std::string dref(it->key().substr(0, n));
    const std::string pref(it->key().substr(n));
    txn.batch().Delete(Cf::kDepsReverse, pref + dref);
  }
  return it->status();
}

StatusOr<std::vector<std::pair<Value, Value>>> Coordinator::PendingPrerequisites(
    const SpecState& spec, std::string_view key) {
  std::vector<std::pair<Value, Value>> out;
  if (!has_dependencies_) return out;
  const std::string ref = keys::UnitRef(spec.id, key);
  auto it = store_->NewIterator(Cf::kDepsForward, ref, keys::PrefixEnd(ref));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    storage::SpecId sid;
    std::string_view k;
    if (!storage::DecodeUnitRef(it->key().substr(ref.size()), &sid, &k)) continue;
    auto sit = by_id_.find(sid);
    if (sit == by_id_.end()) continue;
    COORD_ASSIGN_OR_RETURN(auto rec, ReadUnit(*sit->second, k));
    out.emplace_back(sit->second->record.name, rec ? KeyOf(*rec, k) : Value::Bytes(k));
  }
  COORD_RETURN_IF_ERROR(it->status());
  return out;
}

}  // namespace coordinated::scheduler
