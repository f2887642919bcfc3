// Coordinator: work unit operations that do not lease (add, list, status, count, prioritize,
// delete, archive, attempt history).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>

#include "scheduler/coordinator.h"
#include "scheduler/coordinator_txn.h"
#include "scheduler/unit_index.h"
#include "storage/attempts.h"
#include "storage/keys.h"

namespace coordinated::scheduler {

using storage::Cf;
using storage::UnitRecord;
namespace keys = storage::keys;

namespace {

Status NoSuchSpec(const Value& name) {
  return Status::NotFound("no such work_spec " + PyRepr(name));
}

// Parses one add_work_units item: (key, data[, meta[, priority]]) or a bare key. The data is
// moved out of `item`; the key is copied (the caller's duplicate check keeps views of it).
StatusOr<NewUnit> ParseItem(Value& item, size_t index) {
  NewUnit u;
  if (item.is_string()) {
    u.key = item;
    u.data = Value::Map();
    return u;
  }
  if (!item.is_sequence() || item.items().size() < 2 || item.items().size() > 4) {
    return Status::InvalidArgument(fmt::format(
        "work unit {} must be (key, data), (key, data, meta) or (key, data, meta, priority)",
        index));
  }
  auto& f = item.mutable_items();
  u.key = f[0];
  if (!u.key.is_string()) {
    return Status::InvalidArgument(
        fmt::format("work unit {}: the key must be a string, got {}", index, u.key.ToDiagnostic()));
  }
  u.data = std::move(f[1]);
  if (f.size() >= 3 && !f[2].is_null()) {
    if (!f[2].is_map()) {
      return Status::InvalidArgument(fmt::format("work unit {}: meta must be a map", index));
    }
    if (const Value* p = f[2].FindKey("priority"); p && !p->is_null()) {
      if (!p->is_number()) {
        return Status::InvalidArgument(
            fmt::format("work unit {}: priority must be a number", index));
      }
      u.priority = *p->AsNumber();
    }
    if (const Value* d = f[2].FindKey("delay"); d && !d->is_null()) {
      if (!d->is_number()) {
        return Status::InvalidArgument(fmt::format("work unit {}: delay must be a number", index));
      }
      u.delay = *d->AsNumber();
    }
  }
  if (f.size() == 4 && !f[3].is_null()) {
    if (!f[3].is_number()) {
      return Status::InvalidArgument(fmt::format("work unit {}: priority must be a number", index));
    }
    u.priority = *f[3].AsNumber();
  }
  return u;
}

bool FiniteOr(double d) { return std::isfinite(d); }

}  // namespace

Status Coordinator::AddUnitsTo(Txn& txn, SpecState& spec, std::vector<NewUnit>& units, double now) {
  // The stored records of all the units, read at once: most are misses (new keys), which one
  // MultiGet answers for far less than a Get each. A unit this transaction already wrote is
  // read from the transaction instead.
  std::vector<std::optional<std::string>> stored;
  if (units.size() > 1) {
    std::vector<std::string> unit_keys;
    unit_keys.reserve(units.size());
    for (const NewUnit& u : units) unit_keys.push_back(keys::Unit(spec.id, u.key.str()));
    COORD_RETURN_IF_ERROR(store_->MultiGet(Cf::kUnits, unit_keys, &stored));
  }
  for (size_t i = 0; i < units.size(); ++i) {
    NewUnit& u = units[i];
    const std::string& key = u.key.str();
    std::optional<UnitRecord> existing;
    COORD_RETURN_IF_ERROR(txn.ReadFetched(spec, key, stored.empty() ? nullptr : &stored[i],
                                          storage::UnitData::kDecoded, &existing));
    UnitRecord after;
    if (existing) {
      // As the original: data replaced, back to AVAILABLE whatever the state, priority kept.
      after = *existing;
      if (existing->status == storage::kPending) {
        EndAttempt(txn, spec, key, *existing, "retried", now);
        if (existing->worker_id.is_string()) {
          txn.batch().Delete(Cf::kWorkerUnits,
                             keys::WorkerUnit(existing->worker_id.str(), spec.id, key));
        }
      }
      after.worker_id = Value::Null();
      after.expiration.reset();
    } else {
      after.key_is_text = u.key.is_text();
      after.priority = u.priority.value_or(0);
    }
    after.status = storage::kAvailable;
    after.data = std::move(u.data);
    after.not_before = u.delay > 0 ? now + u.delay : 0;
    PutUnit(txn, spec, key, existing ? &*existing : nullptr, &after, /*consume_now=*/true);
  }
  return Status::Ok();
}

Status Coordinator::AddWorkUnits(const Value& name, Value items) {
  SpecState* spec = Find(name);
  if (!spec) return NoSuchSpec(name);
  if (!items.is_sequence()) {
    return Status::InvalidArgument("work units must be a list of (key, data) items");
  }
  std::vector<NewUnit> units;
  units.reserve(items.items().size());
  // Within one batch the last item for a key wins entirely (data and priority).
  // (Views of the item keys, which stay in place: ParseItem moves only the data out.)
  std::unordered_map<std::string_view, size_t> last;
  last.reserve(items.items().size());
  for (size_t i = 0; i < items.items().size(); ++i) {
    const Value& item = items.items()[i];
    const Value& k = item.is_sequence() && !item.items().empty() ? item.items()[0] : item;
    if (k.is_string()) last[k.str()] = i;
  }
  for (size_t i = 0; i < items.items().size(); ++i) {
    COORD_ASSIGN_OR_RETURN(NewUnit u, ParseItem(items.mutable_items()[i], i));
    if (last[u.key.str()] != i) continue;
    if (u.key.str().size() > options_.max_key_bytes) {
      return Status::InvalidArgument(fmt::format("work unit {}: key of {} bytes exceeds {}", i,
                                                 u.key.str().size(), options_.max_key_bytes));
    }
    if (u.priority && !FiniteOr(*u.priority)) {
      return Status::InvalidArgument(fmt::format("work unit {}: priority must be finite", i));
    }
    units.push_back(std::move(u));
  }
  const double now = clock_->Now();
  Txn txn(this);
  COORD_RETURN_IF_ERROR(AddUnitsTo(txn, *spec, units, now));
  return txn.Commit();
}

namespace {
// Statuses requested by a `state` option: an int, or a list/tuple of ints.
StatusOr<std::vector<int>> ParseStates(const Value& v) {
  std::vector<int> out;
  auto one = [&](const Value& s) -> Status {
    auto n = s.AsInt64();
    if (!n || !storage::ValidStatus(static_cast<int>(*n))) {
      return Status::InvalidArgument("state must be a work unit status 1..5, got " +
                                     s.ToDiagnostic());
    }
    if (std::find(out.begin(), out.end(), *n) == out.end()) out.push_back(static_cast<int>(*n));
    return Status::Ok();
  };
  if (v.is_sequence()) {
    for (const auto& s : v.items()) COORD_RETURN_IF_ERROR(one(s));
  } else {
    COORD_RETURN_IF_ERROR(one(v));
  }
  return out;
}
Value KeyValue(const UnitRecord& u, std::string_view key) {
  return u.key_is_text ? Value::Text(key) : Value::Bytes(key);
}
}  // namespace

StatusOr<std::vector<std::pair<Value, Value>>> Coordinator::GetWorkUnits(const Value& name,
                                                                         const Value& options) {
  SpecState* spec = Find(name);
  if (!spec) return NoSuchSpec(name);
  if (!options.is_map() && !options.is_null() && options.kind() != Value::Kind::kUndefined) {
    return Status::InvalidArgument("options must be a map");
  }
  std::vector<std::pair<Value, Value>> out;
  const Value* wanted = options.FindKey("work_unit_keys");
  if (wanted && wanted->is_sequence() && !wanted->items().empty()) {
    for (const Value& k : wanted->items()) {
      if (!k.is_string()) {
        out.emplace_back(k, Value::Null());
        continue;
      }
      COORD_ASSIGN_OR_RETURN(auto rec, ReadUnit(*spec, k.str()));
      out.emplace_back(rec ? KeyValue(*rec, k.str()) : k, rec ? rec->data : Value::Null());
    }
    return out;
  }
  int64_t limit = 1000;
  if (const Value* l = options.FindKey("limit"); l && !l->is_null()) {
    auto n = l->AsInt64();
    if (!n) return Status::InvalidArgument("limit must be an integer");
    limit = std::clamp<int64_t>(*n, 0, 10000);
  }
  std::string start;
  if (const Value* s = options.FindKey("start"); s && !s->is_null()) {
    if (!s->is_string()) return Status::InvalidArgument("start must be a work unit key");
    start = s->str();
  }
  const std::string prefix = keys::Spec(spec->id);
  std::vector<std::string> found;  // unit keys in reply order
  const Value* state = options.FindKey("state");
  if (state && !state->is_null()) {
    COORD_ASSIGN_OR_RETURN(std::vector<int> states, ParseStates(*state));
    // Each status is listed by (priority desc, key asc): take up to `limit` from each, then
    // merge.
    std::vector<std::pair<std::string, std::string>> merged;  // (position, key)
    for (int s : states) {
      int64_t n = 0;
      COORD_RETURN_IF_ERROR(
          VisitByStatus(*spec, s, "", [&](std::string_view pos, std::string_view unit_key) {
            if (n >= limit) return false;
            if (unit_key < std::string_view(start)) return true;
            merged.emplace_back(std::string(pos), std::string(unit_key));
            ++n;
            return true;
          }));
    }
    std::sort(merged.begin(), merged.end());
    for (size_t i = 0; i < merged.size() && static_cast<int64_t>(i) < limit; ++i) {
      found.push_back(std::move(merged[i].second));
    }
  } else {
    auto it = store_->NewIterator(Cf::kUnits, prefix, keys::PrefixEnd(prefix));
    it->Seek(prefix + start);
    for (; it->Valid() && static_cast<int64_t>(found.size()) < limit; it->Next()) {
      found.emplace_back(it->key().substr(prefix.size()));
    }
  }
  out.reserve(found.size());
  for (const auto& k : found) {
    COORD_ASSIGN_OR_RETURN(auto rec, ReadUnit(*spec, k));
    if (!rec) continue;
    out.emplace_back(KeyValue(*rec, k), std::move(rec->data));
  }
  return out;
}

Status Coordinator::EnsurePendingOrder(const SpecState& spec) const {
  if (spec.pending_order) return Status::Ok();
  std::set<std::string, std::less<>> order;
  const std::string sp = keys::Spec(spec.id);
  auto it = store_->NewIterator(Cf::kLeases, sp, keys::PrefixEnd(sp));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const storage::DecodedIndexKey d = storage::DecodeIndexKey(it->key());
    if (!d.valid) continue;  // a damaged store: `check` reports it
    COORD_ASSIGN_OR_RETURN(auto rec, ReadUnit(spec, d.unit_key));
    // A lease entry whose unit is not PENDING is damage `check` reports; a unit with two
    // lease entries is listed once.
    if (rec && rec->status == storage::kPending) {
      order.insert(ListingPosition(rec->priority, d.unit_key));
    }
  }
  COORD_RETURN_IF_ERROR(it->status());
  spec.pending_order = std::move(order);
  return Status::Ok();
}

