// A progress line on stderr ("dumped 12,000/40,000 units (30%) 8,000 units/s"), redrawn with \r
// at most five times a second, and only when stderr is a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "scheduler/dump.h"

namespace coordadmin {

class ProgressLine {
 public:
  // total_bytes: size of the input for a percentage by bytes (restore), 0 when unknown.
  ProgressLine(std::string verb, uint64_t total_bytes = 0);
  ~ProgressLine();
  void Update(const coordinated::scheduler::DumpProgress& p);
  // Ends the line (so that what follows starts on its own line).
  void End();
  bool enabled() const { return enabled_; }

 private:
  std::string verb_;
  uint64_t total_bytes_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace coordadmin
