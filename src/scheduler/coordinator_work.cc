// Coordinator: handing out work (spec choice, unit choice, leases) and reporting results
// (update_work_unit, chaining).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "common/crash_point.h"
#include "scheduler/coordinator.h"
#include "scheduler/coordinator_txn.h"
#include "storage/keys.h"

namespace coordinated::scheduler {

using storage::Cf;
using storage::UnitRecord;
namespace keys = storage::keys;

namespace {
constexpr double kDefaultLease = 300;  // seconds, the original daemon's default
constexpr double kMaxLease = 86400;    // above this a requested lease is replaced by the default
// Credit is bounded on both sides: within one grant of fair share it evens out grants when
// units finish at once, but it never outweighs the pending counts (a spec whose units finish
// fast must not push a long-running spec's share of workers above its weight).
constexpr double kCreditFloor = -1;
constexpr double kCreditCeiling = 1;
}  // namespace

bool Coordinator::HasWork(SpecState& spec, double now, std::optional<double>* ready) {
  const SpecSettings& s = spec.settings;
  if (s.paused || s.weight <= 0) return false;
  if (s.max_running &&
      static_cast<int64_t>(spec.stats.counts[storage::kPending]) >= *s.max_running) {
    return false;
  }
  if (s.continuous && s.interval && now < spec.stats.next_continuous) return false;
  *ready = BestReady(spec);
  if (*ready) return true;
  return s.continuous && now >= spec.stats.next_continuous;
}

// True when following `then` links from `from` reaches `to`.
static bool Reaches(const std::map<std::string, std::unique_ptr<SpecState>>& specs,
                    const SpecState* from, const SpecState* to) {
  std::set<const SpecState*> seen;
  const SpecState* cur = from;
  while (cur && seen.insert(cur).second) {
    if (!cur->settings.then.is_string()) return false;
    auto it = specs.find(cur->settings.then.str());
    if (it == specs.end()) return false;
    cur = it->second.get();
    if (cur == to) return true;
  }
  return false;
}

SpecState* Coordinator::ChooseSpec(const GetWorkOptions& options, double now) {
  // Tiers 1 and 2 in one pass over the specs, in name order: the candidates are the specs with
  // work whose spec priority is the highest, and among those, whose best available unit's
  // priority (0 when only a continuous run is due) is the highest.
  std::vector<SpecState*> cands;
  int64_t top = INT64_MIN;
  double best = -INFINITY;
  for (SpecState* spec : SpecOrder()) {
    if (options.work_spec_names &&
        std::find(options.work_spec_names->begin(), options.work_spec_names->end(),
                  spec->name_bytes) == options.work_spec_names->end()) {
      continue;
    }
    std::optional<double> ready;
    if (!HasWork(*spec, now, &ready)) continue;
    const int64_t priority = spec->settings.priority;
    const double unit = ready.value_or(0.0);
    if (cands.empty() || priority > top || (priority == top && unit > best)) {
      cands.clear();
      top = priority;
      best = unit;
    } else if (priority < top || unit < best) {
      continue;
    }
    cands.push_back(spec);
  }
  if (cands.empty()) return nullptr;
  // Tier 3: a downstream spec with work preempts its upstream specs (then_preempts). Only a
  // candidate with a `then` link can be preempted.
  const bool chained = std::any_of(cands.begin(), cands.end(),
                                   [](const SpecState* s) { return s->settings.then.is_string(); });
  if (chained && cands.size() > 1) {
    std::set<SpecState*> in(cands.begin(), cands.end());
    std::vector<SpecState*> kept;
    for (SpecState* a : cands) {
      bool preempted = false;
      std::set<const SpecState*> seen{a};
      const SpecState* cur = a;
      while (!preempted && cur->settings.then.is_string()) {
        auto it = specs_.find(cur->settings.then.str());
        if (it == specs_.end()) break;
        SpecState* next = it->second.get();
        if (!seen.insert(next).second) break;
        if (cur->settings.then_preempts && in.count(next) && !Reaches(specs_, next, a)) {
          preempted = true;
        }
        cur = next;
      }
      if (!preempted) kept.push_back(a);
    }
    if (!kept.empty()) cands.swap(kept);
  }
  // Tier 4: weights. Lowest (1 + pending + credit) / weight; ties to the longest-unserved.
  SpecState* chosen = nullptr;
  double chosen_score = INFINITY;
  double total_weight = 0;
  for (auto* s : cands) {
    total_weight += static_cast<double>(s->settings.weight);
    const double score =
        (1.0 + static_cast<double>(s->stats.counts[storage::kPending]) + s->credit) /
        static_cast<double>(s->settings.weight);
    if (!chosen || score < chosen_score - 1e-12 ||
        (std::fabs(score - chosen_score) <= 1e-12 && s->last_grant < chosen->last_grant)) {
      chosen = s;
      chosen_score = score;
    }
  }
  for (auto* s : cands) {
    s->credit =
        std::max(kCreditFloor, s->credit - static_cast<double>(s->settings.weight) / total_weight);
  }
  chosen->credit = std::min(kCreditCeiling, chosen->credit + 1);
  chosen->last_grant = ++grant_seq_;
  return chosen;
}

StatusOr<std::vector<Grant>> Coordinator::GetWork(const Value& worker_id,
                                                  const GetWorkOptions& options) {
  COORD_RETURN_IF_ERROR(ValidateName(worker_id, "worker id", options_.max_name_bytes));
  const double now = clock_->Now();
  double lease = options.lease_time;
  if (!(lease >= 1 && lease <= kMaxLease)) lease = kDefaultLease;
  {
    Txn reap(this);
    ReapAll(reap, now);
    COORD_RETURN_IF_ERROR(reap.Commit());
  }
  std::vector<Grant> out;
  collect_probes_ = true;
  SpecState* spec = ChooseSpec(options, now);
  collect_probes_ = false;
  std::unique_ptr<storage::Iterator> probe;
  for (auto& p : probes_) {
    if (p.spec == spec) probe = std::move(p.it);
  }
  probes_.clear();
  if (!spec) return out;
  int64_t n = std::max<int64_t>(options.max_jobs, 1);
  if (spec->settings.max_getwork && *spec->settings.max_getwork > 0) {
    n = std::min(n, *spec->settings.max_getwork);
  }
  if (spec->settings.max_running) {
    n = std::min(n, *spec->settings.max_running -
                        static_cast<int64_t>(spec->stats.counts[storage::kPending]));
  }
  Txn txn(this);
  auto lease_unit = [&](const std::string& key, const UnitRecord* before, UnitRecord after) {
    after.status = storage::kPending;
    after.worker_id = worker_id;
    after.expiration = now + lease;
    after.lease_start = now;  // the new attempt (number after.attempts) lives in the record
    ++after.attempts;
    ++counters_.granted;
    // The reply's copy of the data is taken first: the record itself moves into the
    // transaction (PutUnit does not change the data or the key's type).
    Grant grant{spec->record.name, after.key_is_text ? Value::Text(key) : Value::Bytes(key),
                after.data};
    PutUnit(txn, *spec, key, before, &after, /*consume_now=*/true);
    txn.batch().Put(Cf::kWorkerUnits, keys::WorkerUnit(worker_id.str(), spec->id, key), "");
    out.push_back(std::move(grant));
  };
  const std::string prefix = keys::Spec(spec->id);
  // The probe (see ReadyProbe) already stands where this seek would land.
  std::unique_ptr<storage::Iterator> it = std::move(probe);
  if (!it) {
    it = store_->NewIterator(Cf::kReady, prefix, keys::PrefixEnd(prefix));
    it->Seek(spec->ready_floor.empty() ? prefix : spec->ready_floor);
  }
  std::string floor;
  std::vector<std::string> taking, unit_keys;
  std::vector<std::optional<std::string>> stored;
  while (it->Valid() && static_cast<int64_t>(out.size()) < n) {
    // The next entries, as many as units are still wanted; their records are read with one
    // MultiGet when there are several (cheaper per key than a Get each; Txn::ReadFetched).
    taking.clear();
    const size_t want = static_cast<size_t>(n - static_cast<int64_t>(out.size()));
    for (; it->Valid() && taking.size() < want; it->Next()) {
      floor.assign(it->key());
      taking.emplace_back(storage::DecodeIndexKey(it->key()).unit_key);
    }
    stored.clear();
    if (taking.size() > 1) {
      unit_keys.clear();
      for (const std::string& key : taking) unit_keys.push_back(keys::Unit(spec->id, key));
      COORD_RETURN_IF_ERROR(store_->MultiGet(Cf::kUnits, unit_keys, &stored));
    }
    for (size_t i = 0; i < taking.size(); ++i) {
      const std::string& key = taking[i];
      // The data only passes into the reply and the record written back: it may stay bytes.
      std::optional<UnitRecord> rec;
      COORD_RETURN_IF_ERROR(txn.ReadFetched(*spec, key, stored.empty() ? nullptr : &stored[i],
                                            storage::UnitData::kMayKeep, &rec));
      if (!rec || rec->status != storage::kAvailable) continue;
      COORD_CRASH_POINT_IF(rec->expiries > 0, "get_work.regrant_expired");
      lease_unit(key, &*rec, *rec);
    }
  }
  COORD_RETURN_IF_ERROR(it->status());
  // Everything before the last entry visited is gone (taken now, or deleted before).
  if (!floor.empty() && (spec->ready_floor.empty() || spec->ready_floor < floor)) {
    spec->ready_floor = std::move(floor);
  }
  if (out.empty() && spec->settings.continuous && now >= spec->stats.next_continuous && n > 0) {
    // Synthesise a unit, keyed by the time as the original did ("<seconds>.<fraction>").
    double t = now;
    std::string key;
    for (int tries = 0; tries < 1000; ++tries, t += 1e-6) {
      key = fmt::format("{:.6f}", t);
      COORD_ASSIGN_OR_RETURN(auto existing, txn.Read(*spec, key));
      if (!existing) break;
    }
    UnitRecord fresh;
    fresh.priority = -1;
    fresh.data = Value::Map();
    lease_unit(key, nullptr, fresh);
  }
  if (!out.empty() && spec->settings.continuous && spec->settings.interval) {
    spec->stats.next_continuous = now + *spec->settings.interval;
    txn.Touch(*spec);
  }
  COORD_RETURN_IF_ERROR(txn.Commit());
  return out;
}

void Coordinator::Chain(Txn& txn, SpecState& spec, const UnitRecord& unit, double now) {
  if (!spec.settings.then.is_string()) return;
  // The finished unit's data may have been kept as its bytes (ApplyUpdate reads it so).
  std::optional<Value> decoded;
  if (unit.data.is_encoded()) decoded = unit.data.Decoded();
  const Value& unit_data = decoded ? *decoded : unit.data;
  if (!unit_data.is_map()) return;
  const Value* output = unit_data.FindKey("output");
  if (!output || !output->Truthy()) return;
  SpecState* next = Find(spec.settings.then);
  if (!next) return;  // as the original: a missing successor is ignored
  std::vector<NewUnit> units;
  auto add = [&](const Value& key, Value data, std::optional<double> priority, double delay) {
    if (!key.is_string() || key.str().size() > options_.max_key_bytes) return;
    units.push_back(NewUnit{key, std::move(data), priority.value_or(unit.priority), delay});
  };
  if (output->is_map()) {
    for (size_t i = 0; i < output->map_size(); ++i) {
      add(output->key_at(i), output->value_at(i), std::nullopt, 0);
    }
  } else if (output->is_sequence()) {
    for (const Value& item : output->items()) {
      if (item.is_string()) {
        add(item, Value::Map(), std::nullopt, 0);
        continue;
      }
      if (!item.is_sequence() || item.items().size() < 2) continue;
      const auto& f = item.items();
      std::optional<double> priority;
      double delay = 0;
      if (f.size() >= 3 && f[2].is_map()) {
        if (const Value* p = f[2].FindKey("priority"); p && p->is_number()) {
          priority = p->AsNumber();
        }
        if (const Value* d = f[2].FindKey("delay"); d && d->is_number()) delay = *d->AsNumber();
      }
      if (f.size() >= 4 && f[3].is_number()) priority = f[3].AsNumber();
      add(f[0], f[1], priority, delay);
    }
  }
  // Errors are ignored, as the original did: the finish itself must not fail.
  COORD_CRASH_POINT_IF(!units.empty(), "coordinator.chain");
  (void)AddUnitsTo(txn, *next, units, now);
}

struct Coordinator::UpdatePlan {
  SpecState* spec = nullptr;
  const Value* key_value = nullptr;  // the key as the caller sent it (text or bytes)
  const std::string* key = nullptr;
  const Value* data = nullptr;    // replaces the unit's data when set
  const Value* worker = nullptr;  // worker_id when given (not null)
  bool has_lease = false;
  bool has_status = false;
  double lease = 0;
  int status = 0;
};

std::optional<StatusOr<std::pair<bool, std::string>>> Coordinator::PlanUpdate(const UnitUpdate& u,
                                                                              UpdatePlan* plan) {
  using Result = StatusOr<std::pair<bool, std::string>>;
  const Value& name = *u.name;
  const Value& key = *u.key;
  const Value& options = *u.options;
  SpecState* spec = Find(name);
  if (!spec) return Result(std::make_pair(false, "no such work_spec " + PyRepr(name)));
  if (!options.is_map()) return Result(Status::InvalidArgument("options must be a map"));
  const Value* lease_v = options.FindKey("lease_time");
  const Value* status_v = options.FindKey("status");
  const Value* worker_v = options.FindKey("worker_id");
  plan->has_lease = lease_v && !lease_v->is_null();
  plan->has_status = status_v && !status_v->is_null();
  if (!plan->has_lease && !plan->has_status) {
    return Result(std::make_pair(false, std::string("nothing to do")));
  }
  if (plan->has_lease) {
    if (!lease_v->is_number())
      return Result(Status::InvalidArgument("lease_time must be a number"));
    plan->lease = *lease_v->AsNumber();
    if (!std::isfinite(plan->lease)) {
      return Result(Status::InvalidArgument("lease_time must be finite"));
    }
    if (plan->lease > kMaxLease) plan->lease = kDefaultLease;
  }
  if (plan->has_status) {
    auto s = status_v->AsInt64();
    if (!s || (*s != storage::kAvailable && *s != storage::kPending && *s != storage::kFinished &&
               *s != storage::kFailed)) {
      return Result(Status::InvalidArgument(
          "status must be 1 (available), 3 (pending), 4 (finished) or 5 (failed), got " +
          status_v->ToDiagnostic()));
    }
    plan->status = static_cast<int>(*s);
  }
  if (!key.is_string()) {
    return Result(Status::InvalidArgument("the work unit key must be a string"));
  }
  if (worker_v && !worker_v->is_null()) {
    if (Status s = ValidateName(*worker_v, "worker id", options_.max_name_bytes); !s.ok()) {
      return Result(s);
    }
    plan->worker = worker_v;
  }
  plan->spec = spec;
  plan->key_value = &key;
  plan->key = &key.str();
  plan->data = options.FindKey("data");
  return std::nullopt;
}

StatusOr<std::pair<bool, std::string>> Coordinator::UpdateWorkUnit(const Value& name,
                                                                   const Value& key,
                                                                   const Value& options) {
  return std::move(UpdateWorkUnits({UnitUpdate{&name, &key, &options}}).front());
}

std::vector<StatusOr<std::pair<bool, std::string>>> Coordinator::UpdateWorkUnits(
    const std::vector<UnitUpdate>& updates) {
  using Result = StatusOr<std::pair<bool, std::string>>;
  std::vector<std::optional<Result>> results(updates.size());
  std::vector<UpdatePlan> plans(updates.size());
  std::vector<SpecState*> specs;  // to reap, in order of first appearance
  for (size_t i = 0; i < updates.size(); ++i) {
    results[i] = PlanUpdate(updates[i], &plans[i]);
    if (!results[i] && std::find(specs.begin(), specs.end(), plans[i].spec) == specs.end()) {
      specs.push_back(plans[i].spec);
    }
  }
  const double now = clock_->Now();
  Status reaped;
  if (!specs.empty()) {
    Txn reap(this);
    for (SpecState* spec : specs) Reap(reap, *spec, now);
    reaped = reap.Commit();
  }
  // Calls applied in the open transaction, answered once it commits.
  std::vector<size_t> open;
  std::optional<Txn> txn;
  // A failed write reloads the coordinator's state (Txn::Commit), which frees every SpecState
  // the plans point at: the calls after it are answered with that failure, untouched.
  Status failed = reaped;
  auto commit = [&] {
    if (!txn) return;
    Status s = txn->Commit();
    for (size_t i : open) {
      // Calls answered (false, message) changed nothing; the others' changes are lost.
      if (!s.ok() && results[i]->ok() && results[i]->value().first) results[i] = Result(s);
    }
    if (!s.ok()) failed = s;
    open.clear();
    txn.reset();
  };
  for (size_t i = 0; i < updates.size(); ++i) {
    if (results[i]) continue;
    if (!failed.ok()) {
      results[i] = Result(failed);
      continue;
    }
    const UpdatePlan& plan = plans[i];
    // An earlier call may have left a lease that is already over (lease_time <= 0): called
    // alone, this call would see it expired first, so it is reaped in a write of its own.
    const bool due = (plan.spec->next_deadline && *plan.spec->next_deadline <= now) ||
                     (plan.spec->next_due && *plan.spec->next_due <= now);
    if (txn && (due || has_dependencies_ || txn->Changed(*plan.spec, *plan.key))) {
      commit();
      if (!failed.ok()) {
        results[i] = Result(failed);
        continue;
      }
    }
    if (due) {
      Txn reap(this);
      Reap(reap, *plan.spec, now);
      if (Status s = reap.Commit(); !s.ok()) {
        results[i] = Result(s);
        failed = s;
        continue;
      }
    }
    if (!txn) txn.emplace(this);
    results[i] = ApplyUpdate(*txn, plan, now);
    open.push_back(i);
  }
  commit();
  std::vector<Result> out;
  out.reserve(results.size());
  for (auto& r : results) out.push_back(std::move(*r));
  return out;
}

StatusOr<std::pair<bool, std::string>> Coordinator::ApplyUpdate(Txn& txn, const UpdatePlan& plan,
                                                                double now) {
  SpecState* spec = plan.spec;
  const std::string& k = *plan.key;
  const bool has_lease = plan.has_lease;
  const bool has_status = plan.has_status;
  const bool has_worker = plan.worker != nullptr;
  const double lease = plan.lease;
  const int status = plan.status;
  const Value* data = plan.data;
  // The old data is only carried over (or replaced); Chain decodes what it reads.
  COORD_ASSIGN_OR_RETURN(auto rec, txn.Read(*spec, k, storage::UnitData::kMayKeep));
  if (!rec) {
    return std::make_pair(false, "no such work unit key=" + PyRepr(*plan.key_value));
  }
  const UnitRecord before = std::move(*rec);
  UnitRecord after = before;
  if (data) after.data = *data;
  auto drop_from_worker = [&] {
    if (before.worker_id.is_string()) {
      txn.batch().Delete(Cf::kWorkerUnits, keys::WorkerUnit(before.worker_id.str(), spec->id, k));
    }
  };
  bool chain = false;
  if (has_status) {
    const int old = before.status;
    if (old == storage::kFinished && status == storage::kFailed) {
      // FINISHED beats FAILED: the status stays, the data is still replaced.
    } else if (old == status && (status == storage::kFinished || status == storage::kFailed)) {
      // no re-trigger
    } else if (status == storage::kAvailable) {
      // As the original, the unit stays on its worker's list of current units.
      if (old == storage::kPending) EndAttempt(txn, *spec, k, before, "retried", now);
      if (old != storage::kAvailable) ++counters_.retried;
      after.status = storage::kAvailable;
      after.worker_id = Value::Null();
      after.expiration.reset();
      after.not_before = 0;
    } else if (status == storage::kPending) {
      if (has_worker) after.worker_id = *plan.worker;
      if (has_lease) after.expiration = now + lease;
      if (old != storage::kPending) {
        after.status = storage::kPending;
        if (!after.expiration || !has_lease) after.expiration = now + kDefaultLease;
        ++after.attempts;
        after.lease_start = now;
        if (after.worker_id.is_string()) {
          txn.batch().Put(Cf::kWorkerUnits, keys::WorkerUnit(after.worker_id.str(), spec->id, k),
                          "");
        }
      }
      // A renewal moves the open attempt's deadline with the record's expiration.
    } else {  // entering FINISHED or FAILED
      if (old == storage::kPending) {
        EndAttempt(txn, *spec, k, before, status == storage::kFinished ? "finished" : "failed",
                   now);
      }
      drop_from_worker();
      after.status = status;
      after.expiration = now;
      after.not_before = 0;
      chain = status == storage::kFinished;
    }
  } else if (has_lease) {
    after.expiration = now + lease;  // for a PENDING unit also its open attempt's deadline
  }
  // The record moves into the transaction unless the chain still reads it.
  PutUnit(txn, *spec, k, &before, &after, /*consume_now=*/!chain);
  if (chain) Chain(txn, *spec, after, now);
  return std::make_pair(true, std::string());
}

}  // namespace coordinated::scheduler
