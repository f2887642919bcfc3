// Unit tests for the Sequencer (src/scheduler/sequencer.h): jobs run in submission order on one
// thread, replies (done callbacks) go out only after the group's sync, a failed sync is fatal and
// acknowledges nothing more, Stop drains what was submitted, and concurrent submitters share syncs.
#include "scheduler/sequencer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace coordinated::scheduler {
namespace {

using namespace std::chrono_literals;

// A thread-safe event log: "run3", "sync", "done3", ...
class Log {
 public:
  void Add(std::string e) {
    std::lock_guard<std::mutex> l(mu_);
    events_.push_back(std::move(e));
    cv_.notify_all();
  }
  std::vector<std::string> Events() {
    std::lock_guard<std::mutex> l(mu_);
    return events_;
  }
  size_t Count(const std::string& prefix) {
    std::lock_guard<std::mutex> l(mu_);
    size_t n = 0;
    for (const auto& e : events_) n += e.rfind(prefix, 0) == 0;
    return n;
  }
  // Waits (up to 5 s) until `n` events start with `prefix`.
  bool WaitFor(const std::string& prefix, size_t n) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, 5s, [&] {
      size_t c = 0;
      for (const auto& e : events_) c += e.rfind(prefix, 0) == 0;
      return c >= n;
    });
  }
  ptrdiff_t IndexOf(const std::string& e) {
    std::lock_guard<std::mutex> l(mu_);
    for (size_t i = 0; i < events_.size(); ++i) {
      if (events_[i] == e) return static_cast<ptrdiff_t>(i);
    }
    return -1;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
};

// Submit, expecting the job to be accepted.
void Submit(Sequencer& seq, std::function<void()> run, std::function<void()> done) {
  EXPECT_TRUE(seq.Submit(std::move(run), std::move(done)));
}

TEST(SequencerTest, JobsRunInSubmissionOrderAndDoneFollowsSync) {
  Log log;
  Sequencer seq(
      [&] {
        log.Add("sync");
        return Status::Ok();
      },
      nullptr, [&](const Status&) { log.Add("fatal"); });
  seq.Start();
  constexpr int kJobs = 200;
  for (int i = 0; i < kJobs; ++i) {
    Submit(
        seq, [&, i] { log.Add("run" + std::to_string(i)); },
        [&, i] { log.Add("done" + std::to_string(i)); });
  }
  ASSERT_TRUE(log.WaitFor("done", kJobs));
  seq.Stop();
  // Runs in order.
  ptrdiff_t prev = -1;
  for (int i = 0; i < kJobs; ++i) {
    const ptrdiff_t at = log.IndexOf("run" + std::to_string(i));
    ASSERT_GT(at, prev) << "run" << i << " out of order";
    prev = at;
  }
  // Every done comes after its run and after a sync that came after its run.
  const auto events = log.Events();
  for (int i = 0; i < kJobs; ++i) {
    const ptrdiff_t run = log.IndexOf("run" + std::to_string(i));
    const ptrdiff_t done = log.IndexOf("done" + std::to_string(i));
    ASSERT_GT(done, run);
    bool synced = false;
    for (ptrdiff_t k = run + 1; k < done; ++k) synced |= events[static_cast<size_t>(k)] == "sync";
    EXPECT_TRUE(synced) << "done" << i << " went out before a sync";
  }
  EXPECT_EQ(log.Count("fatal"), 0u);
  EXPECT_GE(seq.groups(), 1u);
}

// With a deliver function, the committer hands each synced group's callbacks over as one
// list, in submission order, after the group's sync; it runs none of them itself.
TEST(SequencerTest, DeliverReceivesEachSyncedGroupWhole) {
  Log log;
  std::mutex mu;
  std::vector<Sequencer::Group> groups;  // guarded by mu
  Sequencer seq(
      [&] {
        log.Add("sync");
        return Status::Ok();
      },
      nullptr, [&](const Status&) { log.Add("fatal"); });
  seq.SetDeliver([&](Sequencer::Group&& group) {
    log.Add("deliver" + std::to_string(group.size()));
    std::lock_guard<std::mutex> l(mu);
    groups.push_back(std::move(group));
  });
  seq.Start();
  constexpr int kJobs = 300;
  for (int i = 0; i < kJobs; ++i) {
    Submit(
        seq, [&, i] { log.Add("run" + std::to_string(i)); },
        [&, i] { log.Add("done" + std::to_string(i)); });
  }
  seq.Stop();
  EXPECT_EQ(log.Count("done"), 0u) << "the committer ran callbacks it had handed over";
  // Every delivery follows a sync; the groups hold every job once, in order.
  const auto events = log.Events();
  bool synced = false;
  for (const auto& e : events) {
    if (e == "sync") synced = true;
    if (e.rfind("deliver", 0) == 0) {
      EXPECT_TRUE(synced) << "a group was delivered before its sync";
      synced = false;
    }
  }
  std::lock_guard<std::mutex> l(mu);
  for (auto& g : groups) {
    EXPECT_GT(g.size(), 0u);
    g.Run();
    EXPECT_EQ(g.size(), 0u) << "a group runs once";
  }
  for (int i = 0; i < kJobs; ++i) {
    EXPECT_EQ(log.IndexOf("done" + std::to_string(i)) - log.IndexOf("done0"), i);
  }
  EXPECT_EQ(log.Count("fatal"), 0u);
}

