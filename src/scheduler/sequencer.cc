#include "scheduler/sequencer.h"

#include <chrono>
#include <utility>

#include "common/crash_point.h"

namespace coordinated::scheduler {

Sequencer::Sequencer(SyncFn sync, TickFn tick, FatalFn on_fatal)
    : sync_(std::move(sync)), tick_(std::move(tick)), on_fatal_(std::move(on_fatal)) {}

Sequencer::~Sequencer() { Stop(); }

void Sequencer::Start() {
  committer_ = std::thread([this] { Committer(); });
  thread_ = std::thread([this] { Loop(); });
}

void Sequencer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (committer_.joinable()) committer_.join();
}

bool Sequencer::Submit(std::function<void()> run, std::function<void()> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // After a failed sync nothing more is acknowledged: refuse, so the caller answers itself.
    if (stopping_ || failed_) return false;
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
      cv_.wait_until(lock, next_tick, [&] { return stopping_ || failed_ || !queue_.empty(); });
      if (failed_) continue;
      group.swap(queue_);
      if (group.empty() && stopping_) break;
    }
    for (auto& job : group) {
      if (failed_) break;  // seen between jobs: start nothing more
      job.run();
    }
    bool ticked = false;
    if (Clock::now() >= next_tick) {
      double wait = tick_ ? tick_() : 1.0;
      if (wait < 0.001) wait = 0.001;
      next_tick = Clock::now() +
                  std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait));
      ticked = true;
    }
    if (!group.empty() || ticked) {
      {
        std::lock_guard<std::mutex> lock(commit_mu_);
        for (auto& job : group) {
          if (job.done) to_commit_.push_back(std::move(job.done));
        }
        commit_wanted_ = true;
      }
      commit_cv_.notify_one();
    }
    group.clear();
  }
  {
    std::lock_guard<std::mutex> lock(commit_mu_);
    loop_finished_ = true;
  }
  commit_cv_.notify_one();
}

void Sequencer::Committer() {
  std::vector<std::function<void()>> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(commit_mu_);
      commit_cv_.wait(lock, [&] { return commit_wanted_ || loop_finished_; });
      if (!commit_wanted_) break;  // the sequencer thread is gone and everything is answered
      batch.swap(to_commit_);
      commit_wanted_ = false;
    }
    if (failed_) {
      batch.clear();
      continue;
    }
    // Everything the sequencer applied before handing these callbacks over is in the log.
    COORD_CRASH_POINT_IF(!batch.empty(), "sequencer.before_sync");
    Status s = sync_ ? sync_() : Status::Ok();
    if (!s.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        failed_ = true;
      }
      cv_.notify_all();
      batch.clear();
      if (on_fatal_) on_fatal_(s);
      continue;
    }
    groups_.fetch_add(1, std::memory_order_relaxed);
    COORD_CRASH_POINT_IF(!batch.empty(), "sequencer.before_reply");
    if (deliver_ && !batch.empty()) {
      deliver_(std::move(batch));
      batch = {};
    } else {
      for (auto& done : batch) done();
      batch.clear();
    }
  }
}

}  // namespace coordinated::scheduler
