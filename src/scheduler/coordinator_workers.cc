// Coordinator: worker registration, heartbeats, parent/child links, the global mode.
#include <fmt/format.h>

#include "scheduler/coordinator.h"
#include "scheduler/coordinator_txn.h"
#include "storage/keys.h"

namespace coordinated::scheduler {

using storage::Cf;
using storage::WorkerRecord;
namespace keys = storage::keys;

namespace {
constexpr double kDefaultWorkerExpiry = 300;  // negative expire_seconds becomes this
constexpr double kMaxWorkerExpiry = 86400;    // above this, expire_seconds becomes kHugeExpiry
constexpr double kHugeExpiry = 3600;
}  // namespace

StatusOr<std::optional<WorkerRecord>> Coordinator::ReadWorker(std::string_view id) const {
  std::string v;
  Status s = store_->Get(Cf::kWorkers, id, &v);
  if (s.code() == Code::kNotFound) return std::optional<WorkerRecord>();
  if (!s.ok()) return s;
  auto rec = storage::DecodeWorker(v);
  if (!rec.ok()) return rec.status();
  return std::optional<WorkerRecord>(std::move(rec).value());
}

StatusOr<std::optional<std::string>> Coordinator::WorkerHeartbeat(const Value& worker_id,
                                                                  const Value& mode,
                                                                  const Value& expire_seconds,
                                                                  const Value& data,
                                                                  const Value& parent) {
  COORD_RETURN_IF_ERROR(ValidateName(worker_id, "worker id", options_.max_name_bytes));
  if (!parent.is_null() && parent.kind() != Value::Kind::kUndefined) {
    COORD_RETURN_IF_ERROR(ValidateName(parent, "parent worker id", options_.max_name_bytes));
  }
  double expire = kDefaultWorkerExpiry;
  std::optional<std::string> message;
  if (expire_seconds.is_number()) {
    expire = *expire_seconds.AsNumber();
  } else if (!expire_seconds.is_null() && expire_seconds.kind() != Value::Kind::kUndefined) {
    return Status::InvalidArgument("expire_seconds must be a number");
  }
  if (expire < 0) {
    message = fmt::format("negative expire time {}, defaulted to 5 minutes", expire);
    expire = kDefaultWorkerExpiry;
  } else if (expire > kMaxWorkerExpiry) {
    message = fmt::format("huge expire time {}, defaulted to one hour", expire);
    expire = kHugeExpiry;
  }
  const double now = clock_->Now();
  COORD_ASSIGN_OR_RETURN(auto existing, ReadWorker(worker_id.str()));
  WorkerRecord rec;
  rec.id = worker_id;
  rec.mode = mode.kind() == Value::Kind::kUndefined ? Value::Null() : mode;
  rec.data = data.kind() == Value::Kind::kUndefined ? Value::Null() : data;
  rec.parent = parent.is_string() ? parent : Value::Null();
  rec.last_heard = now;
  rec.expires = now + expire;
  Txn txn(this);
  const std::string& id = worker_id.str();
  if (existing && existing->parent.is_string() &&
      !(rec.parent.is_string() && rec.parent.str() == existing->parent.str())) {
    txn.batch().Delete(Cf::kWorkerChildren, keys::Child(existing->parent.str(), id));
  }
  if (rec.parent.is_string()) {
    txn.batch().Put(Cf::kWorkerChildren, keys::Child(rec.parent.str(), id), "");
  }
  txn.batch().Put(Cf::kWorkers, id, storage::EncodeWorker(rec));
  COORD_RETURN_IF_ERROR(txn.Commit());
  return message;
}

StatusOr<bool> Coordinator::WorkerUnregister(const Value& worker_id) {
  if (!worker_id.is_string()) return false;
  COORD_ASSIGN_OR_RETURN(auto existing, ReadWorker(worker_id.str()));
  if (!existing) return false;
  Txn txn(this);
  const std::string& id = worker_id.str();
  if (existing->parent.is_string()) {
    txn.batch().Delete(Cf::kWorkerChildren, keys::Child(existing->parent.str(), id));
  }
  txn.batch().Delete(Cf::kWorkers, id);
  COORD_RETURN_IF_ERROR(txn.Commit());
  return true;
}

namespace {
template <typename Fn>
Status ForEachLiveWorker(const storage::Store* store, double now, Fn fn) {
  auto it = store->NewIterator(Cf::kWorkers, "", "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto rec = storage::DecodeWorker(it->value());
    if (!rec.ok()) return rec.status();
    if (rec->expires <= now) continue;
    fn(*rec);
  }
  return it->status();
}
Value ModeKey(const Value& mode) { return mode.is_null() ? Value::Null() : mode; }
}  // namespace

StatusOr<Value> Coordinator::ListWorkerModes() {
  Value out = Value::Map();
  COORD_RETURN_IF_ERROR(ForEachLiveWorker(
      store_, clock_->Now(), [&](const WorkerRecord& w) { out.AppendEntry(w.id, w.mode); }));
  return out;
}

StatusOr<Value> Coordinator::GetWorkerInfo(const Value& worker_id) {
  if (!worker_id.is_string()) return Value::Null();
  COORD_ASSIGN_OR_RETURN(auto rec, ReadWorker(worker_id.str()));
  if (!rec || rec->expires <= clock_->Now()) return Value::Null();
  return rec->data;
}

StatusOr<Value> Coordinator::ModeCounts() {
  Value out = Value::Map();
  COORD_RETURN_IF_ERROR(ForEachLiveWorker(store_, clock_->Now(), [&](const WorkerRecord& w) {
    const Value key = ModeKey(w.mode);
    const Value* have = out.Find(key);
    out.Set(key, Value::UInt(have ? have->raw_num() + 1 : 1));
  }));
  return out;
}

StatusOr<Value> Coordinator::WorkerStats() {
  uint64_t workers = 0, children = 0;
  COORD_RETURN_IF_ERROR(ForEachLiveWorker(store_, clock_->Now(), [&](const WorkerRecord& w) {
    ++workers;
    if (w.parent.is_string()) ++children;
  }));
  return MapOf({{"num_workers", Value::UInt(workers)},
                {"num_children", Value::UInt(children)},
                {"num_expirable", Value::UInt(workers)}});
}

StatusOr<Value> Coordinator::GetChildWorkUnits(const Value& worker_id) {
  Value out = Value::Map();
  if (!worker_id.is_string()) return out;
  const double now = clock_->Now();
  const std::string prefix = keys::ChildPrefix(worker_id.str());
  auto it = store_->NewIterator(Cf::kWorkerChildren, prefix, keys::PrefixEnd(prefix));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string child(it->key().substr(prefix.size()));
    COORD_ASSIGN_OR_RETURN(auto rec, ReadWorker(child));
    if (!rec || rec->expires <= now) continue;
    Value units = Value::Array();
    const std::string up = keys::WorkerUnitPrefix(child);
    auto uit = store_->NewIterator(Cf::kWorkerUnits, up, keys::PrefixEnd(up));
    for (uit->SeekToFirst(); uit->Valid(); uit->Next()) {
      std::string_view rest = uit->key().substr(up.size());
      auto spec_it = by_id_.find(storage::GetU32(rest));
      if (spec_it == by_id_.end()) continue;
      const SpecState& spec = *spec_it->second;
      const std::string key(rest.substr(4));
      COORD_ASSIGN_OR_RETURN(auto unit, ReadUnit(spec, key));
      if (!unit) continue;
      Value u = Value::Map();
      u.AppendEntry(Value::Bytes("work_spec_name"), spec.record.name);
      u.AppendEntry(Value::Bytes("work_unit_key"),
                    unit->key_is_text ? Value::Text(key) : Value::Bytes(key));
      u.AppendEntry(Value::Bytes("work_unit_data"), unit->data);
      u.AppendEntry(Value::Bytes("worker_id"), unit->worker_id);
      u.AppendEntry(Value::Bytes("expires"),
                    unit->expiration ? Value::Double(*unit->expiration) : Value::Null());
      units.Append(std::move(u));
    }
    out.AppendEntry(rec->id, std::move(units));
  }
  return out;
}

