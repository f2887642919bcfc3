#include "rpc_backend.h"

#include <algorithm>

#include "rpc.h"

namespace coordadmin {

using coordinated::Code;
using coordinated::MapOf;

namespace {

Status Unexpected(std::string_view method) {
  return Status::Internal("unexpected reply to " + std::string(method));
}

// (list, message) replies: the list, or kNotFound with the message when it is not a list.
StatusOr<std::vector<Value>> ListOf(const Value& reply, std::string_view method) {
  Reply r = Split(reply);
  if (r.value.is_sequence()) return r.value.items();
  if (!r.message.is_null()) return Status::NotFound(MessageText(r.message));
  return Unexpected(method);
}

std::optional<double> OptNumber(const Value* v) {
  if (!v || !v->is_number()) return std::nullopt;
  return v->AsNumber();
}

void ApplyStatus(const Value& m, UnitRow* row) {
  if (!m.is_map()) return;
  if (const Value* s = m.FindKey("status"); s && s->is_int())
    row->status = static_cast<int>(s->raw_num());
  row->expiration = OptNumber(m.FindKey("expiration"));
  if (const Value* w = m.FindKey("worker_id")) row->worker_id = *w;
  if (const Value* t = m.FindKey("traceback")) row->traceback = *t;
  if (const Value* d = m.FindKey("depends_on"); d && d->is_sequence()) {
    for (const Value& p : d->items()) {
      if (p.is_sequence() && p.items().size() == 2) {
        row->depends_on.emplace_back(p.items()[0], p.items()[1]);
      }
    }
  }
}

}  // namespace

Status RpcBackend::FillSpecs(std::vector<SpecRow>* rows) {
  std::vector<std::pair<std::string, Value>> calls;
  for (const SpecRow& r : *rows) {
    calls.emplace_back("count_work_units", Value::Array({r.name}));
    calls.emplace_back("get_work_spec_meta", Value::Array({r.name}));
  }
  auto replies = c_->Pipeline(calls);
  for (size_t i = 0; i < rows->size(); ++i) {
    SpecRow& row = (*rows)[i];
    const auto& counts = replies[2 * i];
    const auto& meta = replies[2 * i + 1];
    if (!counts.ok()) return counts.status();
    if (!meta.ok()) return meta.status();
    Value m = Split(*counts).value;
    if (m.is_map()) {
      for (size_t k = 0; k < m.map_size(); ++k) {
        auto s = m.key_at(k).AsInt64();
        auto n = m.value_at(k).AsInt64();
        if (s && n && *s >= 1 && *s <= 5) row.counts[*s] = static_cast<uint64_t>(*n);
      }
    }
    row.meta = Split(*meta).value;
    if (const Value* st = row.meta.is_map() ? row.meta.FindKey("status") : nullptr) {
      row.paused = st->AsInt64() == 2;
    }
  }
  return Status::Ok();
}

StatusOr<std::vector<SpecRow>> RpcBackend::Specs() {
  std::vector<SpecRow> rows;
  Value start;
  for (;;) {
    Value opts = MapOf({{"limit", Value::UInt(1000)}});
    if (!start.is_null()) opts.Set(Value::Bytes("start"), start);
    COORD_ASSIGN_OR_RETURN(Value reply, c_->Call("list_work_specs", Value::Array({opts})));
    Reply r = Split(reply);
    if (!r.value.is_sequence()) return Unexpected("list_work_specs");
    for (const Value& def : r.value.items()) {
      SpecRow row;
      row.definition = def;
      if (const Value* n = def.is_map() ? def.FindKey("name") : nullptr) row.name = *n;
      rows.push_back(std::move(row));
    }
    if (r.message.is_null() || r.value.items().empty()) break;
    start = r.message;
  }
  COORD_RETURN_IF_ERROR(FillSpecs(&rows));
  return rows;
}

StatusOr<std::optional<SpecRow>> RpcBackend::Spec(const Value& name) {
  COORD_ASSIGN_OR_RETURN(Value def, c_->Call("get_work_spec", Value::Array({name})));
  if (def.is_null()) return std::optional<SpecRow>();
  std::vector<SpecRow> rows(1);
  rows[0].definition = def;
  const Value* n = def.is_map() ? def.FindKey("name") : nullptr;
  rows[0].name = n ? *n : name;
  COORD_RETURN_IF_ERROR(FillSpecs(&rows));
  return std::optional<SpecRow>(std::move(rows[0]));
}

Status RpcBackend::FillStatuses(const Value& spec, std::vector<UnitRow>* rows) {
  for (size_t i = 0; i < rows->size(); i += 1000) {
    const size_t end = std::min(rows->size(), i + 1000);
    Value keys = Value::Array();
    for (size_t k = i; k < end; ++k) keys.Append((*rows)[k].key);
    COORD_ASSIGN_OR_RETURN(Value reply,
                           c_->Call("get_work_unit_status", Value::Array({spec, keys})));
    COORD_ASSIGN_OR_RETURN(auto list, ListOf(reply, "get_work_unit_status"));
    for (size_t k = i; k < end && k - i < list.size(); ++k) ApplyStatus(list[k - i], &(*rows)[k]);
  }
  return Status::Ok();
}

StatusOr<std::vector<UnitRow>> RpcBackend::Units(const UnitQuery& q) {
  std::vector<UnitRow> out;
  auto add = [&](const Value& pair) -> bool {  // false: past the prefix
    if (!pair.is_sequence() || pair.items().size() != 2) return true;
    const Value& key = pair.items()[0];
    if (!key.is_string() || key.str().compare(0, q.prefix.size(), q.prefix) != 0) return false;
    UnitRow row;
    row.key = key;
    row.data = pair.items()[1];
    out.push_back(std::move(row));
    return true;
  };
  if (q.statuses.empty()) {
    std::string start = q.prefix;
    bool more = true;
    while (more && (q.limit == 0 || out.size() < q.limit)) {
      uint64_t page = 1000;
      if (q.limit) page = std::min<uint64_t>(page, q.limit - out.size());
      Value opts = MapOf({{"start", Value::Bytes(start)}, {"limit", Value::UInt(page)}});
      COORD_ASSIGN_OR_RETURN(Value reply, c_->Call("get_work_units", Value::Array({q.spec, opts})));
      COORD_ASSIGN_OR_RETURN(auto list, ListOf(reply, "get_work_units"));
      for (const Value& p : list) {
        if (!add(p)) {
          more = false;
          break;
        }
      }
      if (list.size() < page || out.empty()) break;
      start = out.back().key.str();
      start.push_back('\0');
    }
  } else {
    Value states = Value::Array();
    for (int s : q.statuses) states.Append(Value::UInt(static_cast<uint64_t>(s)));
    const uint64_t limit = q.limit ? std::min<uint64_t>(q.limit, 10000) : 10000;
    Value opts = MapOf({{"state", states}, {"limit", Value::UInt(limit)}});
    if (!q.prefix.empty()) opts.Set(Value::Bytes("start"), Value::Bytes(q.prefix));
    COORD_ASSIGN_OR_RETURN(Value reply, c_->Call("get_work_units", Value::Array({q.spec, opts})));
    COORD_ASSIGN_OR_RETURN(auto list, ListOf(reply, "get_work_units"));
    for (const Value& p : list) add(p);  // priority order: the prefix only filters
  }
  if (q.limit && out.size() > q.limit) out.resize(q.limit);
  COORD_RETURN_IF_ERROR(FillStatuses(q.spec, &out));
  return out;
}

StatusOr<std::optional<UnitRow>> RpcBackend::Unit(const Value& spec, const Value& key) {
  COORD_ASSIGN_OR_RETURN(
      Value st, c_->Call("get_work_unit_status", Value::Array({spec, Value::Array({key})})));
  COORD_ASSIGN_OR_RETURN(auto statuses, ListOf(st, "get_work_unit_status"));
  if (statuses.empty() || statuses[0].is_null()) return std::optional<UnitRow>();
  UnitRow row;
  row.key = key;
  ApplyStatus(statuses[0], &row);
  COORD_ASSIGN_OR_RETURN(
      Value units,
      c_->Call("get_work_units",
               Value::Array({spec, MapOf({{"work_unit_keys", Value::Array({key})}})})));
  COORD_ASSIGN_OR_RETURN(auto list, ListOf(units, "get_work_units"));
  if (!list.empty() && list[0].is_sequence() && list[0].items().size() == 2) {
    row.key = list[0].items()[0];
    row.data = list[0].items()[1];
  }
  COORD_ASSIGN_OR_RETURN(Value attempts,
                         c_->Call("get_work_unit_attempts", Value::Array({spec, key})));
  COORD_ASSIGN_OR_RETURN(auto log, ListOf(attempts, "get_work_unit_attempts"));
  for (const Value& a : log) {
    if (!a.is_map()) continue;
    AttemptRow ar;
    if (const Value* w = a.FindKey("worker_id")) ar.worker_id = *w;
    ar.start = OptNumber(a.FindKey("start")).value_or(0);
    ar.expires = OptNumber(a.FindKey("expires")).value_or(0);
    ar.end = OptNumber(a.FindKey("end"));
    if (const Value* s = a.FindKey("status"); s && s->is_string()) ar.status = s->str();
    row.attempt_log.push_back(std::move(ar));
  }
  if (row.worker_id.is_string()) {
    COORD_ASSIGN_OR_RETURN(auto w, Worker(row.worker_id));
    if (w) {
      row.worker = std::move(w);
    } else {
      WorkerRow gone;
      gone.id = row.worker_id;
      gone.alive = false;
      row.worker = std::move(gone);
    }
  }
  return std::optional<UnitRow>(std::move(row));
}

StatusOr<std::vector<WorkerRow>> RpcBackend::Workers() {
  COORD_ASSIGN_OR_RETURN(Value reply, c_->Call("list_worker_modes"));
  Value modes = Split(reply).value;
  std::vector<WorkerRow> rows;
  if (!modes.is_map()) return rows;
  std::vector<std::pair<std::string, Value>> calls;
  for (size_t i = 0; i < modes.map_size(); ++i) {
    WorkerRow w;
    w.id = modes.key_at(i);
    w.mode = modes.value_at(i);
    rows.push_back(std::move(w));
    calls.emplace_back("get_worker_info", Value::Array({modes.key_at(i)}));
  }
  auto replies = c_->Pipeline(calls);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!replies[i].ok()) return replies[i].status();
    rows[i].data = Split(*replies[i]).value;
  }
  std::sort(rows.begin(), rows.end(),
            [](const WorkerRow& a, const WorkerRow& b) { return a.id.str() < b.id.str(); });
  return rows;
}

