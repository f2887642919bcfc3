// The typed C++ API (coordinate::Api) and the worker helper (coordinate::Worker) against the
// real daemon: every typed method at least once with checked results, in-band failures as
// Status codes, pipelines parsed with the Api parsers, and the worker loop (finish, fail with a
// traceback, lease renewal while a callback outlives its lease).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "coordinate/api.h"
#include "coordinate/worker.h"
#include "harness.h"

namespace coordtest {
namespace {

using coordinate::Api;
using coordinate::ClientOptions;
using coordinated::Code;

class ClientApiTest : public testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<Daemon>(dir_.path());
    ASSERT_TRUE(daemon_->Start().ok());
    client_ = daemon_->NewClient();
    api_ = std::make_unique<Api>(*client_);
  }

  ClientOptions Options() const {
    ClientOptions o;
    o.address = daemon_->address();
    o.retries = 0;
    o.timeout_seconds = 30;
    return o;
  }

  Status AddSpec(std::string_view name) { return api_->SetWorkSpec(M({{"name", B(name)}})); }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<Api> api_;
};

TEST_F(ClientApiTest, WorkSpecs) {
  Api& api = *api_;
  ASSERT_TRUE(AddSpec("a").ok());
  ASSERT_TRUE(api.SetWorkSpec(M({{"name", B("b")}, {"weight", I(7)}})).ok());
  EXPECT_EQ(api.SetWorkSpec(I(3)).code(), Code::kInvalidArgument);

  auto got = api.GetWorkSpec(B("b"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(*(*got)->FindKey("weight"), I(7));
  auto missing = api.GetWorkSpec(B("zz"));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  coordinate::ListWorkSpecsOptions lo;
  lo.limit = 1;
  auto list = api.ListWorkSpecs(lo);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->definitions.size(), 1u);
  EXPECT_EQ(*list->definitions[0].FindKey("name"), B("a"));
  EXPECT_EQ(list->next, B("b"));
  lo.start = B("b");
  lo.limit = 10;
  list = api.ListWorkSpecs(lo);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->definitions.size(), 1u);
  EXPECT_TRUE(list->next.is_null());

  coordinate::ControlOptions co;
  co.weight = 5;
  co.max_running = 3;
  EXPECT_TRUE(api.ControlWorkSpec(B("a"), co).ok());
  EXPECT_EQ(api.ControlWorkSpec(B("zz"), co).code(), Code::kNotFound);
  coordinate::ControlOptions cont;
  cont.continuous = true;
  Status s = api.ControlWorkSpec(B("a"), cont);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("continuous"), std::string::npos) << s.message();

  auto meta = api.GetWorkSpecMeta(B("a"));
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(meta->weight, 5);
  EXPECT_EQ(meta->max_running, 3);
  EXPECT_FALSE(meta->continuous);
  EXPECT_TRUE(meta->raw.is_map());
  auto meta_missing = api.GetWorkSpecMeta(B("zz"));
  EXPECT_EQ(meta_missing.status().code(), Code::kNotFound);
  EXPECT_NE(meta_missing.status().message().find("no such work spec"), std::string::npos);

  EXPECT_TRUE(api.DelWorkSpec(B("b")).ok());
  Status del = api.DelWorkSpec(B("b"));
  EXPECT_EQ(del.code(), Code::kNotFound);
  EXPECT_NE(del.message().find("no such work_spec"), std::string::npos) << del.message();

  auto cleared = api.Clear();
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(*cleared, 1u);
  auto after = api.ListWorkSpecs();
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->definitions.empty());
}

