// CrashPlan: which whitebox crash point (src/common/crash_point.h) each round arms.
//
// With crash points enabled, every second round is a whitebox round: it arms the next point of
// the rotation; the other rounds are blackbox (SIGKILL at a random moment). A point that did not
// fire in its round is tried again in the next whitebox round (at most kTries times in a row,
// then it moves to the back of the rotation). Runtime points are armed in the daemon that runs
// the round; the start-up point "coordinator.load" is armed in the restart that follows a
// blackbox kill of the round, and the daemon is then restarted once more without it.
//
// Thread-safety: not thread-safe (main thread).
#pragma once

#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace crashtest {

class CrashPlan {
 public:
  static constexpr int kTries = 3;
  static constexpr char kStartupPoint[] = "coordinator.load";

  CrashPlan(bool enabled, uint64_t seed);
  // Every point the daemon defines.
  static const std::vector<std::string>& AllPoints();

  bool enabled() const { return enabled_; }
  // The point round `round` (1-based) exercises, or "" for a blackbox round.
  std::string PointFor(int round) const;
  // COORDINATED_CRASH_POINTS for a daemon that should die at `point` ("name:@N" with N drawn
  // so the point fires a moment into the round).
  std::string ArmSpec(const std::string& point);
  // Records whether `point` fired; advances the rotation.
  void Record(const std::string& point, bool fired);

  const std::map<std::string, int>& fired() const { return fired_; }
  const std::map<std::string, int>& missed() const { return missed_; }
  // Points that never fired.
  std::vector<std::string> NeverFired() const;

 private:
  bool enabled_;
  std::mt19937_64 rng_;
  std::deque<std::string> rotation_;
  int tries_ = 0;
  std::map<std::string, int> fired_, missed_;
};

}  // namespace crashtest
