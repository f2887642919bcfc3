// Producers, workers and the admin actor (see workload.h).
#include <fmt/format.h>

#include "workload.h"

namespace crashtest {

using coordinate::B;
using coordinate::I;
using coordinate::M;
using coordinated::Status;
using coordinated::Value;

namespace {
UnitId Unit(const Value& spec, const Value& key) { return UnitId{spec.str(), key.str()}; }
}  // namespace

void RunProducer(const ActorEnv& env, int id, uint64_t seed) {
  Session s(env, fmt::format("producer{}", id), seed);
  auto& rng = s.rng();
  uint64_t n = 0;
  while (!s.stopping()) {
    if (!s.Ready()) {
      s.SleepMs(5, 5);
      continue;
    }
    const uint64_t pick = rng() % 10;
    const std::string spec = pick < 5 ? kMainSpec : pick < 7 ? kPausedSpec : kChainSpec;
    const int count = 1 + static_cast<int>(rng() % 6);
    std::vector<coordinate::WorkUnitItem> items;
    Op op;
    op.type = OpType::kCreate;
    for (int i = 0; i < count; ++i) {
      const std::string key = fmt::format("r{}-p{}-{}", env.round, id, n++);
      coordinate::WorkUnitItem item(B(key), M({{"producer", I(id)}}));
      // Non-positive priorities only: a spec whose best unit has a higher priority would take
      // every grant (scheduling tier 2) and starve the other specs of the workload.
      if (spec != kChainSpec && rng() % 3 == 0) item.priority = -static_cast<double>(rng() % 4);
      items.push_back(std::move(item));
      op.units.push_back(UnitId{spec, key});
      env.pool->Add(spec, key);
    }
    op.creates = op.units;
    s.Run(std::move(op), [&](coordinate::Api& a) { return a.AddWorkUnits(B(spec), items); });
    s.SleepMs(5, 25);
  }
}

void RunWorker(const ActorEnv& env, int id, uint64_t seed) {
  Session s(env, fmt::format("worker{}", id), seed);
  auto& rng = s.rng();
  const std::string wid = fmt::format("w{}", id);
  const double lease = env.options->lease_seconds;
  while (!s.stopping()) {
    if (!s.Ready()) {
      s.SleepMs(5, 5);
      continue;
    }
    coordinate::GetWorkOptions go;
    go.max_jobs = 1 + static_cast<int>(rng() % 3);
    go.lease_time = lease;
    std::vector<UnitId> granted;
    Op op;
    op.type = OpType::kGetWork;
    op.who = wid;
    op.seconds = lease;
    const Outcome o = s.Run(
        std::move(op),
        [&](coordinate::Api& a) -> Status {
          auto r = a.GetWork(B(wid), go);
          if (!r.ok()) return r.status();
          for (const auto& l : *r) granted.push_back(Unit(l.spec, l.key));
          return Status::Ok();
        },
        &granted);
    if (o != Outcome::kOk) continue;
    if (granted.empty()) {
      s.SleepMs(2, 10);
      continue;
    }
    // Half the time the finishes and fails of this grant go out as one batch request, as
    // workers that claim several units report them (the daemon applies such a batch as one
    // write).
    const bool batch_ends = rng() % 2 == 0;
    std::vector<Op> end_ops;
    std::vector<std::pair<std::string, Value>> end_calls;
    for (const UnitId& u : granted) {
      if (s.stopping()) break;
      const uint64_t r = rng() % 100;
      if (r < 25) continue;  // do nothing: the lease lapses
      if (r >= 85) {
        Op renew;
        renew.type = OpType::kRenew;
        renew.units = {u};
        renew.who = wid;
        renew.seconds = lease;
        coordinate::UpdateOptions uo;
        uo.lease_time = lease;
        s.Run(std::move(renew),
              [&](coordinate::Api& a) { return a.UpdateWorkUnit(B(u.spec), B(u.key), uo); });
        s.SleepMs(0, 100);
      }
      s.SleepMs(0, 3);
      const bool fail = r >= 25 && r < 42;
      Op end;
      end.type = fail ? OpType::kFail : OpType::kFinish;
      end.units = {u};
      end.who = wid;
      coordinate::UpdateOptions uo;
      uo.status = fail ? coordinate::kFailed : coordinate::kFinished;
      if (fail) {
        uo.data = M({{"traceback", B("crash test failure")}});
      } else if (u.spec == kChainSpec) {
        // Finishing with output creates the successor unit in the same write.
        const std::string next = ChainedKey(u.key);
        end.creates = {UnitId{kChainNextSpec, next}};
        env.pool->Add(kChainNextSpec, next);
        uo.data = M({{"output", M({{next, Value::Map()}})}});
      } else {
        uo.data = M({{"done_by", B(wid)}});
      }
      if (batch_ends) {
        Value opts = M({{"status", I(*uo.status)}, {"data", *uo.data}});
        end_calls.emplace_back("update_work_unit",
                               coordinate::A({B(u.spec), B(u.key), std::move(opts)}));
        end_ops.push_back(std::move(end));
        continue;
      }
      s.Run(std::move(end),
            [&](coordinate::Api& a) { return a.UpdateWorkUnit(B(u.spec), B(u.key), uo); });
    }
    if (!end_ops.empty()) s.RunBatch(std::move(end_ops), end_calls);
  }
}

void RunAdmin(const ActorEnv& env, uint64_t seed) {
  Session s(env, "admin", seed);
  auto& rng = s.rng();
  const std::vector<std::string> specs = WorkloadSpecs();
  bool pause_next = true;
  while (!s.stopping()) {
    s.SleepMs(5, 25);
    if (!s.Ready()) continue;
    const uint64_t r = rng() % 100;
    if (r < 25) {
      Op op;
      op.type = pause_next ? OpType::kPause : OpType::kResume;
      op.spec = kPausedSpec;
      coordinate::ControlOptions c;
      c.status = pause_next ? 2 : 1;
      s.Run(std::move(op),
            [&](coordinate::Api& a) { return a.ControlWorkSpec(B(kPausedSpec), c); });
      pause_next = !pause_next;
      continue;
    }
    const bool prioritize = r < 50;
    const std::string spec = prioritize ? kMainSpec : specs[rng() % specs.size()];
    const auto keys = env.pool->Pick(spec, 1 + static_cast<int>(rng() % (prioritize ? 4 : 3)), rng);
    if (keys.empty()) continue;
    Op op;
    op.type = prioritize ? OpType::kPrioritize : OpType::kDelete;
    std::vector<Value> key_values;
    for (const auto& k : keys) {
      op.units.push_back(UnitId{spec, k});
      key_values.push_back(B(k));
    }
    if (prioritize) {
      coordinate::PrioritizeOptions p;
      p.priority = -static_cast<double>(rng() % 4);
      s.Run(std::move(op),
            [&](coordinate::Api& a) { return a.PrioritizeWorkUnits(B(spec), key_values, p); });
    } else {
      coordinate::DelWorkUnitsOptions d;
      d.work_unit_keys = key_values;
      s.Run(std::move(op), [&](coordinate::Api& a) { return a.DelWorkUnits(B(spec), d).status(); });
    }
  }
}

}  // namespace crashtest