TEST_F(ClientApiTest, WorkUnits) {
  Api& api = *api_;
  ASSERT_TRUE(AddSpec("s").ok());
  std::vector<coordinate::WorkUnitItem> items;
  items.emplace_back(B("k1"), M({{"x", I(1)}}));
  items.emplace_back(B("k2"));
  items.back().priority = 10;
  items.emplace_back(B("k3"));
  items.back().delay = 100000;
  ASSERT_TRUE(api.AddWorkUnits(B("s"), items).ok());
  EXPECT_EQ(api.AddWorkUnits(B("nope"), items).code(), Code::kNotFound);

  auto units = api.GetWorkUnits(B("s"));
  ASSERT_TRUE(units.ok()) << units.status().ToString();
  ASSERT_EQ(units->size(), 3u);
  EXPECT_EQ((*units)[0].first, B("k1"));
  EXPECT_EQ((*units)[0].second, M({{"x", I(1)}}));
  coordinate::GetWorkUnitsOptions guo;
  guo.work_unit_keys = {B("k2")};
  units = api.GetWorkUnits(B("s"), guo);
  ASSERT_TRUE(units.ok());
  ASSERT_EQ(units->size(), 1u);
  guo = {};
  guo.start = B("k2");
  guo.limit = 1;
  units = api.GetWorkUnits(B("s"), guo);
  ASSERT_TRUE(units.ok());
  ASSERT_EQ(units->size(), 1u);
  EXPECT_EQ((*units)[0].first, B("k2"));

  // Highest priority first; the delayed unit is not handed out.
  coordinate::PrioritizeOptions po;
  po.adjustment = 5;
  ASSERT_TRUE(api.PrioritizeWorkUnits(B("s"), {B("k2")}, po).ok());
  EXPECT_FALSE(api.PrioritizeWorkUnits(B("s"), {}, po).ok());
  coordinate::GetWorkOptions go;
  go.max_jobs = 5;
  go.lease_time = 100;
  auto leases = api.GetWork(B("w1"), go);
  ASSERT_TRUE(leases.ok()) << leases.status().ToString();
  ASSERT_EQ(leases->size(), 2u);
  EXPECT_EQ((*leases)[0].spec, B("s"));
  EXPECT_EQ((*leases)[0].key, B("k2"));
  EXPECT_EQ((*leases)[1].key, B("k1"));
  EXPECT_EQ((*leases)[1].data, M({{"x", I(1)}}));
  go.max_jobs = 1;
  auto none = api.GetWork(B("w1"), go);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto st = api.GetWorkUnitStatus(B("s"), {B("k1"), B("k3"), B("missing")});
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_EQ(st->size(), 3u);
  ASSERT_TRUE((*st)[0].has_value());
  EXPECT_EQ((*st)[0]->status, coordinate::kPending);
  ASSERT_TRUE((*st)[0]->expiration.has_value());
  ASSERT_TRUE((*st)[0]->worker_id.has_value());
  EXPECT_EQ(*(*st)[0]->worker_id, B("w1"));
  ASSERT_TRUE((*st)[1].has_value());
  EXPECT_EQ((*st)[1]->status, coordinate::kAvailable);
  EXPECT_FALSE((*st)[2].has_value());

  coordinate::UpdateOptions uo;
  uo.status = coordinate::kFinished;
  uo.data = M({{"done", Bool(true)}});
  ASSERT_TRUE(api.UpdateWorkUnit(B("s"), B("k1"), uo).ok());
  coordinate::UpdateOptions fail;
  fail.status = coordinate::kFailed;
  fail.data = M({{"traceback", B("tb")}});
  ASSERT_TRUE(api.UpdateWorkUnit(B("s"), B("k2"), fail).ok());
  EXPECT_EQ(api.UpdateWorkUnit(B("s"), B("k1"), coordinate::UpdateOptions()).code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(api.UpdateWorkUnit(B("s"), B("zz"), uo).code(), Code::kNotFound);

  st = api.GetWorkUnitStatus(B("s"), {B("k2")});
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE((*st)[0].has_value());
  EXPECT_EQ((*st)[0]->status, coordinate::kFailed);
  ASSERT_TRUE((*st)[0]->traceback.has_value());
  EXPECT_EQ(*(*st)[0]->traceback, B("tb"));

  auto attempts = api.GetWorkUnitAttempts(B("s"), B("k1"));
  ASSERT_TRUE(attempts.ok()) << attempts.status().ToString();
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].worker_id, B("w1"));
  EXPECT_EQ((*attempts)[0].status, "finished");
  EXPECT_TRUE((*attempts)[0].end.has_value());
  EXPECT_GT((*attempts)[0].expires, (*attempts)[0].start);
  EXPECT_FALSE(api.GetWorkUnitAttempts(B("s"), B("zz")).ok());

  auto counts = api.CountWorkUnits(B("s"));
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ((*counts)[coordinate::kAvailable], 1u);
  EXPECT_EQ((*counts)[coordinate::kFinished], 1u);
  EXPECT_EQ((*counts)[coordinate::kFailed], 1u);
  EXPECT_FALSE(api.CountWorkUnits(B("nope")).ok());

  EXPECT_TRUE(api.Archive({B("s")}).ok());
  EXPECT_TRUE(api.Archive().ok());
  counts = api.CountWorkUnits(B("s"));
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[coordinate::kFinished], 1u);  // archived units are counted

  coordinate::DelWorkUnitsOptions dopt;
  dopt.work_unit_keys = {B("k3")};
  auto deleted = api.DelWorkUnits(B("s"), dopt);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 1u);
  auto no_opts = api.DelWorkUnits(B("s"), coordinate::DelWorkUnitsOptions());
  EXPECT_EQ(no_opts.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(no_opts.status().message().find("no usable options"), std::string::npos);
  coordinate::DelWorkUnitsOptions all;
  all.all = true;
  deleted = api.DelWorkUnits(B("s"), all);
  ASSERT_TRUE(deleted.ok());
}