Status Coordinator::VisitByStatus(const SpecState& spec, int status, std::string_view from,
                                  const StatusVisitor& visit) const {
  const std::string sp = keys::Spec(spec.id);
  if (status == storage::kPending) {
    // Not in by_status (every PENDING unit has a lease entry): listed from memory.
    COORD_RETURN_IF_ERROR(EnsurePendingOrder(spec));
    const auto& order = *spec.pending_order;
    // Each step looks the next position up afresh and visits a copy, so a `visit` that changes
    // units of the spec (and so this order) cannot invalidate the walk.
    std::string pos;
    for (auto it = order.lower_bound(from); it != order.end(); it = order.upper_bound(pos)) {
      pos = *it;
      if (!visit(pos, std::string_view(pos).substr(8))) break;
    }
    return Status::Ok();
  }
  // by_status, and for AVAILABLE also ready (the units not delayed), merged by position.
  const std::string bp = keys::StatusPrefix(spec.id, status);
  auto by = store_->NewIterator(Cf::kByStatus, bp, keys::PrefixEnd(bp));
  by->Seek(bp + std::string(from));
  std::unique_ptr<storage::Iterator> ready;
  if (status == storage::kAvailable) {
    ready = store_->NewIterator(Cf::kReady, sp, keys::PrefixEnd(sp));
    ready->Seek(sp + std::string(from));
  }
  auto position = [](storage::Iterator* it, size_t prefix) -> std::optional<std::string_view> {
    // Keys too short to hold a priority are damage (`check` reports them): skipped.
    while (it->Valid() && it->key().size() < prefix + 8) it->Next();
    if (!it->Valid()) return std::nullopt;
    return it->key().substr(prefix);
  };
  while (true) {
    const std::optional<std::string_view> b = position(by.get(), bp.size());
    const std::optional<std::string_view> r =
        ready ? position(ready.get(), sp.size()) : std::nullopt;
    if (!b && !r) break;
    const bool take_ready = r && (!b || *r < *b);
    const std::string_view pos = take_ready ? *r : *b;
    if (!visit(pos, pos.substr(8))) break;
    (take_ready ? ready : by)->Next();
  }
  COORD_RETURN_IF_ERROR(by->status());
  if (ready) COORD_RETURN_IF_ERROR(ready->status());
  return Status::Ok();
}

