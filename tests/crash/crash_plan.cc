#include "crash_plan.h"

#include <fmt/format.h>

namespace crashtest {

namespace {
struct PointInfo {
  const char* name;
  uint64_t lo, hi;  // the pass to die on is drawn from [lo, hi]
};
// Pass ranges: the sequencer points pass once per committed group (hundreds per second), the
// others once per re-grant of an expired unit, per chained finish, per released dependent, per
// spec loaded at start-up.
constexpr PointInfo kPoints[] = {
    {"sequencer.before_sync", 20, 400},        {"sequencer.before_reply", 20, 400},
    {"get_work.regrant_expired", 3, 30},       {"coordinator.chain", 1, 30},
    {"coordinator.dependency_release", 1, 20}, {"coordinator.load", 1, 6},
};
}  // namespace

CrashPlan::CrashPlan(bool enabled, uint64_t seed) : enabled_(enabled), rng_(seed ^ 0x9e3779b9ULL) {
  for (const auto& p : AllPoints()) {
    rotation_.push_back(p);
    fired_[p] = 0;
    missed_[p] = 0;
  }
}

const std::vector<std::string>& CrashPlan::AllPoints() {
  static const std::vector<std::string> kAll = [] {
    std::vector<std::string> v;
    for (const auto& p : kPoints) v.emplace_back(p.name);
    return v;
  }();
  return kAll;
}

std::string CrashPlan::PointFor(int round) const {
  if (!enabled_ || round % 2 == 1) return "";
  return rotation_.front();
}

std::string CrashPlan::ArmSpec(const std::string& point) {
  for (const auto& p : kPoints) {
    if (point != p.name) continue;
    const uint64_t n = p.lo + rng_() % (p.hi - p.lo + 1);
    return fmt::format("{}:@{}", point, n);
  }
  return "";
}

void CrashPlan::Record(const std::string& point, bool fired) {
  if (point.empty()) return;
  (fired ? fired_ : missed_)[point]++;
  if (fired || ++tries_ >= kTries) {
    tries_ = 0;
    if (!rotation_.empty() && rotation_.front() == point) {
      rotation_.pop_front();
      rotation_.push_back(point);
    }
  }
}

std::vector<std::string> CrashPlan::NeverFired() const {
  std::vector<std::string> out;
  for (const auto& [p, n] : fired_) {
    if (n == 0) out.push_back(p);
  }
  return out;
}

}  // namespace crashtest