TEST_F(ClientApiTest, WorkersAndMode) {
  Api& api = *api_;
  auto note = api.WorkerHeartbeat(B("parent"), "RUN", 600, M({{"host", B("h")}}));
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  EXPECT_EQ(*note, "");
  note = api.WorkerHeartbeat(B("odd"), "IDLE", -1);
  ASSERT_TRUE(note.ok());
  EXPECT_FALSE(note->empty());
  ASSERT_TRUE(api.WorkerHeartbeat(B("child"), "RUN", 600, Value::Map(), B("parent")).ok());

  auto modes = api.ListWorkerModes();
  ASSERT_TRUE(modes.ok()) << modes.status().ToString();
  EXPECT_EQ(modes->size(), 3u);
  auto info = api.GetWorkerInfo(B("parent"));
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(info->has_value());
  EXPECT_EQ(*(*info)->FindKey("host"), B("h"));
  auto unknown = api.GetWorkerInfo(B("nobody"));
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());

  auto counts = api.ModeCounts();
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  uint64_t total = 0;
  for (const auto& [mode, n] : *counts) total += n;
  EXPECT_EQ(total, 3u);
  auto stats = api.WorkerStats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->num_workers, 3u);
  EXPECT_EQ(stats->num_children, 1u);

  ASSERT_TRUE(AddSpec("s").ok());
  ASSERT_TRUE(api.AddWorkUnits(B("s"), {coordinate::WorkUnitItem(B("u"))}).ok());
  auto leases = api.GetWork(B("child"));
  ASSERT_TRUE(leases.ok());
  ASSERT_EQ(leases->size(), 1u);
  auto children = api.GetChildWorkUnits(B("parent"));
  ASSERT_TRUE(children.ok()) << children.status().ToString();
  ASSERT_EQ(children->size(), 1u);
  EXPECT_EQ((*children)[0].first, B("child"));
  ASSERT_EQ((*children)[0].second.size(), 1u);
  EXPECT_EQ((*children)[0].second[0].work_unit_key, B("u"));
  EXPECT_EQ((*children)[0].second[0].work_spec_name, B("s"));

  EXPECT_TRUE(api.WorkerUnregister(B("odd")).ok());
  EXPECT_EQ(api.WorkerUnregister(B("odd")).code(), Code::kNotFound);

  auto mode = api.GetMode();
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, "RUN");
  ASSERT_TRUE(api.SetMode("IDLE").ok());
  mode = api.GetMode();
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, "IDLE");
  EXPECT_EQ(api.SetMode("BOGUS").code(), Code::kFailedPrecondition);
  ASSERT_TRUE(api.SetMode("RUN").ok());
}

TEST_F(ClientApiTest, Dependencies) {
  Api& api = *api_;
  ASSERT_TRUE(AddSpec("s").ok());
  ASSERT_TRUE(api.AddDependentWorkUnits(coordinate::UnitRef(B("s"), B("later")),
                                        coordinate::UnitRef(B("s"), B("earlier"), M({})))
                  .ok());
  auto st = api.GetWorkUnitStatus(B("s"), {B("later"), B("earlier")});
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE((*st)[0].has_value());
  EXPECT_EQ((*st)[0]->status, coordinate::kBlocked);
  ASSERT_EQ((*st)[0]->depends_on.size(), 1u);
  EXPECT_EQ((*st)[0]->depends_on[0].second, B("earlier"));
  EXPECT_EQ((*st)[1]->status, coordinate::kAvailable);
  Status cycle = api.AddDependentWorkUnits(coordinate::UnitRef(B("s"), B("earlier")),
                                           coordinate::UnitRef(B("s"), B("later")), false);
  EXPECT_EQ(cycle.code(), Code::kFailedPrecondition) << cycle.ToString();
  EXPECT_FALSE(api.AddDependentWorkUnits(coordinate::UnitRef(B("nope"), B("a")),
                                         coordinate::UnitRef(B("s"), B("b")))
                   .ok());
}

