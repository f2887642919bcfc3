// Coordinator: work spec operations.
#include <fmt/format.h>

#include "scheduler/coordinator.h"
#include "scheduler/coordinator_txn.h"
#include "storage/keys.h"

namespace coordinated::scheduler {

using storage::Cf;
namespace keys = storage::keys;

Status Coordinator::SetWorkSpec(const Value& definition) {
  if (!definition.is_map()) {
    return Status::InvalidArgument("a work spec must be a map, got " +
                                   definition.ToDiagnostic().substr(0, 80));
  }
  const Value* name = definition.FindKey("name");
  if (!name) return Status::InvalidArgument("work spec has no 'name'");
  COORD_RETURN_IF_ERROR(ValidateName(*name, "work spec name", options_.max_name_bytes));
  Txn txn(this);
  SpecState* spec = Find(*name);
  if (spec) {
    spec->record.definition = definition;
    spec->record.control = Value::Map();
    spec->settings = DeriveSettings(spec->record.definition, spec->record.control);
  } else {
    auto fresh = std::make_unique<SpecState>();
    fresh->id = next_spec_id_++;
    fresh->name_bytes = name->str();
    fresh->record = storage::SpecRecord{*name, definition, Value::Map()};
    fresh->settings = DeriveSettings(definition, fresh->record.control);
    fresh->best_valid = true;  // no units yet
    std::string next;
    storage::PutU32(&next, next_spec_id_);
    txn.batch().Put(Cf::kMeta, keys::kNextSpecId, next);
    spec = fresh.get();
    by_id_[spec->id] = spec;
    specs_[spec->name_bytes] = std::move(fresh);
    MarkSpecsChanged();
    txn.Touch(*spec);
  }
  txn.batch().Put(Cf::kSpecs, keys::Spec(spec->id), storage::EncodeSpec(spec->record));
  return txn.Commit();
}

const Value* Coordinator::GetWorkSpec(const Value& name) const {
  SpecState* spec = Find(name);
  return spec ? &spec->record.definition : nullptr;
}

ListSpecsResult Coordinator::ListWorkSpecs(const Value& start, std::optional<int64_t> limit) const {
  ListSpecsResult out;
  auto it = start.is_string() ? specs_.lower_bound(start.str()) : specs_.begin();
  for (; it != specs_.end(); ++it) {
    if (limit && static_cast<int64_t>(out.definitions.size()) >= *limit) {
      out.next = it->second->record.name;
      break;
    }
    out.definitions.push_back(it->second->record.definition);
  }
  return out;
}

Status Coordinator::RemoveSpec(Txn& txn, SpecState& spec, bool detach_edges) {
  if (detach_edges) COORD_RETURN_IF_ERROR(DetachSpecEdges(txn, spec));
  const std::string prefix = keys::Spec(spec.id);
  const std::string end = keys::PrefixEnd(prefix);
  for (const auto& info : storage::kColumnFamilies) {
    if (info.per_spec) txn.batch().DeleteRange(info.cf, prefix, end);
  }
  txn.batch().Delete(Cf::kMeta, keys::SpecStats(spec.id));
  txn.Forget(spec);
  return Status::Ok();
}

Status Coordinator::DelWorkSpec(const Value& name) {
  SpecState* spec = Find(name);
  if (!spec) return Status::NotFound("no such work_spec " + PyRepr(name));
  Txn txn(this);
  COORD_RETURN_IF_ERROR(RemoveSpec(txn, *spec, true));
  const std::string key = spec->name_bytes;
  const storage::SpecId id = spec->id;
  COORD_RETURN_IF_ERROR(txn.Commit());
  by_id_.erase(id);
  specs_.erase(key);
  MarkSpecsChanged();
  return Status::Ok();
}

StatusOr<size_t> Coordinator::Clear() {
  Txn txn(this);
  const size_t n = specs_.size();
  // Every unit goes, so no edge needs releasing (releasing one could write rows of a spec
  // whose range is already deleted earlier in this batch).
  for (auto& [name, spec] : specs_) COORD_RETURN_IF_ERROR(RemoveSpec(txn, *spec, false));
  COORD_RETURN_IF_ERROR(txn.Commit());
  specs_.clear();
  by_id_.clear();
  MarkSpecsChanged();
  return n;
}

Status Coordinator::ControlWorkSpec(const Value& name, const Value& options) {
  SpecState* spec = Find(name);
  if (!spec) return Status::NotFound("no such work spec " + (name.is_string() ? name.str() : ""));
  COORD_RETURN_IF_ERROR(ValidateControl(options));
  if (const Value* c = options.FindKey("continuous")) {
    if (c->Truthy() && !spec->settings.can_be_continuous) {
      return Status::FailedPrecondition(
          fmt::format("cannot make non-continuous work spec {} continuous", spec->name_bytes));
    }
  }
  for (const char* k : {"status", "continuous", "weight", "interval", "max_running"}) {
    if (const Value* v = options.FindKey(k)) spec->record.control.Set(Value::Bytes(k), *v);
  }
  spec->settings = DeriveSettings(spec->record.definition, spec->record.control);
  Txn txn(this);
  txn.batch().Put(Cf::kSpecs, keys::Spec(spec->id), storage::EncodeSpec(spec->record));
  return txn.Commit();
}

StatusOr<Value> Coordinator::GetWorkSpecMeta(const Value& name) {
  SpecState* spec = Find(name);
  if (!spec) return Status::NotFound("no such work spec " + (name.is_string() ? name.str() : ""));
  return SettingsToMeta(spec->settings);
}

}  // namespace coordinated::scheduler
