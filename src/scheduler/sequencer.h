// Sequencer: the single thread that owns all coordination state, with pipelined group commit.
//
// Every state-touching call is submitted as a job {run, done}. The sequencer thread takes all
// queued jobs, runs each `run` in arrival order (each applies its own atomic write to the store,
// unsynced, so the next job sees it) and hands the group's `done` callbacks to the committer
// thread, then goes straight on with the next group. The committer calls `sync` once for every
// group that reached it (one fsync of the write-ahead log covers everything applied before the
// call) and only then runs those groups' `done` callbacks (which send the replies), in order.
// So the fsync of one group overlaps applying the next: a reply never leaves before its writes,
// and every write applied before them, are durable, while the state thread never waits for
// the disk.
//
// Periodic work (lease expiry, archive, worker pruning) runs on the sequencer thread through
// `tick`, which returns the number of seconds until it wants to run again.
//
// If `sync` fails, nothing more is acknowledged: `on_fatal` is called once with the error (the
// daemon logs it and exits non-zero), the pending `done` callbacks are never run and no job
// starts after the failure is seen.
//
// Each answered job's time is split into five stages, summed over all jobs (stage_totals, for
// the metrics): queue (submitted until its `run` began), apply (its `run`), commit wait (its
// `run` ended until the sync covering it began: the rest of its group ran and the previous sync
// finished), sync (that sync) and handoff (the sync ended until its `done` began).
//
// Thread-safety: Submit may be called from any thread. run and tick run on the sequencer
// thread; sync, on_fatal and deliver on the committer thread, done there too unless a deliver
// function passes it on. `done` must not touch coordination state (it only sends what `run`
// prepared).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"

namespace coordinated::scheduler {

class Sequencer {
 public:
  using Clock = std::chrono::steady_clock;
  using SyncFn = std::function<Status()>;
  using TickFn = std::function<double()>;
  using FatalFn = std::function<void(const Status&)>;

  // A synced group's `done` callbacks, as the committer hands them to a deliver function.
  class Group {
   public:
    Group() = default;
    Group(Group&&) noexcept = default;
    Group& operator=(Group&&) noexcept = default;
    // Runs the callbacks in order on the calling thread, timing each one's handoff. Once: the
    // group is empty afterwards.
    void Run();
    size_t size() const { return dones_.size(); }

   private:
    friend class Sequencer;
    std::vector<std::function<void()>> dones_;
    Clock::time_point synced_{};
    Sequencer* owner_ = nullptr;
  };
  // Takes a synced group; must Run it exactly once (on any thread).
  using DeliverFn = std::function<void(Group&& group)>;

  // Seconds spent in each stage (see above), summed over the `jobs` answered so far. Each
  // figure only grows; a group's jobs are counted once all their `done` callbacks have run,
  // its first four stages as soon as it is synced (so between the two, the sums run ahead).
  struct StageTotals {
    uint64_t jobs = 0;
    double queue = 0, apply = 0, commit_wait = 0, sync = 0, handoff = 0;
  };

  Sequencer(SyncFn sync, TickFn tick, FatalFn on_fatal);
  ~Sequencer();
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  // By default the committer runs a group's `done` callbacks itself. With `deliver` (set
  // before Start) it hands the whole group over instead: the daemon posts it to its network
  // threads as one handler, so a group of N replies wakes them once rather than N times.
  void SetDeliver(DeliverFn deliver) { deliver_ = std::move(deliver); }

  void Start();
  // Runs every job already submitted, syncs, answers them (with a deliver function: hands
  // their callbacks to it), then stops both threads. Jobs submitted later are dropped.
  void Stop();

  // Queues a job. Returns false (and drops it) once Stop has begun or a sync has failed: the
  // caller must answer for it itself.
  [[nodiscard]] bool Submit(std::function<void()> run, std::function<void()> done);

  // Number of syncs that released replies so far (for metrics and tests).
  uint64_t groups() const { return groups_; }
  StageTotals stage_totals() const;

 private:
  struct Job {
    std::function<void()> run;
    std::function<void()> done;
    Clock::time_point submitted;
  };
  // An applied job waiting for its sync, with the times its first stages ended.
  struct Applied {
    std::function<void()> done;
    Clock::time_point submitted, started, finished;
  };
  // A stage's sum in nanoseconds (StageTotals gives seconds). Added to once per group.
  struct Stage {
    std::atomic<uint64_t> nanos{0};
    void Add(Clock::duration d) {
      nanos.fetch_add(static_cast<uint64_t>(std::max<int64_t>(
                          0, std::chrono::duration_cast<std::chrono::nanoseconds>(d).count())),
                      std::memory_order_relaxed);
    }
  };
  // On a cache line of their own: the committer and the network threads add to them, and no
  // hot field of the sequencer should move with them.
  struct alignas(64) Stages {
    Stage queue, apply, commit_wait, sync, handoff;
    std::atomic<uint64_t> answered{0};
  };
  void Loop();       // the sequencer thread
  void Committer();  // the committer thread

  SyncFn sync_;
  TickFn tick_;
  FatalFn on_fatal_;
  DeliverFn deliver_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_

  // Applied groups waiting for their sync, in order.
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  std::vector<Applied> to_commit_;  // guarded by commit_mu_
  bool commit_wanted_ = false;      // a sync is owed even with no callbacks (guarded)
  bool loop_finished_ = false;      // the sequencer thread has exited (guarded by commit_mu_)

  std::atomic<bool> failed_{false};
  std::thread thread_;
  std::thread committer_;
  std::atomic<uint64_t> groups_{0};
  Stages stages_;
};

}  // namespace coordinated::scheduler