// Jobs and ticks run on one thread (the state thread); syncs and replies on another (the
// committer), never on the submitter's.
TEST(SequencerTest, JobsAndTicksShareOneThreadSyncsAndRepliesAnother) {
  std::mutex mu;
  std::vector<std::thread::id> state_ids, commit_ids;
  auto note = [&](std::vector<std::thread::id>& ids) {
    std::lock_guard<std::mutex> l(mu);
    ids.push_back(std::this_thread::get_id());
  };
  std::atomic<int> done{0};
  Sequencer seq(
      [&] {
        note(commit_ids);
        return Status::Ok();
      },
      [&] {
        note(state_ids);
        return 0.01;
      },
      nullptr);
  seq.Start();
  for (int i = 0; i < 10; ++i)
    Submit(
        seq, [&] { note(state_ids); },
        [&] {
          note(commit_ids);
          ++done;
        });
  for (int i = 0; i < 500 && done < 10; ++i) std::this_thread::sleep_for(2ms);
  seq.Stop();
  ASSERT_EQ(done.load(), 10);
  ASSERT_FALSE(state_ids.empty());
  ASSERT_FALSE(commit_ids.empty());
  for (const auto& id : state_ids) EXPECT_EQ(id, state_ids[0]);
  for (const auto& id : commit_ids) EXPECT_EQ(id, commit_ids[0]);
  EXPECT_NE(state_ids[0], commit_ids[0]);
  EXPECT_NE(state_ids[0], std::this_thread::get_id());
  EXPECT_NE(commit_ids[0], std::this_thread::get_id());
}

// While one group syncs, the next group's jobs already run (the state thread does not wait for
// the disk), but their replies wait for a sync that started after they ran.
TEST(SequencerTest, ApplyingOverlapsTheSyncOfThePreviousGroup) {
  Log log;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> syncs{0};
  Sequencer seq(
      [&] {
        const int n = syncs++;
        log.Add("sync" + std::to_string(n) + "-begin");
        if (n == 0) {
          std::unique_lock<std::mutex> l(mu);
          cv.wait_for(l, 5s, [&] { return release; });
        }
        log.Add("sync" + std::to_string(n) + "-end");
        return Status::Ok();
      },
      nullptr, nullptr);
  seq.Start();
  Submit(
      seq, [&] { log.Add("run0"); }, [&] { log.Add("done0"); });
  ASSERT_TRUE(log.WaitFor("sync0-begin", 1));
  Submit(
      seq, [&] { log.Add("run1"); }, [&] { log.Add("done1"); });
  ASSERT_TRUE(log.WaitFor("run1", 1)) << "the second job must run while the first group syncs";
  EXPECT_EQ(log.Count("done"), 0u) << "no reply before its sync";
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(log.WaitFor("done", 2));
  seq.Stop();
  EXPECT_LT(log.IndexOf("sync0-end"), log.IndexOf("done0"));
  // done1 follows a sync that began after run1.
  const ptrdiff_t run1 = log.IndexOf("run1");
  const ptrdiff_t done1 = log.IndexOf("done1");
  const auto events = log.Events();
  bool covered = false;
  for (ptrdiff_t k = run1 + 1; k < done1; ++k) {
    const std::string& e = events[static_cast<size_t>(k)];
    covered |= e.rfind("sync", 0) == 0 && e.size() > 6 && e.compare(e.size() - 6, 6, "-begin") == 0;
  }
  EXPECT_TRUE(covered) << "done1 went out without a sync that started after run1";
  EXPECT_LT(log.IndexOf("done0"), done1) << "replies keep their order";
}

