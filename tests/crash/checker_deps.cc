// Checker: unit dependencies (blocked units are not handed out; release is atomic with the
// change that triggers it).
#include <fmt/format.h>

#include "checker.h"

namespace crashtest {

namespace {

// Dependency ops by their later (dependent) unit.
using DepsByLater = std::map<UnitId, std::vector<const Op*>>;

bool OpOnBefore(const UnitIndex& index, const UnitId& u, std::initializer_list<OpType> types,
                double t) {
  for (OpType type : types) {
    for (const Op* op : index.Of(u, type)) {
      if (op->maybe_applied() && op->invoke < t) return true;
    }
  }
  return false;
}

// `u` may have failed through a hard dependency on a unit that failed (or so, transitively)
// before time t.
bool MayCascadeFail(const UnitIndex& index, const DepsByLater& deps, const UnitId& u, double t,
                    int depth) {
  if (depth > 8) return false;
  auto it = deps.find(u);
  if (it == deps.end()) return false;
  for (const Op* e : it->second) {
    if (!e->maybe_applied() || !e->hard || e->invoke >= t) continue;
    const UnitId& pre = e->units[1];
    if (OpOnBefore(index, pre, {OpType::kFail}, t) ||
        MayCascadeFail(index, deps, pre, t, depth + 1)) {
      return true;
    }
  }
  return false;
}

// Something that releases dependents of `u` (finish, fail, delete, or a failure cascade) may
// have happened before time t.
bool MayBeReleased(const UnitIndex& index, const DepsByLater& deps, const UnitId& u, double t) {
  return OpOnBefore(index, u, {OpType::kFinish, OpType::kFail, OpType::kDelete}, t) ||
         MayCascadeFail(index, deps, u, t, 0);
}

}  // namespace

void CheckDependencies(const std::deque<Op>& ops, const UnitIndex& index, const StoreSnapshot& snap,
                       CheckResult* out) {
  DepsByLater deps;
  for (const Op& op : ops) {
    if (op.type == OpType::kDepend && op.units.size() == 2) deps[op.units[0]].push_back(&op);
  }
  if (deps.empty()) return;

  // blocked_granted: a dependent handed out while an acknowledged prerequisite was unreleased.
  for (const Op& g : ops) {
    if (g.type != OpType::kGetWork || !g.ok()) continue;
    for (const auto& u : g.units) {
      auto it = deps.find(u);
      if (it == deps.end()) continue;
      ++out->coverage["dependent_grants"];
      // Deleted and possibly re-created without its edges.
      if (OpOnBefore(index, u, {OpType::kDelete}, g.complete)) continue;
      for (const Op* e : it->second) {
        if (!e->ok() || e->complete >= g.invoke) continue;
        if (MayBeReleased(index, deps, e->units[1], g.complete)) continue;
        out->Add("blocked_granted",
                 fmt::format("{} handed out while waiting for {} (nothing released it)",
                             ToString(u), ToString(e->units[1])),
                 {e->index, g.index});
        break;
      }
    }
  }

  auto status_of = [&](const UnitId& u) {
    auto it = snap.units.find(u);
    return it == snap.units.end() ? 0 : it->second.status;
  };
  // blocked_after_release: BLOCKED needs a present, unfinished prerequisite.
  for (const auto& [u, state] : snap.units) {
    if (state.status != 2) continue;
    bool waits = false;
    auto it = deps.find(u);
    if (it != deps.end()) {
      for (const Op* e : it->second) {
        if (!e->maybe_applied()) continue;
        const int s = status_of(e->units[1]);
        waits = waits || (s >= 1 && s <= 3);
      }
    }
    if (!waits) {
      std::vector<uint64_t> refs;
      if (it != deps.end()) {
        for (const Op* e : it->second) refs.push_back(e->index);
      }
      out->Add("blocked_after_release",
               ToString(u) + " is BLOCKED but none of its prerequisites is pending", refs);
    }
  }
  // released_early: an acknowledged edge whose prerequisite is unfinished, dependent runnable.
  for (const auto& [later, list] : deps) {
    for (const Op* e : list) {
      if (!e->ok()) continue;
      const UnitId& pre = e->units[1];
      const int ps = status_of(pre);
      const int ls = status_of(later);
      if (!(ps >= 1 && ps <= 3) || !(ls == 1 || ls == 3)) continue;
      if (!index.Of(pre, OpType::kDelete).empty() || !index.Of(later, OpType::kDelete).empty()) {
        continue;
      }
      out->Add("released_early",
               fmt::format("{} is runnable (status {}) while its prerequisite {} is unfinished "
                           "(status {})",
                           ToString(later), ls, ToString(pre), ps),
               {e->index});
    }
  }
}

}  // namespace crashtest
