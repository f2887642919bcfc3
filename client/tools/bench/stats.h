// Latency samples and their percentiles.
//
// Each worker thread records into its own Latencies (no locking on the hot path) and merges it
// into the run's OpLatencies once, when it stops. Percentiles are read off the sorted samples:
// pX is the sample at index floor(X * (n - 1)), so p999 needs about 1,000 samples to differ
// from the largest ones.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace coordinate::bench {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct LatencySummary {
  uint64_t count = 0;
  double p50 = 0;  // seconds
  double p99 = 0;
  double p999 = 0;
  double max = 0;
};

// Samples (seconds) of one kind of call, recorded by one thread.
class Latencies {
 public:
  void Add(double seconds) { samples_.push_back(seconds); }
  size_t size() const { return samples_.size(); }
  void Append(const Latencies& other);
  // Sorts the samples in place.
  LatencySummary Summarize();

 private:
  std::vector<double> samples_;
};

// The samples of every kind of call of a run, by call name ("get_work", "finish", ...).
// Thread-safe: Merge may be called from many threads.
class OpLatencies {
 public:
  void Merge(const std::string& op, const Latencies& samples);
  // Summaries by call name; call once, after every thread merged.
  std::map<std::string, LatencySummary> Summarize();

 private:
  std::mutex mu_;
  std::map<std::string, Latencies> ops_;
};

}  // namespace coordinate::bench
