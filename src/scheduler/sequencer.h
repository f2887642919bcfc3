// Sequencer: the single thread that owns all coordination state, with group commit.
//
// Every state-touching call is submitted as a job {run, done}. The sequencer thread takes all
// queued jobs, runs each `run` in arrival order (each applies its own atomic write to the store,
// unsynced, so the next job sees it), then calls `sync` once for the whole group (one fsync of
// the write-ahead log) and only then runs every `done` (which sends the replies). While a group
// syncs, new jobs queue up and form the next group: syncs per second stay bounded while calls
// per second grow with concurrency.
//
// Periodic work (lease expiry, archive, worker pruning) runs on the same thread through `tick`,
// which returns the number of seconds until it wants to run again.
//
// If `sync` fails, nothing more is acknowledged: `on_fatal` is called with the error (the daemon
// logs it and exits non-zero) and the pending `done` callbacks are never run.
//
// Thread-safety: Submit may be called from any thread. run/done/tick run on the sequencer thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "common/status.h"

namespace coordinated::scheduler {

class Sequencer {
 public:
  using SyncFn = std::function<Status()>;
  using TickFn = std::function<double()>;
  using FatalFn = std::function<void(const Status&)>;

  Sequencer(SyncFn sync, TickFn tick, FatalFn on_fatal);
  ~Sequencer();
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  void Start();
  // Runs every job already submitted, then stops the thread. Jobs submitted later are dropped.
  void Stop();

  // Queues a job. Returns false (and drops it) once Stop has begun: the caller must answer
  // for it itself.
  [[nodiscard]] bool Submit(std::function<void()> run, std::function<void()> done);

  // Number of groups committed so far (for metrics and tests).
  uint64_t groups() const { return groups_; }

 private:
  struct Job {
    std::function<void()> run;
    std::function<void()> done;
  };
  void Loop();

  SyncFn sync_;
  TickFn tick_;
  FatalFn on_fatal_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  bool failed_ = false;    // sequencer thread only
  std::thread thread_;
  std::atomic<uint64_t> groups_{0};
};

}  // namespace coordinated::scheduler
