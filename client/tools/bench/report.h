// Report: one line per run, and the memory of earlier runs that bars compare with.
//
// Line shape (fields absent when they do not apply to the workload):
//   LABEL: FIGURES [ratio_to_floor=R] LATENCIES [rss_max=..MiB disk=..MiB raw=..MiB
//          disk_ratio=..] [restart=..s] [preloaded=N] [topped_up=N] [empty=N] [errors=N]
//          [| bars: BAR=ACTUAL PASS|FAIL|n/a; ...]
// e.g.
//   do w=64 k=1 sync=on specs=1 payload=100 backlog=10000: 16400 cycles/s 16400 units/s
//   32800 rt/s ratio_to_floor=0.31 get_work p50=1.80ms p99=5.20ms p999=8.90ms finish ... |
//   bars: cycles/s>=30000=16400 FAIL; ...
// A run that could not be carried out prints "LABEL: ERROR <message>".
#pragma once

#include <cstdio>
#include <deque>
#include <string>

#include "runner.h"

namespace coordinate::bench {

std::string FormatResult(const RunResult& r,
                         const std::function<const RunResult*(const std::string&)>& find);

class Reporter {
 public:
  explicit Reporter(std::FILE* out) : out_(out) {}
  // Prints the line of `r` (bars checked against earlier runs) and remembers it.
  void Print(const RunResult& r);
  bool any_error() const { return any_error_; }
  const RunResult* Find(const std::string& label) const;

 private:
  std::FILE* out_;
  std::deque<RunResult> results_;
  bool any_error_ = false;
};

}  // namespace coordinate::bench