TEST_F(ClientApiTest, Locks) {
  Api& api = *api_;
  const Value p1 = A({B("ns"), B("a")});
  const Value p2 = A({B("ns"), B("b")});
  ASSERT_TRUE(api.Lock(B("me"), 0, {p1}).ok());
  Status busy = api.Lock(B("you"), 10, {p1});
  EXPECT_EQ(busy.code(), Code::kFailedPrecondition);
  EXPECT_NE(busy.message().find("not lockable"), std::string::npos) << busy.message();

  auto some = api.LockSome(B("you"), 10, {p1, p2});
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  ASSERT_EQ(some->size(), 2u);
  EXPECT_FALSE((*some)[0].has_value());
  ASSERT_TRUE((*some)[1].has_value());
  EXPECT_EQ(*(*some)[1], p2);
  auto none = api.LockSome(B("you"), 10, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto owners = api.ReadLock({p1, p2, A({B("free")})});
  ASSERT_TRUE(owners.ok()) << owners.status().ToString();
  ASSERT_EQ(owners->size(), 3u);
  EXPECT_EQ(*(*owners)[0], B("me"));
  EXPECT_EQ(*(*owners)[1], B("you"));
  EXPECT_FALSE((*owners)[2].has_value());

  EXPECT_TRUE(api.Renew(B("me"), 100, {p1}).ok());
  EXPECT_EQ(api.Renew(B("me"), 100, {p2}).code(), Code::kFailedPrecondition);

  auto locks = api.ListLocks();
  ASSERT_TRUE(locks.ok()) << locks.status().ToString();
  ASSERT_EQ(locks->size(), 2u);
  for (const auto& l : *locks) EXPECT_GT(l.deadline, 0);

  EXPECT_TRUE(api.Unlock(B("me"), {p1}).ok());
  EXPECT_EQ(api.Unlock(B("me"), {p1}).code(), Code::kFailedPrecondition);
  EXPECT_TRUE(api.DeleteNamespace(B("ns")).ok());
  locks = api.ListLocks();
  ASSERT_TRUE(locks.ok());
  EXPECT_TRUE(locks->empty());
}

TEST_F(ClientApiTest, Misc) {
  Api& api = *api_;
  auto now = api.Now();
  ASSERT_TRUE(now.ok());
  EXPECT_GT(*now, 1e9);
  auto config = api.GetConfig();
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->is_map());
  auto problems = api.Check();
  ASSERT_TRUE(problems.ok()) << problems.status().ToString();
  EXPECT_TRUE(problems->empty());
  TempDir backups;
  const std::string target = backups.path() + "/b1";
  EXPECT_TRUE(api.Backup(target).ok());
  EXPECT_FALSE(api.Backup(target).ok());  // must not exist
}

TEST_F(ClientApiTest, PipelineAndBatchResultsParse) {
  ASSERT_TRUE(AddSpec("s").ok());
  auto results = client_->Pipeline({{"del_work_spec", A({B("nope")})},
                                    {"get_work", A({B("w"), M({{"max_jobs", I(1)}})})},
                                    {"no_such_method", A()}});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(Api::ParseOk(results[0]).code(), Code::kNotFound);
  auto leases = Api::ParseLeases(results[1], 1);
  ASSERT_TRUE(leases.ok());
  EXPECT_TRUE(leases->empty());
  EXPECT_EQ(results[2].status().code(), Code::kNoSuchMethod);
  auto batch = client_->Batch(
      {{"set_work_spec", A({M({{"name", B("t")}})})}, {"get_work_spec_meta", A({B("t")})}});
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_TRUE(Api::ParseOk(batch[0]).ok());
  auto meta = Api::ParseFirst(batch[1]);
  ASSERT_TRUE(meta.ok());
  EXPECT_TRUE(meta->is_map());
}

// ---- the worker helper ------------------------------------------------------------------------