StatusOr<std::vector<Value>> Coordinator::GetWorkUnitStatus(const Value& name, const Value& keys) {
  SpecState* spec = Find(name);
  if (!spec) return NoSuchSpec(name);
  std::vector<Value> list;
  if (keys.is_string()) {
    list.push_back(keys);
  } else if (keys.is_sequence()) {
    list = keys.items();
  } else {
    return Status::InvalidArgument("work unit keys must be a list");
  }
  {
    Txn txn(this);
    Reap(txn, *spec, clock_->Now());
    COORD_RETURN_IF_ERROR(txn.Commit());
  }
  std::vector<Value> out;
  for (const Value& k : list) {
    if (!k.is_string()) {
      out.push_back(Value::Null());
      continue;
    }
    COORD_ASSIGN_OR_RETURN(auto rec, ReadUnit(*spec, k.str()));
    if (!rec) {
      out.push_back(Value::Null());
      continue;
    }
    Value m = Value::Map();
    m.AppendEntry(Value::Bytes("status"), Value::UInt(static_cast<uint64_t>(rec->status)));
    m.AppendEntry(Value::Bytes("expiration"),
                  rec->expiration ? Value::Double(*rec->expiration) : Value::Null());
    if (!rec->worker_id.is_null()) m.AppendEntry(Value::Bytes("worker_id"), rec->worker_id);
    if (const Value* tb = rec->data.FindKey("traceback")) {
      m.AppendEntry(Value::Bytes("traceback"), *tb);
    }
    if (rec->blockers > 0) {
      COORD_ASSIGN_OR_RETURN(auto pre, PendingPrerequisites(*spec, k.str()));
      Value deps = Value::Array();
      for (auto& [s, key] : pre) deps.Append(Value::TupleOf(std::move(s), std::move(key)));
      m.AppendEntry(Value::Bytes("depends_on"), std::move(deps));
    }
    out.push_back(std::move(m));
  }
  return out;
}

