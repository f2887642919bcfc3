// The method table and the adapters between wire values and Coordinator calls. Reply shapes
// are the original Python daemon's: "(a, b)" below is a tuple (tag 128), "[...]" a list.
#include <fmt/format.h>

#include <optional>
#include <vector>

#include "common/constant_time.h"
#include "rpc/method_table.h"
#include "scheduler/coordinator.h"

namespace coordinated::rpc {

namespace {

using scheduler::Coordinator;

bool Given(const Value& v) { return v.kind() != Value::Kind::kUndefined; }
Value OptMap(const Value& v) { return Given(v) && !v.is_null() ? v : Value::Map(); }
Value Pair(Value a, Value b) { return Value::TupleOf(std::move(a), std::move(b)); }
Value Msg(std::string_view m) { return Value::Bytes(m); }
Value OkPair() { return Pair(Value::Bool(true), Value::Null()); }

Status RequireMap(const Value& v, std::string_view what) {
  if (!v.is_map()) return Status::InvalidArgument(std::string(what) + " must be a map");
  return Status::Ok();
}

// (False|None|0, msg) for in-band failures, the error form for everything else.
StatusOr<Value> InBand(const Status& s, Value failed) {
  if (s.code() == Code::kNotFound || s.code() == Code::kFailedPrecondition) {
    return Pair(std::move(failed), Msg(s.message()));
  }
  return s;
}

Coordinator& C(CallContext& ctx) { return *ctx.coordinator; }

// ---- misc ------------------------------------------------------------------------------------

StatusOr<Value> Now(CallContext& ctx, Args&) { return Value::Double(ctx.clock->Now()); }

StatusOr<Value> GetConfig(CallContext& ctx, Args&) {
  return Pair(ctx.client_config ? *ctx.client_config : Value::Map(), Value::Null());
}

// auth(token) -> (True, None). With no token configured every argument succeeds, so clients
// may always send it. Otherwise the token (byte or text string) is compared in constant time;
// a match authenticates the connection, anything else un-authenticates it and is an
// Unauthenticated error (the session closes the connection after kMaxAuthFailures of them).
StatusOr<Value> Auth(CallContext& ctx, Args& a) {
  if (ctx.auth_token == nullptr || ctx.auth_token->empty()) return OkPair();
  if (ctx.connection == nullptr) return Status::Unauthenticated("no connection to authenticate");
  const bool match = a[0].is_string() && ConstantTimeEquals(*ctx.auth_token, a[0].str());
  ctx.connection->authenticated = match;
  if (match) return OkPair();
  ++ctx.connection->auth_failures;
  return Status::Unauthenticated("wrong token");
}

StatusOr<Value> TestAdvanceClock(CallContext& ctx, Args& a) {
  if (!a[0].is_number()) return Status::InvalidArgument("seconds must be a number");
  ctx.clock->Advance(*a[0].AsNumber());
  return Value::Double(ctx.clock->Now());
}

// ---- work specs ------------------------------------------------------------------------------

StatusOr<Value> SetWorkSpec(CallContext& ctx, Args& a) {
  COORD_RETURN_IF_ERROR(C(ctx).SetWorkSpec(a[0]));
  return OkPair();
}

StatusOr<Value> GetWorkSpec(CallContext& ctx, Args& a) {
  const Value* def = C(ctx).GetWorkSpec(a[0]);
  return def ? *def : Value::Null();
}

StatusOr<Value> ListWorkSpecs(CallContext& ctx, Args& a) {
  Value opts = OptMap(a[0]);
  COORD_RETURN_IF_ERROR(RequireMap(opts, "options"));
  std::optional<int64_t> limit;
  if (const Value* l = opts.FindKey("limit"); l && !l->is_null()) {
    limit = l->AsInt64();
    if (!limit) return Status::InvalidArgument("limit must be an integer");
  }
  const Value* start = opts.FindKey("start");
  auto r = C(ctx).ListWorkSpecs(start ? *start : Value::Null(), limit);
  return Pair(Value::Array(std::move(r.definitions)), std::move(r.next));
}

StatusOr<Value> DelWorkSpec(CallContext& ctx, Args& a) {
  Status s = C(ctx).DelWorkSpec(a[0]);
  if (!s.ok()) return InBand(s, Value::Bool(false));
  return OkPair();
}

StatusOr<Value> Clear(CallContext& ctx, Args&) {
  COORD_ASSIGN_OR_RETURN(size_t n, C(ctx).Clear());
  return Value::UInt(n);
}

StatusOr<Value> ControlWorkSpec(CallContext& ctx, Args& a) {
  Status s = C(ctx).ControlWorkSpec(a[0], OptMap(a[1]));
  if (!s.ok()) return InBand(s, Value::Bool(false));
  return OkPair();
}

StatusOr<Value> GetWorkSpecMeta(CallContext& ctx, Args& a) {
  auto meta = C(ctx).GetWorkSpecMeta(a[0]);
  if (!meta.ok()) return InBand(meta.status(), Value::Null());
  return Pair(std::move(meta).value(), Value::Null());
}

// ---- work units ------------------------------------------------------------------------------

StatusOr<Value> AddWorkUnits(CallContext& ctx, Args& a) {
  Status s = C(ctx).AddWorkUnits(a[0], std::move(a[1]));
  if (!s.ok()) return InBand(s, Value::Bool(false));
  return OkPair();
}

StatusOr<Value> GetWorkUnits(CallContext& ctx, Args& a) {
  Value opts = OptMap(a[1]);
  COORD_RETURN_IF_ERROR(RequireMap(opts, "options"));
  auto units = C(ctx).GetWorkUnits(a[0], opts);
  if (!units.ok()) return InBand(units.status(), Value::Null());
  Value list = Value::Array();
  list.mutable_items().reserve(units->size());
  for (auto& [k, d] : *units) list.Append(Pair(std::move(k), std::move(d)));
  return Pair(std::move(list), Value::Null());
}

StatusOr<Value> GetWorkUnitStatus(CallContext& ctx, Args& a) {
  auto st = C(ctx).GetWorkUnitStatus(a[0], a[1]);
  if (!st.ok()) return InBand(st.status(), Value::Null());
  return Pair(Value::Array(std::move(st).value()), Value::Null());
}

StatusOr<Value> CountWorkUnits(CallContext& ctx, Args& a) {
  auto counts = C(ctx).CountWorkUnits(a[0]);
  if (!counts.ok()) return InBand(counts.status(), Value::Bool(false));
  Value m = Value::Map();
  for (auto [s, n] : *counts) m.AppendEntry(Value::UInt(static_cast<uint64_t>(s)), Value::UInt(n));
  return Pair(std::move(m), Value::Null());
}

StatusOr<Value> PrioritizeWorkUnits(CallContext& ctx, Args& a) {
  Value opts = OptMap(a[1]);
  COORD_RETURN_IF_ERROR(RequireMap(opts, "options"));
  Status s = C(ctx).PrioritizeWorkUnits(a[0], opts);
  if (!s.ok()) return InBand(s, Value::Bool(false));
  return OkPair();
}

StatusOr<Value> DelWorkUnits(CallContext& ctx, Args& a) {
  Value opts = OptMap(a[1]);
  COORD_RETURN_IF_ERROR(RequireMap(opts, "options"));
  auto n = C(ctx).DelWorkUnits(a[0], opts);
  if (!n.ok()) return InBand(n.status(), Value::UInt(0));
  return Pair(Value::UInt(*n), Value::Null());
}

StatusOr<Value> UpdateWorkUnit(CallContext& ctx, Args& a) {
  Value opts = OptMap(a[2]);
  COORD_RETURN_IF_ERROR(RequireMap(opts, "options"));
  COORD_ASSIGN_OR_RETURN(auto r, C(ctx).UpdateWorkUnit(a[0], a[1], opts));
  if (r.first) return OkPair();
  return Pair(Value::Bool(false), Msg(r.second));
}

// Batches of update_work_unit (a worker finishing what one get_work handed it) share store
// writes: see Coordinator::UpdateWorkUnits.
std::vector<StatusOr<Value>> UpdateWorkUnitBatch(CallContext& ctx, std::vector<Args>& calls) {
  std::vector<Value> opts(calls.size());
  std::vector<std::optional<Status>> refused(calls.size());
  std::vector<Coordinator::UnitUpdate> updates;
  updates.reserve(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    opts[i] = OptMap(calls[i][2]);
    if (Status s = RequireMap(opts[i], "options"); !s.ok()) {
      refused[i] = s;
      continue;
    }
    updates.push_back({&calls[i][0], &calls[i][1], &opts[i]});
  }
  auto results = C(ctx).UpdateWorkUnits(updates);
  std::vector<StatusOr<Value>> out;
  out.reserve(calls.size());
  size_t next = 0;
  for (size_t i = 0; i < calls.size(); ++i) {
    if (refused[i]) {
      out.emplace_back(*refused[i]);
      continue;
    }
    auto& r = results[next++];
    if (!r.ok()) {
      out.emplace_back(r.status());
    } else if (r->first) {
      out.emplace_back(OkPair());
    } else {
      out.emplace_back(Pair(Value::Bool(false), Msg(r->second)));
    }
  }
  return out;
}

StatusOr<Value> Archive(CallContext& ctx, Args& a) {
  Value opts = OptMap(a[0]);
  COORD_RETURN_IF_ERROR(RequireMap(opts, "options"));
  COORD_RETURN_IF_ERROR(C(ctx).Archive(opts));
  return Value::Null();
}

StatusOr<Value> GetWorkUnitAttempts(CallContext& ctx, Args& a) {
  auto r = C(ctx).GetWorkUnitAttempts(a[0], a[1]);
  if (!r.ok()) return InBand(r.status(), Value::Null());
  return Pair(Value::Array(std::move(r).value()), Value::Null());
}

// ---- work ------------------------------------------------------------------------------------

StatusOr<Value> GetWork(CallContext& ctx, Args& a) {
  Value opts = OptMap(a[1]);
  COORD_RETURN_IF_ERROR(RequireMap(opts, "options"));
  Coordinator::GetWorkOptions o;
  bool single = true;
  if (const Value* m = opts.FindKey("max_jobs"); m && !m->is_null()) {
    auto n = m->AsInt64();
    if (!n) return Status::InvalidArgument("max_jobs must be an integer");
    o.max_jobs = *n;
    single = *n == 1;
  }
  if (const Value* l = opts.FindKey("lease_time"); l && !l->is_null()) {
    if (!l->is_number()) return Status::InvalidArgument("lease_time must be a number");
    o.lease_time = *l->AsNumber();
  }
  if (const Value* names = opts.FindKey("work_spec_names"); names && !names->is_null()) {
    if (!names->is_sequence()) return Status::InvalidArgument("work_spec_names must be a list");
    if (!names->items().empty()) {
      o.work_spec_names.emplace();
      for (const auto& n : names->items()) {
        if (n.is_string()) o.work_spec_names->push_back(n.str());
      }
    }
  }
  COORD_ASSIGN_OR_RETURN(auto grants, C(ctx).GetWork(a[0], o));
  if (single) {
    if (grants.empty()) {
      return Pair(Value::Tuple({Value::Null(), Value::Null(), Value::Null()}), Value::Null());
    }
    auto& g = grants[0];
    return Pair(Value::TupleOf(std::move(g.spec_name), std::move(g.key), std::move(g.data)),
                Value::Null());
  }
  Value list = Value::Array();
  for (auto& g : grants) {
    list.Append(Value::TupleOf(std::move(g.spec_name), std::move(g.key), std::move(g.data)));
  }
  return Pair(std::move(list), Value::Null());
}

// ---- workers ---------------------------------------------------------------------------------

StatusOr<Value> WorkerHeartbeat(CallContext& ctx, Args& a) {
  COORD_ASSIGN_OR_RETURN(auto msg, C(ctx).WorkerHeartbeat(a[0], a[1], a[2], a[3], a[4]));
  return Pair(Value::Bool(true), msg ? Msg(*msg) : Value::Null());
}

StatusOr<Value> WorkerUnregister(CallContext& ctx, Args& a) {
  COORD_ASSIGN_OR_RETURN(bool ok, C(ctx).WorkerUnregister(a[0]));
  if (ok) return OkPair();
  return Pair(Value::Bool(false), Msg("no worker " + scheduler::PyRepr(a[0])));
}

StatusOr<Value> ListWorkerModes(CallContext& ctx, Args&) {
  COORD_ASSIGN_OR_RETURN(Value m, C(ctx).ListWorkerModes());
  return Pair(std::move(m), Value::Null());
}

StatusOr<Value> GetWorkerInfo(CallContext& ctx, Args& a) {
  COORD_ASSIGN_OR_RETURN(Value d, C(ctx).GetWorkerInfo(a[0]));
  return Pair(std::move(d), Value::Null());
}

StatusOr<Value> ModeCounts(CallContext& ctx, Args&) {
  COORD_ASSIGN_OR_RETURN(Value m, C(ctx).ModeCounts());
  return Pair(std::move(m), Value::Null());
}

StatusOr<Value> WorkerStats(CallContext& ctx, Args&) { return C(ctx).WorkerStats(); }

StatusOr<Value> GetChildWorkUnits(CallContext& ctx, Args& a) {
  COORD_ASSIGN_OR_RETURN(Value m, C(ctx).GetChildWorkUnits(a[0]));
  return Pair(std::move(m), Value::Null());
}

StatusOr<Value> SetMode(CallContext& ctx, Args& a) {
  if (!a[0].is_string()) return Pair(Value::Bool(false), Msg("mode must be a string"));
  Status s = C(ctx).SetMode(a[0].str());
  if (!s.ok()) return Pair(Value::Bool(false), Msg(s.message()));
  return OkPair();
}

StatusOr<Value> GetMode(CallContext& ctx, Args&) { return Value::Bytes(C(ctx).GetMode()); }

StatusOr<Value> AddDependentWorkUnits(CallContext& ctx, Args& a) {
  // `hard` defaults to true, as rejester's add_dependent_work_units did.
  const Value hard = Given(a[2]) ? a[2] : Value::Bool(true);
  COORD_ASSIGN_OR_RETURN(auto r, C(ctx).AddDependentWorkUnits(a[0], a[1], hard));
  if (r.first) return OkPair();
  return Pair(Value::Bool(false), Msg(r.second));
}

// ---- locks (the Go daemon's replies: plain arrays, not tuples) -------------------------------

Value GoPair(const std::pair<bool, std::string>& r) {
  return Value::ArrayOf(Value::Bool(r.first), r.first ? Value::Null() : Msg(r.second));
}

StatusOr<Value> Lock(CallContext& ctx, Args& a) {
  COORD_ASSIGN_OR_RETURN(auto r, C(ctx).Lock(a[0], a[1], a[2]));
  return GoPair(r);
}

StatusOr<Value> LockSome(CallContext& ctx, Args& a) {
  COORD_ASSIGN_OR_RETURN(Value got, C(ctx).LockSome(a[0], a[1], a[2]));
  return Value::ArrayOf(std::move(got), Value::Null());
}

StatusOr<Value> Renew(CallContext& ctx, Args& a) {
  COORD_ASSIGN_OR_RETURN(auto r, C(ctx).Renew(a[0], a[1], a[2]));
  return GoPair(r);
}

StatusOr<Value> ReadLock(CallContext& ctx, Args& a) {
  COORD_ASSIGN_OR_RETURN(auto owners, C(ctx).ReadLock(a[0]));
  return Value::Array(std::move(owners));
}

StatusOr<Value> Unlock(CallContext& ctx, Args& a) {
  COORD_ASSIGN_OR_RETURN(auto r, C(ctx).Unlock(a[0], a[1]));
  return GoPair(r);
}

StatusOr<Value> DeleteNamespace(CallContext& ctx, Args& a) {
  COORD_ASSIGN_OR_RETURN(uint64_t n, C(ctx).DeleteNamespace(a[0]));
  return Value::UInt(n);
}

StatusOr<Value> ListLocks(CallContext& ctx, Args&) {
  COORD_ASSIGN_OR_RETURN(auto locks, C(ctx).ListLocks());
  Value out = Value::Array();
  for (auto& l : locks) {
    out.Append(Value::ArrayOf(std::move(l.path), std::move(l.owner), Value::Double(l.deadline)));
  }
  return out;
}

// ---- administration --------------------------------------------------------------------------

StatusOr<Value> Backup(CallContext& ctx, Args& a) {
  if (!a[0].is_string() || a[0].str().empty()) {
    return Status::InvalidArgument("backup needs a directory path");
  }
  Status s = C(ctx).Backup(a[0].str());
  if (!s.ok()) return Pair(Value::Bool(false), Msg(s.ToString()));
  return OkPair();
}

// The full consistency check, one text line per problem (empty list when sound).
StatusOr<Value> Check(CallContext& ctx, Args&) {
  Value out = Value::Array();
  for (const auto& p : C(ctx).CheckConsistency()) out.Append(Value::Text(p));
  return out;
}

// A row whose method creates work (see MethodSpec::grows_store).
MethodSpec Grows(MethodSpec m) {
  m.grows_store = true;
  return m;
}

MethodSpec Batched(MethodSpec m, BatchHandler batch) {
  m.batch = batch;
  return m;
}

}  // namespace

const std::vector<MethodSpec>& MethodTable() {
  using E = Exec;
  static const std::vector<MethodSpec> kTable = {
      // name, params, required, exec, handler
      {"auth", {"token"}, 1, E::kInline, Auth},
      {"now", {}, 0, E::kInline, Now},
      {"get_config", {}, 0, E::kInline, GetConfig},
      Grows({"set_work_spec", {"work_spec"}, 1, E::kSequenced, SetWorkSpec}),
      {"get_work_spec", {"work_spec_name"}, 1, E::kSequenced, GetWorkSpec},
      {"list_work_specs", {"options"}, 0, E::kSequenced, ListWorkSpecs},
      {"del_work_spec", {"work_spec_name"}, 1, E::kSequenced, DelWorkSpec},
      {"clear", {}, 0, E::kSequenced, Clear},
      {"control_work_spec", {"work_spec_name", "options"}, 1, E::kSequenced, ControlWorkSpec},
      {"get_work_spec_meta", {"work_spec_name"}, 1, E::kSequenced, GetWorkSpecMeta},
      Grows({"add_work_units",
             {"work_spec_name", "work_unit_key_vals"},
             2,
             E::kSequenced,
             AddWorkUnits}),
      {"get_work_units", {"work_spec_name", "options"}, 1, E::kSequenced, GetWorkUnits},
      {"get_work_unit_status",
       {"work_spec_name", "work_unit_keys"},
       2,
       E::kSequenced,
       GetWorkUnitStatus},
      {"count_work_units", {"work_spec_name"}, 1, E::kSequenced, CountWorkUnits},
      {"prioritize_work_units",
       {"work_spec_name", "options"},
       2,
       E::kSequenced,
       PrioritizeWorkUnits},
      {"del_work_units", {"work_spec_name", "options"}, 1, E::kSequenced, DelWorkUnits},
      Batched({"update_work_unit",
               {"work_spec_name", "work_unit_key", "options"},
               3,
               E::kSequenced,
               UpdateWorkUnit},
              UpdateWorkUnitBatch),
      {"archive", {"options"}, 0, E::kSequenced, Archive},
      {"get_work_unit_attempts",
       {"work_spec_name", "work_unit_key"},
       2,
       E::kSequenced,
       GetWorkUnitAttempts},
      {"get_work", {"worker_id", "options"}, 1, E::kSequenced, GetWork},
      {"worker_heartbeat",
       {"worker_id", "mode", "expire_seconds", "data", "parent"},
       4,
       E::kSequenced,
       WorkerHeartbeat},
      {"worker_unregister", {"worker_id"}, 1, E::kSequenced, WorkerUnregister},
      {"list_worker_modes", {}, 0, E::kSequenced, ListWorkerModes},
      {"get_worker_info", {"worker_id"}, 1, E::kSequenced, GetWorkerInfo},
      {"mode_counts", {}, 0, E::kSequenced, ModeCounts},
      {"worker_stats", {}, 0, E::kSequenced, WorkerStats},
      {"get_child_work_units", {"worker_id"}, 1, E::kSequenced, GetChildWorkUnits},
      {"set_mode", {"mode"}, 1, E::kSequenced, SetMode},
      {"get_mode", {}, 0, E::kSequenced, GetMode},
      Grows({"add_dependent_work_units",
             {"later", "earlier", "hard"},
             2,
             E::kSequenced,
             AddDependentWorkUnits}),
      {"lock", {"locker_id", "timeout", "key_paths"}, 3, E::kSequenced, Lock},
      {"locksome", {"locker_id", "timeout", "key_paths"}, 3, E::kSequenced, LockSome},
      {"renew", {"locker_id", "timeout", "key_paths"}, 3, E::kSequenced, Renew},
      {"readlock", {"key_paths"}, 1, E::kSequenced, ReadLock},
      {"unlock", {"locker_id", "key_paths"}, 2, E::kSequenced, Unlock},
      {"delete_namespace", {"namespace"}, 1, E::kSequenced, DeleteNamespace},
      {"list_locks", {}, 0, E::kSequenced, ListLocks},
      {"backup", {"directory"}, 1, E::kSequenced, Backup},
      {"check", {}, 0, E::kSequenced, Check},
      {"_test_advance_clock", {"seconds"}, 1, E::kSequenced, TestAdvanceClock, true},
      {"_test_check", {}, 0, E::kSequenced, Check, true},
  };
  return kTable;
}

}  // namespace coordinated::rpc
