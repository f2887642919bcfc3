// RunWorkers: the start/stop discipline every workload shares.
//
// `n` threads each run body(i, gate). A body first does its set-up (opens its connection), then
// calls gate.Arrive() exactly once, also when its set-up failed; Arrive blocks until every
// thread has arrived, and the measurement starts at that moment. The body then loops while
// gate.running(). RunWorkers stops the loops after `duration` seconds (duration <= 0: the bodies
// end by themselves, e.g. after a unit count) and returns the seconds from the start until the last
// thread ended.
#pragma once

#include <atomic>
#include <functional>

namespace coordinate::bench {

class Gate {
 public:
  explicit Gate(int n) : n_(n) {}
  // Blocks until all n threads have arrived.
  void Arrive();
  bool running() const { return !stop_.load(std::memory_order_relaxed); }
  void Stop() { stop_ = true; }
  // Blocks the caller until all n threads have arrived.
  void WaitAll() const;

 private:
  const int n_;
  std::atomic<int> arrived_{0};
  std::atomic<bool> stop_{false};
};

double RunWorkers(int n, double duration, const std::function<void(int, Gate&)>& body);

}  // namespace coordinate::bench
