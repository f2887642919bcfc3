#include "worker_pool.h"

#include <chrono>
#include <thread>
#include <vector>

#include "stats.h"

namespace coordinate::bench {

void Gate::Arrive() {
  ++arrived_;
  WaitAll();
}

void Gate::WaitAll() const {
  while (arrived_.load() < n_) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

double RunWorkers(int n, double duration, const std::function<void(int, Gate&)>& body) {
  Gate gate(n);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) threads.emplace_back([&, i] { body(i, gate); });
  gate.WaitAll();
  const auto start = Clock::now();
  if (duration > 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(duration));
    gate.Stop();
  }
  for (auto& t : threads) t.join();
  return SecondsSince(start);
}

}  // namespace coordinate::bench
