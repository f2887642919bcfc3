#include "stats.h"

#include <algorithm>

namespace coordinate::bench {

void Latencies::Append(const Latencies& other) {
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
}

LatencySummary Latencies::Summarize() {
  LatencySummary s;
  s.count = samples_.size();
  if (samples_.empty()) return s;
  std::sort(samples_.begin(), samples_.end());
  auto at = [this](double p) {
    return samples_[static_cast<size_t>(p * static_cast<double>(samples_.size() - 1))];
  };
  s.p50 = at(0.5);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  s.max = samples_.back();
  return s;
}

void OpLatencies::Merge(const std::string& op, const Latencies& samples) {
  std::lock_guard<std::mutex> lock(mu_);
  ops_[op].Append(samples);
}

std::map<std::string, LatencySummary> OpLatencies::Summarize() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, LatencySummary> out;
  for (auto& [op, samples] : ops_) out[op] = samples.Summarize();
  return out;
}

}  // namespace coordinate::bench