StatusOr<std::map<int, uint64_t>> Coordinator::CountWorkUnits(const Value& name) {
  SpecState* spec = Find(name);
  if (!spec) return NoSuchSpec(name);
  {
    Txn txn(this);
    Reap(txn, *spec, clock_->Now());
    COORD_RETURN_IF_ERROR(txn.Commit());
  }
  std::map<int, uint64_t> out;
  for (int s = 1; s <= 5; ++s) {
    uint64_t n = spec->stats.counts[s] + spec->stats.archived[s];
    if (n) out[s] = n;
  }
  return out;
}

Status Coordinator::PrioritizeWorkUnits(const Value& name, const Value& options) {
  SpecState* spec = Find(name);
  if (!spec) return NoSuchSpec(name);
  const Value* wanted = options.FindKey("work_unit_keys");
  if (!wanted || wanted->is_null()) return Status::FailedPrecondition("missing work_unit_keys");
  if (!wanted->is_sequence()) return Status::InvalidArgument("work_unit_keys must be a list");
  const Value* priority = options.FindKey("priority");
  const Value* adjustment = options.FindKey("adjustment");
  const bool set = priority && !priority->is_null();
  const bool adjust = !set && adjustment && !adjustment->is_null();
  if (!set && !adjust) return Status::Ok();
  const Value* amount = set ? priority : adjustment;
  if (!amount->is_number() || !std::isfinite(*amount->AsNumber())) {
    return Status::InvalidArgument(set ? "priority must be a number"
                                       : "adjustment must be a number");
  }
  Txn txn(this);
  for (const Value& k : wanted->items()) {
    if (!k.is_string()) continue;
    COORD_ASSIGN_OR_RETURN(auto rec, txn.Read(*spec, k.str()));
    if (!rec) continue;
    UnitRecord after = *rec;
    after.priority = set ? *amount->AsNumber() : after.priority + *amount->AsNumber();
    PutUnit(txn, *spec, k.str(), &*rec, &after);
  }
  return txn.Commit();
}