TEST(SequencerTest, ConcurrentSubmittersShareSyncs) {
  // The first sync blocks until every job has been submitted: the rest form one group.
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> syncs{0}, done{0};
  Sequencer seq(
      [&] {
        if (syncs++ == 0) {
          std::unique_lock<std::mutex> l(mu);
          cv.wait_for(l, 5s, [&] { return release; });
        }
        return Status::Ok();
      },
      nullptr, nullptr);
  seq.Start();
  constexpr int kJobs = 100;
  Submit(
      seq, [] {}, [&] { ++done; });
  std::this_thread::sleep_for(20ms);  // the first group is syncing now
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kJobs / 4; ++i)
        Submit(
            seq, [] {}, [&] { ++done; });
    });
  }
  for (auto& t : threads) t.join();
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
  }
  cv.notify_all();
  for (int i = 0; i < 1000 && done < kJobs + 1; ++i) std::this_thread::sleep_for(2ms);
  seq.Stop();
  EXPECT_EQ(done.load(), kJobs + 1);
  EXPECT_LE(syncs.load(), 4) << "101 jobs submitted during one sync need about two syncs";
}

TEST(SequencerTest, FailedSyncIsFatalAndAcknowledgesNothing) {
  Log log;
  std::atomic<bool> fail{false};
  std::atomic<int> fatal{0};
  Status fatal_status;
  std::mutex fm;
  Sequencer seq(
      [&] {
        log.Add("sync");
        return fail ? Status::IOError("disk gone") : Status::Ok();
      },
      nullptr,
      [&](const Status& s) {
        std::lock_guard<std::mutex> l(fm);
        fatal_status = s;
        ++fatal;
      });
  seq.Start();
  Submit(
      seq, [&] { log.Add("run0"); }, [&] { log.Add("done0"); });
  ASSERT_TRUE(log.WaitFor("done0", 1));
  // Block the sequencer in a job so that the next ones form one group with the failing sync.
  std::mutex gate;
  gate.lock();
  Submit(
      seq,
      [&] {
        std::lock_guard<std::mutex> l(gate);
        log.Add("run1");
      },
      [&] { log.Add("done1"); });
  std::this_thread::sleep_for(20ms);
  Submit(
      seq, [&] { log.Add("run2"); }, [&] { log.Add("done2"); });
  fail = true;
  gate.unlock();
  for (int i = 0; i < 1000 && fatal == 0; ++i) std::this_thread::sleep_for(2ms);
  ASSERT_EQ(fatal.load(), 1);
  {
    std::lock_guard<std::mutex> l(fm);
    EXPECT_EQ(fatal_status.code(), Code::kIOError);
    EXPECT_EQ(fatal_status.message(), "disk gone");
  }
  // Later submissions are refused (the caller answers for them), never run or acknowledged.
  EXPECT_FALSE(seq.Submit([&] { log.Add("run3"); }, [&] { log.Add("done3"); }));
  std::this_thread::sleep_for(50ms);
  seq.Stop();
  EXPECT_EQ(log.Count("done1"), 0u);
  EXPECT_EQ(log.Count("done2"), 0u);
  EXPECT_EQ(log.Count("run3"), 0u);
  EXPECT_EQ(log.Count("done3"), 0u);
  EXPECT_EQ(fatal.load(), 1) << "on_fatal is called once";
}

TEST(SequencerTest, StopDrainsQueuedJobsAndDropsLaterOnes) {
  Log log;
  Sequencer seq(
      [&] {
        log.Add("sync");
        return Status::Ok();
      },
      nullptr, nullptr);
  seq.Start();
  std::mutex gate;
  gate.lock();
  Submit(
      seq,
      [&] {
        std::lock_guard<std::mutex> l(gate);
        log.Add("run0");
      },
      [&] { log.Add("done0"); });
  std::this_thread::sleep_for(20ms);  // job 0 is running and blocked
  for (int i = 1; i <= 20; ++i) {
    Submit(
        seq, [&, i] { log.Add("run" + std::to_string(i)); },
        [&, i] { log.Add("done" + std::to_string(i)); });
  }
  std::thread stopper([&] { seq.Stop(); });
  std::this_thread::sleep_for(20ms);
  gate.unlock();
  stopper.join();
  EXPECT_EQ(log.Count("run"), 21u);
  EXPECT_EQ(log.Count("done"), 21u) << "queued jobs run and are acknowledged before Stop returns";
  // After Stop: refused, so the caller can answer for it.
  EXPECT_FALSE(seq.Submit([&] { log.Add("late"); }, [&] { log.Add("late-done"); }));
  std::this_thread::sleep_for(10ms);
  EXPECT_EQ(log.Count("late"), 0u);
  seq.Stop();  // idempotent
}

