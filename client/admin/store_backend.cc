#include "store_backend.h"

#include <algorithm>
#include <chrono>

#include "common/clock.h"
#include "scheduler/coordinator.h"
#include "scheduler/spec_settings.h"
#include "storage/attempts.h"
#include "storage/keys.h"

namespace coordadmin {

namespace storage = coordinated::storage;
namespace keys = coordinated::storage::keys;
using coordinated::Code;
using storage::Cf;

StatusOr<std::unique_ptr<StoreBackend>> StoreBackend::Create(storage::Store* store) {
  std::unique_ptr<StoreBackend> b(new StoreBackend(store));
  COORD_RETURN_IF_ERROR(b->Load());
  return b;
}

Status StoreBackend::Load() {
  auto it = store_->NewIterator(Cf::kSpecs, "", "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 4) continue;
    SpecEntry e;
    e.id = storage::GetU32(it->key());
    COORD_ASSIGN_OR_RETURN(e.record, storage::DecodeSpec(it->value()));
    std::string v;
    Status s = store_->Get(Cf::kMeta, keys::SpecStats(e.id), &v);
    if (s.ok()) {
      COORD_ASSIGN_OR_RETURN(e.stats, storage::DecodeStats(v));
    } else if (s.code() != Code::kNotFound) {
      return s;
    }
    if (!e.record.name.is_string()) continue;
    specs_[e.record.name.str()] = std::move(e);
  }
  return it->status();
}

const StoreBackend::SpecEntry* StoreBackend::Find(const Value& name) const {
  if (!name.is_string()) return nullptr;
  auto it = specs_.find(name.str());
  return it == specs_.end() ? nullptr : &it->second;
}

Value StoreBackend::SpecName(storage::SpecId id) const {
  for (const auto& [n, e] : specs_) {
    if (e.id == id) return e.record.name;
  }
  return Value::Text("#" + std::to_string(id));
}

Value StoreBackend::KeyValue(storage::SpecId id, std::string_view key) {
  std::string v;
  if (store_->Get(Cf::kUnits, keys::Unit(id, key), &v).ok()) {
    auto u = storage::DecodeUnit(v);
    if (u.ok() && u->key_is_text) return Value::Text(key);
  }
  return Value::Bytes(key);
}

SpecRow StoreBackend::RowOf(const SpecEntry& e) const {
  SpecRow row;
  row.name = e.record.name;
  row.definition = e.record.definition;
  const auto settings =
      coordinated::scheduler::DeriveSettings(e.record.definition, e.record.control);
  row.meta = coordinated::scheduler::SettingsToMeta(settings);
  row.paused = settings.paused;
  for (int s = 1; s <= 5; ++s) row.counts[s] = e.stats.counts[s] + e.stats.archived[s];
  return row;
}

StatusOr<std::vector<SpecRow>> StoreBackend::Specs() {
  std::vector<SpecRow> rows;
  for (const auto& [n, e] : specs_) rows.push_back(RowOf(e));
  return rows;
}

StatusOr<std::optional<SpecRow>> StoreBackend::Spec(const Value& name) {
  const SpecEntry* e = Find(name);
  if (!e) return std::optional<SpecRow>();
  return std::optional<SpecRow>(RowOf(*e));
}

StatusOr<UnitRow> StoreBackend::RowOf(const SpecEntry& e, std::string_view key,
                                      const storage::UnitRecord& u) {
  UnitRow row;
  row.key = u.key_is_text ? Value::Text(key) : Value::Bytes(key);
  row.status = u.status;
  row.data = u.data;
  row.priority = u.priority;
  row.worker_id = u.worker_id;
  row.expiration = u.expiration;
  row.not_before = u.not_before;
  row.attempts = u.attempts;
  row.expiries = u.expiries;
  row.blockers = u.blockers;
  if (const Value* tb = u.data.is_map() ? u.data.FindKey("traceback") : nullptr)
    row.traceback = *tb;
  if (u.blockers > 0) {
    const std::string ref = keys::UnitRef(e.id, key);
    auto it = store_->NewIterator(Cf::kDepsForward, ref, keys::PrefixEnd(ref));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      storage::SpecId ps;
      std::string_view pk;
      if (storage::DecodeUnitRef(it->key().substr(ref.size()), &ps, &pk) == 0) continue;
      row.depends_on.emplace_back(SpecName(ps), KeyValue(ps, pk));
    }
    COORD_RETURN_IF_ERROR(it->status());
  }
  return row;
}

StatusOr<std::vector<UnitRow>> StoreBackend::Units(const UnitQuery& q) {
  const SpecEntry* e = Find(q.spec);
  if (!e) {
    return Status::NotFound("no such work spec " + (q.spec.is_string() ? q.spec.str() : ""));
  }
  std::vector<UnitRow> out;
  const std::string spec_prefix = keys::Spec(e->id);
  const std::string prefix = spec_prefix + q.prefix;
  auto it = store_->NewIterator(Cf::kUnits, prefix, keys::PrefixEnd(prefix));
  for (it->SeekToFirst(); it->Valid() && (q.limit == 0 || out.size() < q.limit); it->Next()) {
    COORD_ASSIGN_OR_RETURN(auto u, storage::DecodeUnit(it->value()));
    if (!q.statuses.empty() &&
        std::find(q.statuses.begin(), q.statuses.end(), u.status) == q.statuses.end()) {
      continue;
    }
    COORD_ASSIGN_OR_RETURN(UnitRow row, RowOf(*e, it->key().substr(spec_prefix.size()), u));
    out.push_back(std::move(row));
  }
  COORD_RETURN_IF_ERROR(it->status());
  return out;
}

