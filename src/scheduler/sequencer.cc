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
  const auto submitted = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    // After a failed sync nothing more is acknowledged: refuse, so the caller answers itself.
    if (stopping_ || failed_) return false;
    queue_.push_back(Job{std::move(run), std::move(done), submitted});
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
    auto mark = Clock::now();  // one reading ends a run and starts the next
    for (auto& job : group) {
      if (failed_) break;  // seen between jobs: start nothing more
      const auto started = mark;
      job.run();
      mark = Clock::now();
      if (job.done) applied.push_back({std::move(job.done), job.submitted, started, mark});
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
    Clock::duration queued{}, applying{}, waiting{};
    for (auto& a : batch) {
      queued += a.started - a.submitted;
      applying += a.finished - a.started;
      waiting += sync_start - a.finished;
      g.dones_.push_back(std::move(a.done));
    }
    stages_.queue.Add(queued);
    stages_.apply.Add(applying);
    stages_.commit_wait.Add(waiting);
    stages_.sync.Add((synced - sync_start) * static_cast<Clock::rep>(batch.size()));
    batch.clear();
    if (deliver_ && g.size() > 0) {
      deliver_(std::move(g));
    } else {
      g.Run();
    }
  }
}

void Sequencer::Group::Run() {
  Clock::duration handed{};
  for (auto& done : dones_) {
    if (owner_) handed += Clock::now() - synced_;
    done();
  }
  if (owner_ && !dones_.empty()) {
    owner_->stages_.handoff.Add(handed);
    owner_->stages_.answered.fetch_add(dones_.size(), std::memory_order_relaxed);
  }
  dones_.clear();
}

Sequencer::StageTotals Sequencer::stage_totals() const {
  auto secs = [](const Stage& st) { return static_cast<double>(st.nanos.load()) * 1e-9; };
  StageTotals t;
  t.jobs = stages_.answered.load();
  t.queue = secs(stages_.queue);
  t.apply = secs(stages_.apply);
  t.commit_wait = secs(stages_.commit_wait);
  t.sync = secs(stages_.sync);
  t.handoff = secs(stages_.handoff);
  return t;
}

}  // namespace coordinated::scheduler
