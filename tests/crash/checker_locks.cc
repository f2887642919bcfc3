// Checker: durable locks (held locks survive a restart; two owners never hold one path).
#include <fmt/format.h>

#include <algorithm>

#include "checker.h"

namespace crashtest {

void CheckLocks(const std::deque<Op>& ops, const StoreSnapshot& snap, const CheckOptions& options,
                CheckResult* out) {
  std::map<std::string, std::vector<const Op*>> locks, unlocks;  // by path label
  for (const Op& op : ops) {
    if (op.type == OpType::kLock) locks[op.path].push_back(&op);
    if (op.type == OpType::kUnlock) unlocks[op.path].push_back(&op);
  }
  // An unlock by `owner` of `path` that may have been applied in (from, to).
  auto unlocked = [&](const std::string& path, const std::string& owner, double from, double to) {
    for (const Op* u : unlocks[path]) {
      if (u->who == owner && u->maybe_applied() && u->complete > from && u->invoke < to) {
        return true;
      }
    }
    return false;
  };
  auto owner_of = [&](const std::string& path) {
    auto it = snap.lock_owner.find(path);
    return it == snap.lock_owner.end() ? std::optional<std::string>() : it->second;
  };

  for (auto& [path, list] : locks) {
    const auto owner = owner_of(path);
    // lost_lock: still within its timeout when read back, never unlocked.
    for (const Op* l : list) {
      if (!l->ok() || l->invoke + l->seconds - options.margin <= snap.locks_read_complete) continue;
      if (unlocked(path, l->who, l->invoke, snap.locks_read_invoke)) continue;
      ++out->coverage["live_locks_read_back"];
      if (owner != l->who) {
        out->Add("lost_lock",
                 fmt::format("[{}] locked by {} until at least {:.6f} but held by {} at {:.6f}",
                             path, l->who, l->invoke + l->seconds, owner.value_or("nobody"),
                             snap.locks_read_complete),
                 {l->index});
      }
    }
    // double_lock: hold times that certainly overlap.
    std::vector<const Op*> acked;
    for (const Op* l : list) {
      if (l->ok()) acked.push_back(l);
    }
    std::sort(acked.begin(), acked.end(),
              [](const Op* a, const Op* b) { return a->complete < b->complete; });
    for (size_t i = 0; i < acked.size(); ++i) {
      const Op& a = *acked[i];
      const double held_until = a.invoke + a.seconds;
      for (size_t j = i + 1; j < acked.size(); ++j) {
        const Op& b = *acked[j];
        if (b.invoke > held_until + 60) break;  // far beyond any hold (calls last << 60 s)
        bool overlap;
        if (b.invoke > a.complete) {
          overlap = b.complete < held_until - options.margin;
        } else {
          overlap = std::max(b.complete - a.invoke, a.complete - b.invoke) <
                    std::min(a.seconds, b.seconds) - options.margin;
        }
        if (!overlap || unlocked(path, a.who, a.invoke, b.complete)) continue;
        out->Add("double_lock",
                 fmt::format("[{}] locked by {} (held until at least {:.6f}) and by {} at or "
                             "before {:.6f}",
                             path, a.who, held_until, b.who, b.complete),
                 {a.index, b.index});
      }
    }
  }
  // lost_unlock: the owner holds the path again without a lock that may follow the unlock.
  for (auto& [path, list] : unlocks) {
    const auto owner = owner_of(path);
    for (const Op* u : list) {
      if (!u->ok() || owner != u->who) continue;
      bool relocked = false;
      for (const Op* l : locks[path]) {
        relocked = relocked || (l->who == u->who && l->maybe_applied() && l->complete > u->invoke);
      }
      if (!relocked) {
        out->Add("lost_unlock",
                 fmt::format("[{}] unlocked by {} but held by it after the restart", path, u->who),
                 {u->index});
      }
    }
  }
}

}  // namespace crashtest
