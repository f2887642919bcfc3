// Checker: leases (no two live leases on one unit) and paused specs (no grants while paused).
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "checker.h"
#include "workload.h"

namespace crashtest {

namespace {

struct Grant {
  const Op* op;
  double live_until;  // the lease certainly lasts until here, unless released
};

// Whether the two grants' leases certainly overlap in time.
bool CertainlyOverlap(const Grant& g1, const Grant& g2, double margin) {
  const Op& a = *g1.op;
  const Op& b = *g2.op;
  if (b.invoke > a.complete) return b.complete < g1.live_until - margin;
  // Overlapping call windows: the grants were at most this far apart, in either order.
  const double apart = std::max(b.complete - a.invoke, a.complete - b.invoke);
  return apart < std::min(a.seconds, b.seconds) - margin;
}

}  // namespace

void CheckLeases(const std::deque<Op>& ops, const UnitIndex& index, const CheckOptions& options,
                 CheckResult* out) {
  std::map<UnitId, std::vector<const Op*>> grants;
  for (const Op& op : ops) {
    if (op.type != OpType::kGetWork || !op.ok()) continue;
    for (const auto& u : op.units) grants[u].push_back(&op);
  }
  for (auto& [u, list] : grants) {
    if (list.size() < 2) continue;
    ++out->coverage["regranted_units"];
    std::sort(list.begin(), list.end(),
              [](const Op* a, const Op* b) { return a->complete < b->complete; });
    // What may end a lease early: a finish, fail or delete of the unit, or a (re-)creation.
    std::vector<const Op*> releases = index.Creators(u);
    for (OpType t : {OpType::kFinish, OpType::kFail, OpType::kDelete}) {
      for (const Op* op : index.Of(u, t)) releases.push_back(op);
    }
    auto renews = index.Of(u, OpType::kRenew);
    std::sort(renews.begin(), renews.end(),
              [](const Op* a, const Op* b) { return a->invoke < b->invoke; });
    std::vector<Grant> gs;
    for (const Op* g : list) {
      double until = g->invoke + g->seconds;
      // An acknowledged renewal by the holder, certainly applied while the lease was live,
      // extends it.
      for (const Op* r : renews) {
        if (!r->ok() || r->who != g->who || r->invoke <= g->complete) continue;
        if (r->complete < until - options.margin) until = std::max(until, r->invoke + r->seconds);
      }
      gs.push_back(Grant{g, until});
    }
    for (size_t i = 0; i < gs.size(); ++i) {
      for (size_t j = i + 1; j < gs.size(); ++j) {
        const Op& a = *gs[i].op;
        const Op& b = *gs[j].op;
        bool released = false;
        for (const Op* r : releases) {
          released =
              released || (r->maybe_applied() && r->complete > a.invoke && r->invoke < b.complete);
        }
        if (released || !CertainlyOverlap(gs[i], gs[j], options.margin)) continue;
        out->Add("double_lease",
                 fmt::format("{} granted to {} (lease until at least {:.6f}) and again to {} at "
                             "or before {:.6f}",
                             ToString(u), a.who, gs[i].live_until, b.who, b.complete),
                 {a.index, b.index});
      }
    }
  }

  // Paused spec: an acknowledged pause certainly holds from its completion until the invoke of
  // the first resume that may follow it.
  std::vector<std::pair<double, double>> paused;  // (from, until)
  std::vector<const Op*> resumes;
  for (const Op& op : ops) {
    if (op.type == OpType::kResume && op.maybe_applied()) resumes.push_back(&op);
  }
  for (const Op& p : ops) {
    if (p.type != OpType::kPause || !p.ok()) continue;
    double until = std::numeric_limits<double>::infinity();
    for (const Op* r : resumes) {
      if (r->complete > p.invoke) until = std::min(until, r->invoke);
    }
    if (until > p.complete) paused.emplace_back(p.complete, until);
  }
  if (paused.empty()) return;
  for (const Op& g : ops) {
    if (g.type != OpType::kGetWork || !g.ok()) continue;
    for (const auto& u : g.units) {
      if (u.spec != kPausedSpec) continue;
      for (const auto& [from, until] : paused) {
        if (g.invoke > from && g.complete < until) {
          out->Add("paused_granted",
                   fmt::format("{} granted while {} was paused ({:.6f} .. {:.6f})", ToString(u),
                               u.spec, from, until),
                   {g.index});
          break;
        }
      }
    }
  }
}

}  // namespace crashtest