StatusOr<std::optional<UnitRow>> StoreBackend::Unit(const Value& spec, const Value& key) {
  const SpecEntry* e = Find(spec);
  if (!e) return Status::NotFound("no such work spec " + (spec.is_string() ? spec.str() : ""));
  if (!key.is_string()) return std::optional<UnitRow>();
  std::string v;
  Status s = store_->Get(Cf::kUnits, keys::Unit(e->id, key.str()), &v);
  if (s.code() == Code::kNotFound) return std::optional<UnitRow>();
  COORD_RETURN_IF_ERROR(s);
  COORD_ASSIGN_OR_RETURN(auto u, storage::DecodeUnit(v));
  COORD_ASSIGN_OR_RETURN(UnitRow row, RowOf(*e, key.str(), u));
  COORD_ASSIGN_OR_RETURN(auto attempts, storage::ReadAttempts(*store_, e->id, key.str(), u));
  for (const storage::NumberedAttempt& n : attempts) {
    const storage::AttemptRecord& a = n.record;
    row.attempt_log.push_back({a.worker_id, a.start, a.expires, a.end, a.status});
  }
  if (u.worker_id.is_string()) {
    COORD_ASSIGN_OR_RETURN(auto w, Worker(u.worker_id));
    if (w) {
      row.worker = std::move(w);
    } else {
      WorkerRow gone;
      gone.id = u.worker_id;
      gone.alive = false;
      row.worker = std::move(gone);
    }
  }
  return std::optional<UnitRow>(std::move(row));
}

StatusOr<WorkerRow> StoreBackend::WorkerOf(std::string_view key, const storage::WorkerRecord& w,
                                           bool details) {
  WorkerRow row;
  row.id = w.id;
  row.mode = w.mode;
  row.data = w.data;
  row.parent = w.parent;
  row.last_heard = w.last_heard;
  row.expires = w.expires;
  row.alive = w.expires > Now();
  const std::string up = keys::WorkerUnitPrefix(key);
  auto it = store_->NewIterator(Cf::kWorkerUnits, up, keys::PrefixEnd(up));
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++n;
    if (!details) continue;
    std::string_view rest = it->key().substr(up.size());
    if (rest.size() < 4) continue;
    const storage::SpecId id = storage::GetU32(rest);
    row.units.emplace_back(SpecName(id), KeyValue(id, rest.substr(4)));
  }
  COORD_RETURN_IF_ERROR(it->status());
  row.unit_count = n;
  if (details) {
    const std::string cp = keys::ChildPrefix(key);
    auto c = store_->NewIterator(Cf::kWorkerChildren, cp, keys::PrefixEnd(cp));
    for (c->SeekToFirst(); c->Valid(); c->Next()) {
      row.children.push_back(Value::Bytes(c->key().substr(cp.size())));
    }
    COORD_RETURN_IF_ERROR(c->status());
  }
  return row;
}

StatusOr<std::vector<WorkerRow>> StoreBackend::Workers() {
  std::vector<WorkerRow> rows;
  auto it = store_->NewIterator(Cf::kWorkers, "", "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    COORD_ASSIGN_OR_RETURN(auto w, storage::DecodeWorker(it->value()));
    COORD_ASSIGN_OR_RETURN(WorkerRow row, WorkerOf(it->key(), w, false));
    rows.push_back(std::move(row));
  }
  COORD_RETURN_IF_ERROR(it->status());
  return rows;
}

StatusOr<std::optional<WorkerRow>> StoreBackend::Worker(const Value& id) {
  if (!id.is_string()) return std::optional<WorkerRow>();
  std::string v;
  Status s = store_->Get(Cf::kWorkers, id.str(), &v);
  if (s.code() == Code::kNotFound) return std::optional<WorkerRow>();
  COORD_RETURN_IF_ERROR(s);
  COORD_ASSIGN_OR_RETURN(auto w, storage::DecodeWorker(v));
  COORD_ASSIGN_OR_RETURN(WorkerRow row, WorkerOf(id.str(), w, true));
  return std::optional<WorkerRow>(std::move(row));
}

StatusOr<std::vector<LockRow>> StoreBackend::Locks() {
  std::vector<LockRow> rows;
  auto it = store_->NewIterator(Cf::kLocks, "", "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    COORD_ASSIGN_OR_RETURN(auto l, storage::DecodeLock(it->value()));
    rows.push_back({l.path, l.owner, l.deadline});
  }
  COORD_RETURN_IF_ERROR(it->status());
  return rows;
}

StatusOr<std::vector<std::string>> StoreBackend::Check() {
  coordinated::SystemClock clock;
  coordinated::scheduler::Coordinator c(store_, &clock,
                                        coordinated::scheduler::CoordinatorOptions());
  COORD_RETURN_IF_ERROR(c.Load());  // reads spec records and counters only
  return c.CheckConsistency();
}

double StoreBackend::Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace coordadmin