StatusOr<std::optional<WorkerRow>> RpcBackend::Worker(const Value& id) {
  COORD_ASSIGN_OR_RETURN(auto all, Workers());
  for (WorkerRow& w : all) {
    if (!w.id.is_string() || !id.is_string() || w.id.str() != id.str()) continue;
    COORD_ASSIGN_OR_RETURN(Value reply, c_->Call("get_child_work_units", Value::Array({w.id})));
    Value children = Split(reply).value;
    if (children.is_map()) {
      for (size_t i = 0; i < children.map_size(); ++i) {
        w.children.push_back(children.key_at(i));
      }
    }
    return std::optional<WorkerRow>(std::move(w));
  }
  return std::optional<WorkerRow>();
}

StatusOr<std::vector<LockRow>> RpcBackend::Locks() {
  COORD_ASSIGN_OR_RETURN(Value reply, c_->Call("list_locks"));
  std::vector<LockRow> rows;
  if (!reply.is_sequence()) return Unexpected("list_locks");
  for (const Value& l : reply.items()) {
    if (!l.is_sequence() || l.items().size() != 3) continue;
    rows.push_back({l.items()[0], l.items()[1], l.items()[2].AsNumber().value_or(0)});
  }
  return rows;
}

StatusOr<std::vector<std::string>> RpcBackend::Check() {
  COORD_ASSIGN_OR_RETURN(Value reply, c_->Call("check"));
  if (!reply.is_sequence()) return Unexpected("check");
  std::vector<std::string> out;
  for (const Value& p : reply.items()) out.push_back(MessageText(p));
  return out;
}

double RpcBackend::Now() {
  auto r = c_->Call("now");
  if (r.ok() && r->is_number()) return *r->AsNumber();
  return 0;
}

}  // namespace coordadmin