TEST_F(ClientApiTest, WorkerFinishesFiftyUnitsAndFailsWithTraceback) {
  Api& api = *api_;
  ASSERT_TRUE(AddSpec("jobs").ok());
  std::vector<coordinate::WorkUnitItem> items;
  for (int i = 0; i < 50; ++i) items.emplace_back(B("u" + std::to_string(i)), M({{"n", I(i)}}));
  items.emplace_back(B("bad"), Value::Map());
  items.emplace_back(B("throws"), Value::Map());
  ASSERT_TRUE(api.AddWorkUnits(B("jobs"), items).ok());

  coordinate::WorkerOptions wo;
  wo.worker_id = B("helper-worker");
  wo.work_spec_names = {B("jobs")};
  wo.lease_seconds = 60;
  wo.max_jobs = 4;
  wo.idle_sleep_seconds = 0.05;
  coordinate::Worker worker(Options(), wo);
  std::atomic<bool> stop{false};
  std::atomic<int> calls{0};
  Status run_status;
  std::thread runner([&] {
    run_status = worker.Run(
        [&](const coordinate::Lease& lease, Value* data) -> Status {
          ++calls;
          if (lease.key == B("bad")) return Status::InvalidArgument("boom on bad");
          if (lease.key == B("throws")) throw std::runtime_error("kaboom");
          const Value* n = data->FindKey("n");
          if (!n) return Status::Internal("no n");
          data->Set(B("result"), I(*n->AsInt64() * 2));
          return Status::Ok();
        },
        stop);
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto counts = api.CountWorkUnits(B("jobs"));
    ASSERT_TRUE(counts.ok());
    if ((*counts)[coordinate::kFinished] + (*counts)[coordinate::kFailed] == 52) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  runner.join();
  EXPECT_TRUE(run_status.ok()) << run_status.ToString();
  EXPECT_EQ(calls.load(), 52);

  auto counts = api.CountWorkUnits(B("jobs"));
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[coordinate::kFinished], 50u);
  EXPECT_EQ((*counts)[coordinate::kFailed], 2u);
  EXPECT_EQ(worker.counters().finished, 50u);
  EXPECT_EQ(worker.counters().failed, 2u);

  coordinate::GetWorkUnitsOptions guo;
  guo.work_unit_keys = {B("u7")};
  auto units = api.GetWorkUnits(B("jobs"), guo);
  ASSERT_TRUE(units.ok());
  ASSERT_EQ(units->size(), 1u);
  EXPECT_EQ(*(*units)[0].second.FindKey("result"), I(14));

  auto st = api.GetWorkUnitStatus(B("jobs"), {B("bad"), B("throws")});
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE((*st)[0].has_value() && (*st)[0]->traceback.has_value());
  EXPECT_EQ((*st)[0]->status, coordinate::kFailed);
  EXPECT_NE((*st)[0]->traceback->str().find("boom on bad"), std::string::npos);
  EXPECT_NE((*st)[0]->traceback->str().find("InvalidArgument"), std::string::npos);
  ASSERT_TRUE((*st)[1].has_value() && (*st)[1]->traceback.has_value());
  EXPECT_NE((*st)[1]->traceback->str().find("kaboom"), std::string::npos);

  // Run() unregistered the worker.
  auto info = api.GetWorkerInfo(B("helper-worker"));
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->has_value());
}

TEST_F(ClientApiTest, WorkerRenewsLeaseWhileCallbackRuns) {
  Api& api = *api_;
  ASSERT_TRUE(AddSpec("slow").ok());
  ASSERT_TRUE(api.AddWorkUnits(B("slow"), {coordinate::WorkUnitItem(B("long"))}).ok());

  coordinate::WorkerOptions wo;
  wo.worker_id = B("slow-worker");
  wo.lease_seconds = 2;
  coordinate::Worker worker(Options(), wo);

  // A rival worker asks for work the whole time; it must never get the unit.
  std::atomic<bool> done{false}, leased{false};
  std::atomic<int> stolen{0}, polls{0};
  std::thread rival([&] {
    auto c = daemon_->NewClient();
    Api rival_api(*c);
    coordinate::GetWorkOptions go;
    go.lease_time = 2;
    while (!leased && !done) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    while (!done) {
      auto got = rival_api.GetWork(B("rival"), go);
      if (got.ok()) {
        ++polls;
        stolen += static_cast<int>(got->size());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  auto n = worker.RunOnce([&](const coordinate::Lease&, Value* data) -> Status {
    leased = true;
    std::this_thread::sleep_for(std::chrono::seconds(3));
    data->Set(B("slept"), Bool(true));
    return Status::Ok();
  });
  done = true;
  rival.join();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(stolen.load(), 0);
  EXPECT_GT(polls.load(), 10);
  EXPECT_GE(worker.counters().renewals, 2u);
  EXPECT_EQ(worker.counters().renewal_errors, 0u);

  auto st = api.GetWorkUnitStatus(B("slow"), {B("long")});
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE((*st)[0].has_value());
  EXPECT_EQ((*st)[0]->status, coordinate::kFinished);
  auto attempts = api.GetWorkUnitAttempts(B("slow"), B("long"));
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].worker_id, B("slow-worker"));
  EXPECT_EQ((*attempts)[0].status, "finished");
  auto units = api.GetWorkUnits(B("slow"));
  ASSERT_TRUE(units.ok());
  ASSERT_EQ(units->size(), 1u);
  EXPECT_EQ(*(*units)[0].second.FindKey("slept"), Bool(true));
}

}  // namespace
}  // namespace coordtest
