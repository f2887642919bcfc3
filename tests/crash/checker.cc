// Checker core: the index, the unit rules (create / finish / fail / delete / phantom) and the
// entry point.
#include "checker.h"

#include <algorithm>
#include <limits>

namespace crashtest {

const std::vector<std::string>& ViolationClasses() {
  static const std::vector<std::string> kClasses = {
      "lost_create",    "lost_finish",    "lost_fail",       "lost_delete",
      "phantom",        "double_lease",   "blocked_granted", "blocked_after_release",
      "released_early", "paused_granted", "lost_lock",       "lost_unlock",
      "double_lock",    "invariant",      "offline_check"};
  return kClasses;
}

void CheckResult::Add(std::string cls, std::string detail, std::vector<uint64_t> ops) {
  ++counts[cls];
  violations.push_back(Violation{std::move(cls), std::move(detail), std::move(ops)});
}

std::vector<const Op*> UnitIndex::Of(const UnitId& u, OpType type) const {
  std::vector<const Op*> out;
  auto it = touching.find(u);
  if (it == touching.end()) return out;
  for (const Op* op : it->second) {
    if (op->type == type && std::find(op->units.begin(), op->units.end(), u) != op->units.end()) {
      out.push_back(op);
    }
  }
  return out;
}

std::vector<const Op*> UnitIndex::Creators(const UnitId& u) const {
  std::vector<const Op*> out;
  auto it = touching.find(u);
  if (it == touching.end()) return out;
  for (const Op* op : it->second) {
    if (std::find(op->creates.begin(), op->creates.end(), u) != op->creates.end()) {
      out.push_back(op);
    }
  }
  return out;
}

UnitIndex BuildIndex(const std::deque<Op>& ops) {
  UnitIndex index;
  for (const Op& op : ops) {
    std::vector<UnitId> all = op.units;
    all.insert(all.end(), op.creates.begin(), op.creates.end());
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    for (const auto& u : all) index.touching[u].push_back(&op);
  }
  return index;
}

namespace {

bool AnyMayFollow(const std::vector<const Op*>& ops, double t) {
  for (const Op* op : ops) {
    if (op->maybe_applied() && op->complete > t) return true;
  }
  return false;
}

const char* StatusName(int s) {
  static const char* const kNames[] = {"absent",  "AVAILABLE", "BLOCKED",
                                       "PENDING", "FINISHED",  "FAILED"};
  return s >= 0 && s <= 5 ? kNames[s] : "?";
}

}  // namespace

void CheckUnits(const std::deque<Op>& /*ops*/, const UnitIndex& index, const StoreSnapshot& snap,
                CheckResult* out) {
  for (const auto& [u, state] : snap.units) {
    if (index.Creators(u).empty()) {
      out->Add(
          "phantom",
          ToString(u) + " is present (" + StatusName(state.status) + ") but no op ever created it",
          {});
    }
  }
  for (const auto& [u, touching] : index.touching) {
    auto it = snap.units.find(u);
    const bool present = it != snap.units.end();
    const int status = present ? it->second.status : 0;
    const auto creators = index.Creators(u);
    const auto deletes = index.Of(u, OpType::kDelete);
    const auto finishes = index.Of(u, OpType::kFinish);
    double first_create = std::numeric_limits<double>::infinity();
    for (const Op* c : creators) {
      if (c->maybe_applied()) first_create = std::min(first_create, c->invoke);
    }
    if (!present) {
      for (const Op* c : creators) {
        if (c->ok() && !AnyMayFollow(deletes, first_create)) {
          out->Add("lost_create", ToString(u) + " was created (acknowledged) but is absent",
                   {c->index});
          break;
        }
      }
    }
    if (present) {
      for (const Op* d : deletes) {
        if (d->ok() && !AnyMayFollow(creators, d->invoke)) {
          out->Add(
              "lost_delete",
              ToString(u) + " was deleted (acknowledged) but is present as " + StatusName(status),
              {d->index});
          break;
        }
      }
    }
    for (const Op* f : finishes) {
      if (!f->ok() || AnyMayFollow(deletes, f->invoke)) continue;
      if (status != 4) {
        out->Add("lost_finish",
                 ToString(u) + " was finished (acknowledged) but is " + StatusName(status),
                 {f->index});
        break;
      }
    }
    bool any_finish = false;
    for (const Op* f : finishes) any_finish = any_finish || f->maybe_applied();
    for (const Op* f : index.Of(u, OpType::kFail)) {
      if (!f->ok() || AnyMayFollow(deletes, f->invoke)) continue;
      if (!(status == 5 || (status == 4 && any_finish))) {
        out->Add("lost_fail",
                 ToString(u) + " was failed (acknowledged) but is " + StatusName(status),
                 {f->index});
        break;
      }
    }
  }
}

CheckResult CheckHistory(const std::deque<Op>& ops, const StoreSnapshot& snap,
                         const CheckOptions& options) {
  CheckResult r;
  for (const auto& c : ViolationClasses()) r.counts[c] = 0;
  for (const char* c : {"regranted_units", "dependent_grants", "live_locks_read_back"}) {
    r.coverage[c] = 0;
  }
  const UnitIndex index = BuildIndex(ops);
  CheckUnits(ops, index, snap, &r);
  CheckLeases(ops, index, options, &r);
  CheckDependencies(ops, index, snap, &r);
  CheckLocks(ops, snap, options, &r);
  for (const auto& p : snap.check_problems) r.Add("invariant", "check RPC: " + p, {});
  return r;
}

}  // namespace crashtest