TEST(SequencerTest, TickRunsPeriodicallyAtTheRequestedInterval) {
  std::atomic<int> ticks{0};
  Sequencer seq([] { return Status::Ok(); },
                [&] {
                  ++ticks;
                  return 0.005;
                },
                nullptr);
  seq.Start();
  std::this_thread::sleep_for(200ms);
  seq.Stop();
  EXPECT_GE(ticks.load(), 5) << "a 5 ms tick over 200 ms";
  EXPECT_LE(ticks.load(), 200);

  std::atomic<int> slow{0};
  Sequencer lazy([] { return Status::Ok(); },
                 [&] {
                   ++slow;
                   return 10.0;
                 },
                 nullptr);
  lazy.Start();
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i)
    Submit(
        lazy, [] {}, [&] { ++done; });
  for (int i = 0; i < 500 && done < 5; ++i) std::this_thread::sleep_for(2ms);
  lazy.Stop();
  EXPECT_EQ(done.load(), 5);
  EXPECT_EQ(slow.load(), 1) << "jobs do not make the tick run early";
}

// Each answered job's time is split into its stages. The sleeps make lower bounds that hold on
// any machine: one group of four jobs, each running 5 ms, one 20 ms sync, replies taking 3 ms
// each, so job k waits k * 5 ms to start, (3 - k) * 5 ms for the rest of its group, and k * 3 ms
// for the replies before its own. A job without a callback is not counted; neither is a job
// whose sync failed.
TEST(SequencerTest, StageTotalsSplitEachAnsweredJobsTime) {
  Log log;
  std::atomic<bool> fail{false};
  Sequencer seq(
      [&] {
        std::this_thread::sleep_for(20ms);
        return fail ? Status::Internal("disk gone") : Status::Ok();
      },
      nullptr, [&](const Status&) { log.Add("fatal"); });
  const auto begin = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) {  // queued before Start: one group
    Submit(
        seq, [] { std::this_thread::sleep_for(5ms); },
        [&, i] {
          std::this_thread::sleep_for(3ms);
          log.Add("done" + std::to_string(i));
        });
  }
  Submit(
      seq, [] { std::this_thread::sleep_for(5ms); }, nullptr);
  EXPECT_EQ(seq.stage_totals().jobs, 0u);
  seq.Start();
  ASSERT_TRUE(log.WaitFor("done", 4));
  // The group's jobs are counted once its last callback has returned.
  for (int i = 0; i < 500 && seq.stage_totals().jobs < 4; ++i) std::this_thread::sleep_for(10ms);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  Sequencer::StageTotals t = seq.stage_totals();
  EXPECT_EQ(t.jobs, 4u);
  EXPECT_GE(t.queue, (0 + 1 + 2 + 3) * 0.005);
  EXPECT_GE(t.apply, 4 * 0.005);
  EXPECT_GE(t.commit_wait, (3 + 2 + 1 + 0) * 0.005);
  EXPECT_GE(t.sync, 4 * 0.020);
  EXPECT_GE(t.handoff, (0 + 1 + 2 + 3) * 0.003);
  // No job is charged more than the time that passed.
  EXPECT_LE(t.queue + t.apply + t.commit_wait + t.sync + t.handoff, 4 * wall);

  // A failed sync answers nothing, so it adds nothing. (A periodic sync may fail first, and
  // the job is then refused.)
  fail = true;
  (void)seq.Submit([] {}, [&] { log.Add("done-after-failure"); });
  ASSERT_TRUE(log.WaitFor("fatal", 1));
  seq.Stop();
  const Sequencer::StageTotals after = seq.stage_totals();
  EXPECT_EQ(after.jobs, 4u);
  EXPECT_EQ(after.sync, t.sync);
  EXPECT_EQ(log.Count("done-after-failure"), 0u);
}

TEST(SequencerTest, StopWithoutStartAndDestructorStop) {
  {
    Sequencer never(nullptr, nullptr, nullptr);
    never.Stop();
  }
  std::atomic<int> done{0};
  {
    Sequencer seq([] { return Status::Ok(); }, nullptr, nullptr);
    seq.Start();
    for (int i = 0; i < 5; ++i)
      Submit(
          seq, [] {}, [&] { ++done; });
  }  // the destructor stops and drains
  EXPECT_EQ(done.load(), 5);
}

}  // namespace
}  // namespace coordinated::scheduler
