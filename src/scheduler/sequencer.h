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
// Thread-safety: Submit may be called from any thread. run and tick run on the sequencer
// thread; sync, on_fatal and deliver on the committer thread, done there too unless a deliver
// function passes it on. `done` must not touch coordination state (it only sends what `run`
// prepared).
#pragma once

#include <atomic>
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
  using SyncFn = std::function<Status()>;
  using TickFn = std::function<double()>;
  using FatalFn = std::function<void(const Status&)>;
  // Takes a synced group's `done` callbacks; must run each exactly once, in order.
  using DeliverFn = std::function<void(std::vector<std::function<void()>>&& dones)>;

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

 private:
  struct Job {
    std::function<void()> run;
    std::function<void()> done;
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
  std::vector<std::function<void()>> to_commit_;  // guarded by commit_mu_
  bool commit_wanted_ = false;                    // a sync is owed even with no callbacks (guarded)
  bool loop_finished_ = false;  // the sequencer thread has exited (guarded by commit_mu_)

  std::atomic<bool> failed_{false};
  std::thread thread_;
  std::thread committer_;
  std::atomic<uint64_t> groups_{0};
};

}  // namespace coordinated::scheduler