StatusOr<uint64_t> Coordinator::DelWorkUnits(const Value& name, const Value& options) {
  SpecState* spec = Find(name);
  if (!spec) return NoSuchSpec(name);
  Txn txn(this);
  uint64_t deleted = 0;
  const Value* all = options.FindKey("all");
  const Value* wanted = options.FindKey("work_unit_keys");
  const Value* state = options.FindKey("state");
  const bool has_state = state && !state->is_null();
  std::optional<int> only;
  if (has_state) {
    auto n = state->AsInt64();
    if (!n || !storage::ValidStatus(static_cast<int>(*n))) {
      return Status::InvalidArgument("state must be a work unit status 1..5");
    }
    only = static_cast<int>(*n);
  }
  if (all && all->Truthy()) {
    for (int s = 1; s <= 5; ++s) deleted += spec->stats.counts[s] + spec->stats.archived[s];
    // Units of this spec held by workers keep stale worker_units entries; readers skip them.
    COORD_RETURN_IF_ERROR(DetachSpecEdges(txn, *spec));
    const std::string prefix = keys::Spec(spec->id);
    for (const auto& info : storage::kColumnFamilies) {
      if (info.per_spec && info.cf != Cf::kSpecs) {
        txn.batch().DeleteRange(info.cf, prefix, keys::PrefixEnd(prefix));
      }
    }
    spec->stats.counts = {};
    spec->stats.archived = {};
    if (spec->pending_order) spec->pending_order->clear();
    spec->best_valid = true;
    spec->best_priority.reset();
    spec->next_deadline.reset();
    spec->next_due.reset();
    txn.Touch(*spec);
  } else if (wanted && !wanted->is_null()) {
    // Given keys (even none) select only those keys, filtered by `state` when also given.
    if (!wanted->is_sequence()) return Status::InvalidArgument("work_unit_keys must be a list");
    for (const Value& k : wanted->items()) {
      if (!k.is_string()) continue;
      COORD_ASSIGN_OR_RETURN(auto rec, txn.Read(*spec, k.str()));
      if (!rec || (only && rec->status != *only)) continue;
      DeleteUnitFully(txn, *spec, k.str(), *rec);
      ++deleted;
    }
  } else if (only) {
    std::vector<std::string> doomed;
    COORD_RETURN_IF_ERROR(
        VisitByStatus(*spec, *only, "", [&](std::string_view, std::string_view key) {
          doomed.emplace_back(key);
          return true;
        }));
    for (const std::string& key : doomed) {
      COORD_ASSIGN_OR_RETURN(auto rec, txn.Read(*spec, key));
      if (!rec) continue;
      DeleteUnitFully(txn, *spec, key, *rec);
      ++deleted;
    }
    deleted += spec->stats.archived[*only];
    spec->stats.archived[*only] = 0;
    txn.Touch(*spec);
  } else {
    return Status::FailedPrecondition("no usable options to del_work_units");
  }
  COORD_RETURN_IF_ERROR(txn.Commit());
  return deleted;
}

