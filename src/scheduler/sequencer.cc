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
    queue_.push_back(Job{std::move(run), std::move(done), Clock::now()});
  }
  cv_.notify_one();
  return true;
}

void Sequencer::Loop() {
  auto next_tick = Clock::now();
  std::deque<Job> group;
  std::vector<Applied> applied;
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
      const auto started = Clock::now();
      job.run();
      if (job.done) {
        applied.push_back({std::move(job.done), job.submitted, started, Clock::now()});
      }
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
        for (auto& a : applied) to_commit_.push_back(std::move(a));
        commit_wanted_ = true;
      }
      commit_cv_.notify_one();
    }
    group.clear();
    applied.clear();
  }
  {
    std::lock_guard<std::mutex> lock(commit_mu_);
    loop_finished_ = true;
  }
  commit_cv_.notify_one();
}

void Sequencer::Committer() {
  std::vector<Applied> batch;
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
    const auto sync_start = Clock::now();
    Status s = sync_ ? sync_() : Status::Ok();
    const auto synced = Clock::now();
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
    Group g;
    g.synced_ = synced;
    g.owner_ = this;
    g.dones_.reserve(batch.size());
    for (auto& a : batch) {
      stage_queue_.Add(a.started - a.submitted);
      stage_apply_.Add(a.finished - a.started);
      stage_commit_wait_.Add(sync_start - a.finished);
      stage_sync_.Add(synced - sync_start);
      g.dones_.push_back(std::move(a.done));
    }
    batch.clear();
    if (deliver_ && g.size() > 0) {
      deliver_(std::move(g));
    } else {
      g.Run();
    }
  }
}

void Sequencer::Group::Run() {
  for (auto& done : dones_) {
    if (owner_) {
      owner_->stage_handoff_.Add(Clock::now() - synced_);
      owner_->answered_.fetch_add(1, std::memory_order_relaxed);
    }
    done();
  }
  dones_.clear();
}

Sequencer::StageTotals Sequencer::stage_totals() const {
  auto secs = [](const Stage& st) { return static_cast<double>(st.nanos.load()) * 1e-9; };
  StageTotals t;
  t.jobs = answered_.load();
  t.queue = secs(stage_queue_);
  t.apply = secs(stage_apply_);
  t.commit_wait = secs(stage_commit_wait_);
  t.sync = secs(stage_sync_);
  t.handoff = secs(stage_handoff_);
  return t;
}

}  // namespace coordinated::scheduler
