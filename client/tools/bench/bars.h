// The bars of the performance issue, checked against a run's figures.
//
// Every bar is stated for a release build with storage sync on, so only sync=on runs are
// checked. A bar applies to the run whose parameters it names:
//
//   do w=64 k=1 (specs=1 payload=100 backlog=10000 idle=0), "figure 1":
//       >= 30,000 cycles/s; get_work p99 <= 5 ms; >= 0.6 of the floor's round trips/s at W=64
//       (each cycle is two round trips)
//   do w=8 k=1:            >= 12,000 cycles/s; get_work p99 <= 1.5 ms
//   do w=64 k=10:          >= 100,000 units/s (finishes batched)
//   add batch=1000:        >= 400,000 units/s
//   do w=64 k=1 backlog=10,000,000: get_work p99 <= 1.5 x the same run with backlog 10,000;
//                          daemon RSS <= 300 MiB; data directory <= 2.5 x the raw key+data bytes;
//                          ready <= 2 s after kill -9
//   do w=64 k=1 specs=1000: cycles/s >= 0.7 x the same run with specs=10
//   do w=64 k=1 idle=1000:  cycles/s within 10% of figure 1 (>= 0.9 x; faster passes)
//
// Bars that compare with another run look it up by label; when that run was not part of this
// invocation the bar is reported as not checked.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "runner.h"

namespace coordinate::bench {

struct BarCheck {
  enum class Verdict { kPass, kFail, kNotChecked };
  std::string bar;     // "cycles/s>=30000"
  std::string actual;  // "16400"
  Verdict verdict = Verdict::kNotChecked;
};

// `find(label)` returns an earlier result of this invocation, or nullptr.
std::vector<BarCheck> CheckBars(const RunResult& r,
                                const std::function<const RunResult*(const std::string&)>& find);

}  // namespace coordinate::bench
