#include "coordinate/api.h"

namespace coordinate {

namespace {

Status Unexpected(std::string_view what, const Value& v) {
  return Status::IOError("unexpected " + std::string(what) + " reply " + v.ToDiagnostic());
}

Value KeyList(const std::vector<Value>& keys) { return Value::Array(keys); }

Value IntList(const std::vector<int>& xs) {
  Value out = Value::Array();
  for (int x : xs) out.Append(I(x));
  return out;
}

double Num(const Value* v, double dflt = 0) {
  if (!v) return dflt;
  auto n = v->AsNumber();
  return n ? *n : dflt;
}

std::optional<double> OptNum(const Value* v) {
  if (!v || v->is_null()) return std::nullopt;
  return v->AsNumber();
}

uint64_t UNum(const Value& v) {
  auto n = v.AsInt64();
  if (n && *n >= 0) return static_cast<uint64_t>(*n);
  if (v.kind() == Value::Kind::kUInt) return v.raw_num();
  return 0;
}

std::string Str(const Value& v) { return v.is_string() ? v.str() : v.ToDiagnostic(); }

// Optional path-like replies: a list with None entries.
StatusOr<std::vector<std::optional<Value>>> OptList(const Value& v, std::string_view what) {
  std::vector<std::optional<Value>> out;
  if (v.is_null()) return out;
  if (!v.is_sequence()) return Unexpected(what, v);
  for (const auto& x : v.items()) {
    if (x.is_null()) {
      out.emplace_back(std::nullopt);
    } else {
      out.emplace_back(x);
    }
  }
  return out;
}

}  // namespace

Status InBandStatus(const Value& message) {
  std::string m = Str(message);
  if (m.rfind("no such", 0) == 0 || m.rfind("no worker", 0) == 0) return Status::NotFound(m);
  return Status::FailedPrecondition(m);
}

Status Api::ParseOk(const StatusOr<Value>& raw) {
  auto r = ParseFirst(raw);
  return r.ok() ? Status::Ok() : r.status();
}

StatusOr<Value> Api::ParseFirst(const StatusOr<Value>& raw) {
  if (!raw.ok()) return raw.status();
  const Value& r = *raw;
  if (!r.is_sequence() || r.items().size() != 2) return Unexpected("(value, message)", r);
  const Value& first = r.items()[0];
  const Value& msg = r.items()[1];
  const bool success_flag = first.is_bool() && first.as_bool();
  if (!msg.is_null() && !success_flag) return InBandStatus(msg);
  if (first.is_bool() && !first.as_bool()) return InBandStatus(Value::Bytes("failed"));
  return first;
}

StatusOr<std::vector<Lease>> Api::ParseLeases(const StatusOr<Value>& raw, int max_jobs) {
  COORD_ASSIGN_OR_RETURN(Value body, ParseFirst(raw));
  std::vector<Lease> out;
  auto add = [&](const Value& t) -> Status {
    if (!t.is_sequence() || t.items().size() != 3) return Unexpected("get_work", t);
    if (t.items()[0].is_null()) return Status::Ok();
    Lease l;
    l.spec = t.items()[0];
    l.key = t.items()[1];
    l.data = t.items()[2];
    out.push_back(std::move(l));
    return Status::Ok();
  };
  if (max_jobs == 1) {
    COORD_RETURN_IF_ERROR(add(body));
  } else {
    if (!body.is_sequence()) return Unexpected("get_work", body);
    for (const auto& t : body.items()) COORD_RETURN_IF_ERROR(add(t));
  }
  return out;
}

// ---- work specs -------------------------------------------------------------------------------

Status Api::SetWorkSpec(const Value& spec) { return ParseOk(c_.Call("set_work_spec", A({spec}))); }

StatusOr<std::optional<Value>> Api::GetWorkSpec(const Value& name) {
  COORD_ASSIGN_OR_RETURN(Value r, c_.Call("get_work_spec", A({name})));
  if (r.is_null()) return std::optional<Value>();
  return std::optional<Value>(std::move(r));
}

StatusOr<WorkSpecList> Api::ListWorkSpecs(const ListWorkSpecsOptions& options) {
  Value opts = Value::Map();
  if (options.start) opts.Set(B("start"), *options.start);
  if (options.limit) opts.Set(B("limit"), I(*options.limit));
  COORD_ASSIGN_OR_RETURN(Value r, c_.Call("list_work_specs", A({opts})));
  if (!r.is_sequence() || r.items().size() != 2 || !r.items()[0].is_sequence()) {
    return Unexpected("list_work_specs", r);
  }
  WorkSpecList out;
  out.definitions = r.items()[0].items();
  out.next = r.items()[1];
  return out;
}

Status Api::DelWorkSpec(const Value& name) { return ParseOk(c_.Call("del_work_spec", A({name}))); }

StatusOr<uint64_t> Api::Clear() {
  COORD_ASSIGN_OR_RETURN(Value r, c_.Call("clear", A()));
  if (!r.is_int()) return Unexpected("clear", r);
  return UNum(r);
}

Status Api::ControlWorkSpec(const Value& name, const ControlOptions& o) {
  Value opts = Value::Map();
  if (o.status) opts.Set(B("status"), I(*o.status));
  if (o.continuous) opts.Set(B("continuous"), Value::Bool(*o.continuous));
  if (o.weight) opts.Set(B("weight"), Value::Double(*o.weight));
  if (o.interval) opts.Set(B("interval"), Value::Double(*o.interval));
  if (o.max_running) opts.Set(B("max_running"), I(*o.max_running));
  return ParseOk(c_.Call("control_work_spec", A({name, opts})));
}

StatusOr<WorkSpecMeta> Api::GetWorkSpecMeta(const Value& name) {
  COORD_ASSIGN_OR_RETURN(Value m, ParseFirst(c_.Call("get_work_spec_meta", A({name}))));
  if (!m.is_map()) return Unexpected("get_work_spec_meta", m);
  WorkSpecMeta out;
  if (const Value* v = m.FindKey("status")) out.status = v->AsInt64().value_or(0);
  if (const Value* v = m.FindKey("continuous")) out.continuous = v->Truthy();
  out.interval = Num(m.FindKey("interval"));
  if (const Value* v = m.FindKey("max_running")) out.max_running = v->AsInt64().value_or(0);
  out.weight = Num(m.FindKey("weight"));
  out.raw = std::move(m);
  return out;
}

// ---- work units -------------------------------------------------------------------------------

Status Api::AddWorkUnits(const Value& spec, const std::vector<WorkUnitItem>& units) {
  Value items = Value::Array();
  for (const auto& u : units) {
    if (u.priority || u.delay) {
      Value meta = Value::Map();
      if (u.priority) meta.Set(B("priority"), Value::Double(*u.priority));
      if (u.delay) meta.Set(B("delay"), Value::Double(*u.delay));
      items.Append(Tup({u.key, u.data, meta}));
    } else {
      items.Append(Tup({u.key, u.data}));
    }
  }
  Value params = A({spec});
  params.Append(std::move(items));
  return ParseOk(c_.Call("add_work_units", std::move(params)));
}

StatusOr<std::vector<std::pair<Value, Value>>> Api::GetWorkUnits(const Value& spec,
                                                                 const GetWorkUnitsOptions& o) {
  Value opts = Value::Map();
  if (!o.work_unit_keys.empty()) opts.Set(B("work_unit_keys"), KeyList(o.work_unit_keys));
  if (!o.states.empty()) opts.Set(B("state"), IntList(o.states));
  if (o.start) opts.Set(B("start"), *o.start);
  if (o.limit) opts.Set(B("limit"), I(*o.limit));
  COORD_ASSIGN_OR_RETURN(Value list, ParseFirst(c_.Call("get_work_units", A({spec, opts}))));
  if (!list.is_sequence()) return Unexpected("get_work_units", list);
  std::vector<std::pair<Value, Value>> out;
  for (const auto& kv : list.items()) {
    if (!kv.is_sequence() || kv.items().size() != 2) return Unexpected("get_work_units", kv);
    out.emplace_back(kv.items()[0], kv.items()[1]);
  }
  return out;
}

StatusOr<std::vector<std::optional<UnitStatus>>> Api::GetWorkUnitStatus(
    const Value& spec, const std::vector<Value>& keys) {
  COORD_ASSIGN_OR_RETURN(Value list,
                         ParseFirst(c_.Call("get_work_unit_status", A({spec, KeyList(keys)}))));
  if (!list.is_sequence()) return Unexpected("get_work_unit_status", list);
  std::vector<std::optional<UnitStatus>> out;
  for (const auto& m : list.items()) {
    if (m.is_null()) {
      out.emplace_back(std::nullopt);
      continue;
    }
    if (!m.is_map()) return Unexpected("get_work_unit_status", m);
    UnitStatus s;
    if (const Value* v = m.FindKey("status")) s.status = static_cast<int>(v->AsInt64().value_or(0));
    s.expiration = OptNum(m.FindKey("expiration"));
    if (const Value* v = m.FindKey("worker_id"); v && !v->is_null()) s.worker_id = *v;
    if (const Value* v = m.FindKey("traceback"); v && !v->is_null()) s.traceback = *v;
    if (const Value* v = m.FindKey("depends_on"); v && v->is_sequence()) {
      for (const auto& d : v->items()) {
        if (d.is_sequence() && d.items().size() >= 2) {
          s.depends_on.emplace_back(d.items()[0], d.items()[1]);
        }
      }
    }
    out.emplace_back(std::move(s));
  }
  return out;
}

StatusOr<std::map<int, uint64_t>> Api::CountWorkUnits(const Value& spec) {
  COORD_ASSIGN_OR_RETURN(Value m, ParseFirst(c_.Call("count_work_units", A({spec}))));
  if (!m.is_map()) return Unexpected("count_work_units", m);
  std::map<int, uint64_t> out;
  for (size_t i = 0; i < m.map_size(); ++i) {
    out[static_cast<int>(m.key_at(i).AsInt64().value_or(0))] += UNum(m.value_at(i));
  }
  return out;
}

Status Api::PrioritizeWorkUnits(const Value& spec, const std::vector<Value>& keys,
                                const PrioritizeOptions& o) {
  Value opts = Value::Map();
  if (!keys.empty()) opts.Set(B("work_unit_keys"), KeyList(keys));
  if (o.priority) opts.Set(B("priority"), Value::Double(*o.priority));
  if (o.adjustment) opts.Set(B("adjustment"), Value::Double(*o.adjustment));
  return ParseOk(c_.Call("prioritize_work_units", A({spec, opts})));
}

StatusOr<uint64_t> Api::DelWorkUnits(const Value& spec, const DelWorkUnitsOptions& o) {
  Value opts = Value::Map();
  if (o.all) opts.Set(B("all"), Value::Bool(true));
  if (!o.work_unit_keys.empty()) opts.Set(B("work_unit_keys"), KeyList(o.work_unit_keys));
  if (o.states.size() == 1) {
    opts.Set(B("state"), I(o.states[0]));
  } else if (!o.states.empty()) {
    opts.Set(B("state"), IntList(o.states));
  }
  COORD_ASSIGN_OR_RETURN(Value n, ParseFirst(c_.Call("del_work_units", A({spec, opts}))));
  if (!n.is_int()) return Unexpected("del_work_units", n);
  return UNum(n);
}

Status Api::UpdateWorkUnit(const Value& spec, const Value& key, const UpdateOptions& o) {
  Value opts = Value::Map();
  if (o.lease_time) opts.Set(B("lease_time"), Value::Double(*o.lease_time));
  if (o.status) opts.Set(B("status"), I(*o.status));
  if (o.data) opts.Set(B("data"), *o.data);
  if (o.worker_id) opts.Set(B("worker_id"), *o.worker_id);
  return ParseOk(c_.Call("update_work_unit", A({spec, key, opts})));
}

Status Api::Archive(const std::vector<Value>& work_spec_names) {
  Value opts = Value::Map();
  if (!work_spec_names.empty()) opts.Set(B("work_spec_names"), KeyList(work_spec_names));
  COORD_ASSIGN_OR_RETURN(Value r, c_.Call("archive", A({opts})));
  if (r.is_sequence()) return ParseOk(r);
  return Status::Ok();
}

StatusOr<std::vector<Attempt>> Api::GetWorkUnitAttempts(const Value& spec, const Value& key) {
  COORD_ASSIGN_OR_RETURN(Value list, ParseFirst(c_.Call("get_work_unit_attempts", A({spec, key}))));
  if (!list.is_sequence()) return Unexpected("get_work_unit_attempts", list);
  std::vector<Attempt> out;
  for (const auto& m : list.items()) {
    if (!m.is_map()) return Unexpected("get_work_unit_attempts", m);
    Attempt a;
    if (const Value* v = m.FindKey("worker_id")) a.worker_id = *v;
    a.start = Num(m.FindKey("start"));
    a.expires = Num(m.FindKey("expires"));
    a.end = OptNum(m.FindKey("end"));
    if (const Value* v = m.FindKey("status")) a.status = Str(*v);
    out.push_back(std::move(a));
  }
  return out;
}

// ---- work -------------------------------------------------------------------------------------

StatusOr<std::vector<Lease>> Api::GetWork(const Value& worker_id, const GetWorkOptions& o) {
  Value opts = Value::Map();
  opts.Set(B("max_jobs"), I(o.max_jobs));
  opts.Set(B("lease_time"), Value::Double(o.lease_time));
  if (!o.work_spec_names.empty()) opts.Set(B("work_spec_names"), KeyList(o.work_spec_names));
  return ParseLeases(c_.Call("get_work", A({worker_id, opts})), o.max_jobs);
}

// ---- workers and mode -------------------------------------------------------------------------

StatusOr<std::string> Api::WorkerHeartbeat(const Value& worker_id, std::string_view mode,
                                           double expire_seconds, const Value& data,
                                           const Value& parent) {
  COORD_ASSIGN_OR_RETURN(
      Value r, c_.Call("worker_heartbeat",
                       A({worker_id, B(mode), Value::Double(expire_seconds), data, parent})));
  COORD_RETURN_IF_ERROR(ParseOk(r));
  const Value& msg = r.items()[1];
  return msg.is_null() ? std::string() : Str(msg);
}

Status Api::WorkerUnregister(const Value& worker_id) {
  return ParseOk(c_.Call("worker_unregister", A({worker_id})));
}

StatusOr<std::vector<std::pair<Value, Value>>> Api::ListWorkerModes() {
  COORD_ASSIGN_OR_RETURN(Value m, ParseFirst(c_.Call("list_worker_modes", A())));
  if (!m.is_map()) return Unexpected("list_worker_modes", m);
  std::vector<std::pair<Value, Value>> out;
  for (size_t i = 0; i < m.map_size(); ++i) out.emplace_back(m.key_at(i), m.value_at(i));
  return out;
}

StatusOr<std::optional<Value>> Api::GetWorkerInfo(const Value& worker_id) {
  COORD_ASSIGN_OR_RETURN(Value d, ParseFirst(c_.Call("get_worker_info", A({worker_id}))));
  if (d.is_null()) return std::optional<Value>();
  return std::optional<Value>(std::move(d));
}

StatusOr<std::vector<std::pair<Value, uint64_t>>> Api::ModeCounts() {
  COORD_ASSIGN_OR_RETURN(Value m, ParseFirst(c_.Call("mode_counts", A())));
  if (!m.is_map()) return Unexpected("mode_counts", m);
  std::vector<std::pair<Value, uint64_t>> out;
  for (size_t i = 0; i < m.map_size(); ++i) out.emplace_back(m.key_at(i), UNum(m.value_at(i)));
  return out;
}

StatusOr<WorkerStatsInfo> Api::WorkerStats() {
  COORD_ASSIGN_OR_RETURN(Value m, c_.Call("worker_stats", A()));
  if (!m.is_map()) return Unexpected("worker_stats", m);
  WorkerStatsInfo out;
  if (const Value* v = m.FindKey("num_workers")) out.num_workers = UNum(*v);
  if (const Value* v = m.FindKey("num_children")) out.num_children = UNum(*v);
  if (const Value* v = m.FindKey("num_expirable")) out.num_expirable = UNum(*v);
  return out;
}

StatusOr<std::vector<std::pair<Value, std::vector<ChildUnit>>>> Api::GetChildWorkUnits(
    const Value& worker_id) {
  COORD_ASSIGN_OR_RETURN(Value m, ParseFirst(c_.Call("get_child_work_units", A({worker_id}))));
  if (!m.is_map()) return Unexpected("get_child_work_units", m);
  std::vector<std::pair<Value, std::vector<ChildUnit>>> out;
  for (size_t i = 0; i < m.map_size(); ++i) {
    std::vector<ChildUnit> units;
    if (m.value_at(i).is_sequence()) {
      for (const auto& u : m.value_at(i).items()) {
        if (!u.is_map()) return Unexpected("get_child_work_units", u);
        ChildUnit c;
        if (const Value* v = u.FindKey("work_spec_name")) c.work_spec_name = *v;
        if (const Value* v = u.FindKey("work_unit_key")) c.work_unit_key = *v;
        if (const Value* v = u.FindKey("work_unit_data")) c.work_unit_data = *v;
        if (const Value* v = u.FindKey("worker_id")) c.worker_id = *v;
        c.expires = Num(u.FindKey("expires"));
        units.push_back(std::move(c));
      }
    }
    out.emplace_back(m.key_at(i), std::move(units));
  }
  return out;
}

Status Api::SetMode(std::string_view mode) { return ParseOk(c_.Call("set_mode", A({B(mode)}))); }

StatusOr<std::string> Api::GetMode() {
  COORD_ASSIGN_OR_RETURN(Value r, c_.Call("get_mode", A()));
  if (!r.is_string()) return Unexpected("get_mode", r);
  return r.str();
}

// ---- dependencies -----------------------------------------------------------------------------

Status Api::AddDependentWorkUnits(const UnitRef& later, const UnitRef& earlier, bool hard) {
  auto ref = [](const UnitRef& u) {
    return Tup({u.spec, u.key, u.data ? *u.data : Value::Null()});
  };
  return ParseOk(
      c_.Call("add_dependent_work_units", A({ref(later), ref(earlier), Value::Bool(hard)})));
}

// ---- locks ------------------------------------------------------------------------------------

Status Api::Lock(const Value& locker_id, int64_t timeout, const std::vector<Value>& paths) {
  return ParseOk(c_.Call("lock", A({locker_id, I(timeout), KeyList(paths)})));
}

StatusOr<std::vector<std::optional<Value>>> Api::LockSome(const Value& locker_id, int64_t timeout,
                                                          const std::vector<Value>& paths) {
  COORD_ASSIGN_OR_RETURN(
      Value got, ParseFirst(c_.Call("locksome", A({locker_id, I(timeout), KeyList(paths)}))));
  return OptList(got, "locksome");
}

Status Api::Renew(const Value& locker_id, int64_t timeout, const std::vector<Value>& paths) {
  return ParseOk(c_.Call("renew", A({locker_id, I(timeout), KeyList(paths)})));
}

StatusOr<std::vector<std::optional<Value>>> Api::ReadLock(const std::vector<Value>& paths) {
  COORD_ASSIGN_OR_RETURN(Value r, c_.Call("readlock", A({KeyList(paths)})));
  return OptList(r, "readlock");
}

Status Api::Unlock(const Value& locker_id, const std::vector<Value>& paths) {
  return ParseOk(c_.Call("unlock", A({locker_id, KeyList(paths)})));
}

Status Api::DeleteNamespace(const Value& ns) {
  COORD_ASSIGN_OR_RETURN(Value r, c_.Call("delete_namespace", A({ns})));
  (void)r;
  return Status::Ok();
}

StatusOr<std::vector<LockInfo>> Api::ListLocks() {
  COORD_ASSIGN_OR_RETURN(Value r, c_.Call("list_locks", A()));
  if (!r.is_sequence()) return Unexpected("list_locks", r);
  std::vector<LockInfo> out;
  for (const auto& l : r.items()) {
    if (!l.is_sequence() || l.items().size() != 3) return Unexpected("list_locks", l);
    LockInfo info;
    info.path = l.items()[0];
    info.owner = l.items()[1];
    info.deadline = Num(&l.items()[2]);
    out.push_back(std::move(info));
  }
  return out;
}

// ---- miscellaneous ----------------------------------------------------------------------------

StatusOr<double> Api::Now() {
  COORD_ASSIGN_OR_RETURN(Value r, c_.Call("now", A()));
  auto n = r.AsNumber();
  if (!n) return Unexpected("now", r);
  return *n;
}

StatusOr<Value> Api::GetConfig() { return ParseFirst(c_.Call("get_config", A())); }

StatusOr<std::vector<std::string>> Api::Check() {
  COORD_ASSIGN_OR_RETURN(Value r, c_.Call("check", A()));
  if (!r.is_sequence()) return Unexpected("check", r);
  std::vector<std::string> out;
  for (const auto& p : r.items()) out.push_back(Str(p));
  return out;
}

Status Api::Backup(const std::string& directory) {
  return ParseOk(c_.Call("backup", A({Value::Text(directory)})));
}

}  // namespace coordinate
