#include "scheduler/sequencer.h"

#include <chrono>
#include <vector>

namespace coordinated::scheduler {

Sequencer::Sequencer(SyncFn sync, TickFn tick, FatalFn on_fatal)
    : sync_(std::move(sync)), tick_(std::move(tick)), on_fatal_(std::move(on_fatal)) {}

Sequencer::~Sequencer() { Stop(); }

void Sequencer::Start() { thread_ = std::thread([this] { Loop(); }); }

void Sequencer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Sequencer::Submit(std::function<void()> run, std::function<void()> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    queue_.push_back(Job{std::move(run), std::move(done)});
  }
  cv_.notify_one();
  return true;
}

void Sequencer::Loop() {
  using Clock = std::chrono::steady_clock;
  auto next_tick = Clock::now();
  std::deque<Job> group;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (failed_) {
        // Nothing more is acknowledged; wait for Stop without spinning.
        cv_.wait(lock, [&] { return stopping_; });
        queue_.clear();
        break;
      }
      cv_.wait_until(lock, next_tick, [&] { return stopping_ || !queue_.empty(); });
      group.swap(queue_);
      if (group.empty() && stopping_) break;
    }
    if (failed_) {
      group.clear();
      continue;
    }
    if (!group.empty()) {
      for (auto& job : group) job.run();
    }
    if (Clock::now() >= next_tick) {
      double wait = tick_ ? tick_() : 1.0;
      if (wait < 0.001) wait = 0.001;
      next_tick = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(wait));
    }
    Status s = sync_ ? sync_() : Status::Ok();
    if (!s.ok()) {
      failed_ = true;
      group.clear();
      if (on_fatal_) on_fatal_(s);
      continue;
    }
    groups_.fetch_add(1, std::memory_order_relaxed);
    for (auto& job : group) {
      if (job.done) job.done();
    }
    group.clear();
  }
}

}  // namespace coordinated::scheduler