Status Coordinator::SetMode(const std::string& mode) {
  if (mode != "RUN" && mode != "IDLE" && mode != "TERMINATE") {
    return Status::InvalidArgument("mode must be RUN, IDLE or TERMINATE, not '" + mode + "'");
  }
  Txn txn(this);
  txn.batch().Put(Cf::kMeta, keys::kMode, mode);
  COORD_RETURN_IF_ERROR(txn.Commit());
  mode_ = mode;
  return Status::Ok();
}

Status Coordinator::PruneWorkers(double now) {
  Txn txn(this);
  auto it = store_->NewIterator(Cf::kWorkers, "", "");
  size_t pruned = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto rec = storage::DecodeWorker(it->value());
    if (!rec.ok() || rec->expires > now) continue;
    const std::string id(it->key());
    if (rec->parent.is_string()) {
      txn.batch().Delete(Cf::kWorkerChildren, keys::Child(rec->parent.str(), id));
    }
    const std::string up = keys::WorkerUnitPrefix(id);
    txn.batch().DeleteRange(Cf::kWorkerUnits, up, keys::PrefixEnd(up));
    txn.batch().Delete(Cf::kWorkers, id);
    ++pruned;
  }
  COORD_RETURN_IF_ERROR(it->status());
  return pruned ? txn.Commit() : Status::Ok();
}

}  // namespace coordinated::scheduler
