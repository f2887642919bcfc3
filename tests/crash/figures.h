// Figures: what a crash run measured, printed at the end (and optionally written as JSON).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "checker.h"
#include "crash_plan.h"
#include "history.h"

namespace crashtest {

struct RoundFigures {
  int round = 0;
  std::string point;            // "" for a blackbox kill
  bool fired = false;           // the point fired (whitebox rounds)
  double run_seconds = 0;       // from the actors' start to the daemon's death
  uint64_t acked_ops = 0;       // ok ops of this round
  double ready_seconds = 0;     // restart: spawn -> ready file
  double recovery_seconds = 0;  // restart: spawn -> first successful sequenced call
  size_t units = 0;             // units in the store after the restart
};

// Nearest-rank percentile (p in 0..100) of `v`; 0 when empty.
double Percentile(std::vector<double> v, double p);

class Figures {
 public:
  void AddRound(RoundFigures r) { rounds_.push_back(std::move(r)); }
  const std::vector<RoundFigures>& rounds() const { return rounds_; }
  // The final report: iterations, ops per class and outcome, acked ops/s, recovery times,
  // crash points, violations per class.
  std::string Render(const std::deque<Op>& ops, const std::map<std::string, uint64_t>& violations,
                     const std::map<std::string, uint64_t>& coverage, const CrashPlan& plan,
                     uint64_t data_dir_bytes) const;
  // The same as JSON.
  std::string Json(const std::deque<Op>& ops, const std::map<std::string, uint64_t>& violations,
                   const std::map<std::string, uint64_t>& coverage, const CrashPlan& plan,
                   uint64_t data_dir_bytes, uint64_t seed, bool sync) const;

 private:
  std::vector<RoundFigures> rounds_;
};

}  // namespace crashtest