Status Coordinator::ArchiveSpec(Txn& txn, SpecState& spec, double now) {
  for (int status : {storage::kFinished, storage::kFailed}) {
    const std::string p = keys::CompletedPrefix(spec.id, status);
    uint64_t live = spec.stats.counts[status];
    uint64_t over = 0;
    if (options_.limit_completed_count &&
        live > static_cast<uint64_t>(*options_.limit_completed_count)) {
      over = live - static_cast<uint64_t>(*options_.limit_completed_count);
    }
    const double cutoff =
        options_.limit_completed_age ? now - *options_.limit_completed_age : -INFINITY;
    auto it = store_->NewIterator(Cf::kCompleted, p, keys::PrefixEnd(p));
    uint64_t removed = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view rest = it->key().substr(p.size());
      const double when = storage::FromTimeKey(storage::GetU64(rest));
      if (removed >= over && !(when < cutoff)) break;
      std::string key(rest.substr(8));
      COORD_ASSIGN_OR_RETURN(auto rec, txn.Read(spec, key));
      if (!rec) continue;
      DeleteUnitFully(txn, spec, key, *rec);
      ++spec.stats.archived[status];
      ++removed;
    }
    COORD_RETURN_IF_ERROR(it->status());
  }
  return Status::Ok();
}

Status Coordinator::Archive(const Value& options) {
  if (!options_.limit_completed_count && !options_.limit_completed_age) return Status::Ok();
  const double now = clock_->Now();
  std::vector<SpecState*> targets;
  const Value* names = options.FindKey("work_spec_names");
  if (names && names->is_sequence()) {
    for (const Value& n : names->items()) {
      if (SpecState* s = Find(n)) targets.push_back(s);
    }
  } else {
    for (auto& [n, s] : specs_) targets.push_back(s.get());
  }
  Txn txn(this);
  for (SpecState* s : targets) COORD_RETURN_IF_ERROR(ArchiveSpec(txn, *s, now));
  return txn.Commit();
}

StatusOr<std::vector<Value>> Coordinator::GetWorkUnitAttempts(const Value& name, const Value& key) {
  SpecState* spec = Find(name);
  if (!spec) return NoSuchSpec(name);
  if (!key.is_string()) return Status::InvalidArgument("the work unit key must be a string");
  COORD_ASSIGN_OR_RETURN(auto rec, ReadUnit(*spec, key.str()));
  if (!rec) return Status::NotFound("no such work unit key=" + PyRepr(key));
  std::vector<Value> out;
  COORD_ASSIGN_OR_RETURN(auto attempts, storage::ReadAttempts(*store_, spec->id, key.str(), *rec));
  for (const storage::NumberedAttempt& n : attempts) {
    const storage::AttemptRecord* a = &n.record;
    Value m = Value::Map();
    m.AppendEntry(Value::Bytes("worker_id"), a->worker_id);
    m.AppendEntry(Value::Bytes("start"), Value::Double(a->start));
    m.AppendEntry(Value::Bytes("expires"), Value::Double(a->expires));
    m.AppendEntry(Value::Bytes("end"), a->end ? Value::Double(*a->end) : Value::Null());
    m.AppendEntry(Value::Bytes("status"), Value::Bytes(a->status));
    out.push_back(std::move(m));
  }
  return out;
}

StatusOr<double> Coordinator::OldestAvailableAge(const SpecState& spec) const {
  const std::string prefix = keys::Spec(spec.id);
  auto it = store_->NewIterator(Cf::kWaiting, prefix, keys::PrefixEnd(prefix));
  it->SeekToFirst();
  if (!it->Valid()) {
    COORD_RETURN_IF_ERROR(it->status());
    return 0.0;
  }
  const double since = storage::FromTimeKey(storage::DecodeIndexKey(it->key()).number);
  return std::max(0.0, clock_->Now() - since);
}

}  // namespace coordinated::scheduler
