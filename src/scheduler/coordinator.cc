// Coordinator core: loading, the transaction helper, unit index maintenance, reaping, ticks.
#include "scheduler/coordinator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "common/crash_point.h"
#include "scheduler/coordinator_txn.h"
#include "scheduler/unit_index.h"
#include "storage/keys.h"

namespace coordinated::scheduler {

using storage::Cf;
using storage::UnitRecord;
namespace keys = storage::keys;

namespace {
// Decodes one UTF-8 sequence at s[i]; returns the code point (or -1 when malformed) and
// advances i.
long NextCodePoint(const std::string& s, size_t* i) {
  const unsigned char c = static_cast<unsigned char>(s[*i]);
  int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
  if (extra < 0 || *i + static_cast<size_t>(extra) >= s.size() + (extra == 0 ? 1 : 0)) {
    ++*i;
    return -1;
  }
  long cp = extra == 0 ? c : c & (0x3f >> extra);
  for (int k = 1; k <= extra; ++k) {
    const unsigned char cc = static_cast<unsigned char>(s[*i + static_cast<size_t>(k)]);
    if ((cc >> 6) != 2) {
      ++*i;
      return -1;
    }
    cp = (cp << 6) | (cc & 0x3f);
  }
  *i += static_cast<size_t>(extra) + 1;
  return cp;
}
}  // namespace

std::string PyRepr(const Value& v) {
  if (!v.is_string()) return v.ToDiagnostic();
  const std::string& s = v.str();
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out = v.is_text() ? "u" : "";
  out.push_back(quote);
  for (size_t i = 0; i < s.size();) {
    // Byte strings escape bytes; text strings escape code points (u'f\xfc', u'\u20ac').
    long c = v.is_text() ? NextCodePoint(s, &i) : static_cast<unsigned char>(s[i++]);
    if (c < 0) c = 0xfffd;
    if (c == quote || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || (c >= 0x7f && c < 0x100)) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c >= 0x100 && c < 0x10000) {
      out += fmt::format("\\u{:04x}", c);
    } else if (c >= 0x10000) {
      out += fmt::format("\\U{:08x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back(quote);
  return out;
}

Coordinator::Coordinator(storage::Store* store, Clock* clock, CoordinatorOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

Coordinator::~Coordinator() = default;

Status Coordinator::Load() {
  MarkSpecsChanged();
  specs_.clear();
  by_id_.clear();
  next_spec_id_ = 1;
  timer_floor_ = -INFINITY;
  std::string v;
  Status s = store_->Get(Cf::kMeta, keys::kNextSpecId, &v);
  if (s.ok() && v.size() == 4) next_spec_id_ = storage::GetU32(v);
  s = store_->Get(Cf::kMeta, keys::kMode, &v);
  mode_ = s.ok() ? v : "RUN";

  {
    auto deps = store_->NewIterator(Cf::kDepsForward, "", "");
    deps->SeekToFirst();
    has_dependencies_ = deps->Valid();
  }
  auto it = store_->NewIterator(Cf::kSpecs, "", "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto rec = storage::DecodeSpec(it->value());
    if (!rec.ok()) return rec.status();
    auto spec = std::make_unique<SpecState>();
    spec->id = storage::GetU32(it->key());
    spec->record = std::move(rec).value();
    spec->name_bytes = spec->record.name.str();
    spec->settings = DeriveSettings(spec->record.definition, spec->record.control);
    std::string stats;
    Status ss = store_->Get(Cf::kMeta, keys::SpecStats(spec->id), &stats);
    if (ss.ok()) {
      auto st = storage::DecodeStats(stats);
      if (!st.ok()) return st.status();
      spec->stats = *st;
    } else if (ss.code() != Code::kNotFound) {
      return ss;
    }
    // Earliest lease deadline and not-before: one seek each per spec.
    const std::string prefix = keys::Spec(spec->id);
    for (Cf cf : {Cf::kLeases, Cf::kDelayed}) {
      auto idx = store_->NewIterator(cf, prefix, keys::PrefixEnd(prefix));
      idx->SeekToFirst();
      if (idx->Valid()) {
        double t = storage::FromTimeKey(storage::DecodeIndexKey(idx->key()).number);
        (cf == Cf::kLeases ? spec->next_deadline : spec->next_due) = t;
      }
    }
    COORD_CRASH_POINT("coordinator.load");
    by_id_[spec->id] = spec.get();
    next_spec_id_ = std::max(next_spec_id_, spec->id + 1);
    specs_[spec->name_bytes] = std::move(spec);
  }
  return it->status();
}

SpecState* Coordinator::Find(const Value& name) const {
  if (!name.is_string()) return nullptr;
  auto it = specs_.find(name.str());
  return it == specs_.end() ? nullptr : it->second.get();
}

Status Coordinator::ValidateName(const Value& name, std::string_view what, uint64_t max) const {
  if (!name.is_string()) {
    return Status::InvalidArgument(
        fmt::format("{} must be a string, got {}", what, name.ToDiagnostic()));
  }
  if (name.str().size() > max) {
    return Status::InvalidArgument(
        fmt::format("{} is {} bytes long; the limit is {}", what, name.str().size(), max));
  }
  return Status::Ok();
}

StatusOr<std::optional<UnitRecord>> Coordinator::ReadUnit(const SpecState& spec,
                                                          std::string_view key,
                                                          storage::UnitData data) const {
  std::string v;
  Status s = store_->Get(Cf::kUnits, keys::Unit(spec.id, key), &v);
  if (s.code() == Code::kNotFound) return std::optional<UnitRecord>();
  if (!s.ok()) return s;
  auto rec = storage::DecodeUnit(v, data);
  if (!rec.ok()) return rec.status();
  return std::optional<UnitRecord>(std::move(rec).value());
}

// ---- Txn ----------------------------------------------------------------------------------

StatusOr<std::optional<UnitRecord>> Coordinator::Txn::Read(const SpecState& spec,
                                                           std::string_view key,
                                                           storage::UnitData data) {
  auto it = overlay_.find({spec.id, std::string(key)});
  if (it == overlay_.end()) return c_->ReadUnit(spec, key, data);
  std::optional<UnitRecord> r = it->second;
  // Data written in this transaction may be bytes (Value::Encoded): decoded unless allowed.
  if (r && r->data.is_encoded() && data == storage::UnitData::kDecoded) {
    r->data = r->data.Decoded();
  }
  return r;
}

void Coordinator::Txn::Remember(const SpecState& spec, std::string_view key,
                                const UnitRecord* now) {
  overlay_[{spec.id, std::string(key)}] = now ? std::optional<UnitRecord>(*now) : std::nullopt;
}

void Coordinator::Txn::Remember(const SpecState& spec, std::string_view key, UnitRecord&& now) {
  overlay_[{spec.id, std::string(key)}] = std::move(now);
}

Coordinator::Txn::~Txn() {
  if (batch_.empty() && touched_.empty() && dep_events_.empty()) return;
  SPDLOG_WARN("an operation failed after {} changes it did not apply: reloading state",
              batch_.Count());
  Discard();
}

void Coordinator::Txn::Discard() {
  batch_.Clear();
  touched_.clear();
  overlay_.clear();
  dep_events_.clear();
  c_->counters_ = counters_at_start_;
  Status reload = c_->Load();
  if (!reload.ok()) SPDLOG_ERROR("reload failed: {}", reload.ToString());
}

Status Coordinator::Txn::Commit() {
  // Dependency releases and failure cascades join this same write.
  while (!dep_events_.empty()) {
    Event e = std::move(dep_events_.back());
    dep_events_.pop_back();
    Status s = c_->ApplyDependencyEvent(*this, *e.spec, e.key, static_cast<int>(e.event));
    if (!s.ok()) {
      Discard();
      return s;
    }
  }
  for (SpecState* spec : touched_) {
    batch_.Put(Cf::kMeta, keys::SpecStats(spec->id), storage::EncodeStats(spec->stats));
  }
  Status s = c_->store_->Write(batch_);
  batch_.Clear();
  touched_.clear();
  overlay_.clear();
  if (!s.ok()) {
    SPDLOG_ERROR("write failed, reloading state from the store: {}", s.ToString());
    Discard();
  }
  return s;
}

// ---- unit index maintenance ---------------------------------------------------------------

std::vector<IndexEntry> UnitIndexEntries(storage::SpecId id, std::string_view key,
                                         const UnitRecord& u) {
  std::vector<IndexEntry> out;
  out.reserve(3);
  if (storage::InByStatus(u))
    out.push_back({Cf::kByStatus, keys::ByStatus(id, u.status, u.priority, key)});
  switch (u.status) {
    case storage::kAvailable:
      out.push_back({Cf::kWaiting, keys::Waiting(id, storage::WaitingSince(u), key)});
      if (u.not_before > 0) {
        out.push_back({Cf::kDelayed, keys::Delayed(id, u.not_before, key)});
      } else {
        out.push_back({Cf::kReady, keys::Ready(id, u.priority, key)});
      }
      break;
    case storage::kPending:
      out.push_back({Cf::kLeases, keys::Lease(id, u.expiration.value_or(0), key)});
      break;
    case storage::kFinished:
    case storage::kFailed:
      out.push_back({Cf::kCompleted, keys::Completed(id, u.status, u.expiration.value_or(0), key)});
      break;
    default:
      break;
  }
  return out;
}

namespace {
bool IsReady(const UnitRecord& u) { return u.status == storage::kAvailable && u.not_before <= 0; }
}  // namespace

void Coordinator::PutUnit(Txn& txn, SpecState& spec, std::string_view key, const UnitRecord* before,
                          UnitRecord* now, bool consume_now) {
  if (now) {
    // A unit waiting for prerequisites is BLOCKED instead of AVAILABLE, and the other way round.
    if (now->status == storage::kAvailable || now->status == storage::kBlocked) {
      now->status = now->blockers > 0 ? storage::kBlocked : storage::kAvailable;
    }
    // A not-before time only means something for an AVAILABLE unit, a lease start only for a
    // PENDING one (its open attempt, see storage/attempts.h).
    if (now->status != storage::kAvailable) now->not_before = 0;
    if (now->status != storage::kPending) now->lease_start = 0;
    if (now->status == storage::kAvailable) {
      const bool was_waiting =
          before && before->status == storage::kAvailable && before->available_since > 0;
      now->available_since = was_waiting ? before->available_since : clock_->Now();
    } else {
      now->available_since = 0;
    }
  }
  {
    const int was = before ? before->status : 0;
    if (!before && now) ++counters_.created;
    if (now && now->status == storage::kFinished && was != storage::kFinished) {
      ++counters_.finished;
    }
    if (now && now->status == storage::kFailed && was != storage::kFailed) ++counters_.failed;
  }
  if (has_dependencies_) {
    const int was = before ? before->status : 0;
    if (!now) {
      if (before) txn.Queue(spec, key, Txn::DepEvent::kDeleted);
    } else if (now->status == storage::kFinished && was != storage::kFinished) {
      txn.Queue(spec, key, Txn::DepEvent::kFinished);
    } else if (now->status == storage::kFailed && was != storage::kFailed &&
               was != storage::kFinished) {
      txn.Queue(spec, key, Txn::DepEvent::kFailed);
    }
  }
  auto& batch = txn.batch();
  std::vector<IndexEntry> old_entries, new_entries;
  if (before) old_entries = UnitIndexEntries(spec.id, key, *before);
  if (now) new_entries = UnitIndexEntries(spec.id, key, *now);
  for (const auto& e : old_entries) {
    if (std::find(new_entries.begin(), new_entries.end(), e) == new_entries.end()) {
      batch.Delete(e.cf, e.key);
    }
  }
  for (const auto& e : new_entries) {
    if (std::find(old_entries.begin(), old_entries.end(), e) == old_entries.end()) {
      batch.Put(e.cf, e.key, "");
    }
  }
  if (now) {
    // A leased unit's record is read again at its finish, fail, renewal or expiry.
    batch.Put(Cf::kUnits, keys::Unit(spec.id, key), storage::EncodeUnit(*now),
              /*read_soon=*/now->status == storage::kPending);
  } else {
    batch.Delete(Cf::kUnits, keys::Unit(spec.id, key));
  }
  if (before) --spec.stats.counts[before->status];
  if (now) ++spec.stats.counts[now->status];
  if (spec.pending_order) {
    if (before && before->status == storage::kPending) {
      spec.pending_order->erase(ListingPosition(before->priority, key));
    }
    if (now && now->status == storage::kPending) {
      spec.pending_order->insert(ListingPosition(now->priority, key));
    }
  }
  txn.Touch(spec);
  // In-memory summaries.
  if (before && IsReady(*before)) {
    spec.best_valid = false;
  } else if (now && IsReady(*now) && spec.best_valid) {
    spec.best_priority = std::max(spec.best_priority.value_or(-INFINITY), now->priority);
  }
  if (now && IsReady(*now) && !spec.ready_floor.empty()) {
    std::string k = keys::Ready(spec.id, now->priority, key);
    if (k < spec.ready_floor) spec.ready_floor = std::move(k);
  }
  if (now && now->status == storage::kPending && now->expiration) {
    spec.next_deadline = std::min(spec.next_deadline.value_or(INFINITY), *now->expiration);
    NoteTimer(*spec.next_deadline);
  }
  if (now && now->status == storage::kAvailable && now->not_before > 0) {
    spec.next_due = std::min(spec.next_due.value_or(INFINITY), now->not_before);
    NoteTimer(*spec.next_due);
  }
  if (now && consume_now) {
    txn.Remember(spec, key, std::move(*now));
  } else {
    txn.Remember(spec, key, now);
  }
}

void Coordinator::DeleteUnitFully(Txn& txn, SpecState& spec, std::string_view key,
                                  const UnitRecord& before) {
  PutUnit(txn, spec, key, &before, nullptr);
  const std::string prefix = keys::AttemptPrefix(spec.id, key);
  txn.batch().DeleteRange(Cf::kAttempts, prefix, keys::PrefixEnd(prefix));
  if (before.worker_id.is_string()) {
    txn.batch().Delete(Cf::kWorkerUnits, keys::WorkerUnit(before.worker_id.str(), spec.id, key));
  }
}

void Coordinator::EndAttempt(Txn& txn, const SpecState& spec, std::string_view key,
                             const UnitRecord& unit, const char* outcome, double now) {
  // Only a PENDING unit has an open attempt; it is in the unit record until it ends here.
  if (unit.status != storage::kPending || unit.attempts == 0) return;
  txn.batch().Put(Cf::kAttempts, keys::Attempt(spec.id, key, unit.attempts),
                  storage::EncodeAttempt(storage::EndedAttempt(unit, outcome, now)));
}

// ---- reaping: lease expiry and delayed release --------------------------------------------

void Coordinator::Reap(Txn& txn, SpecState& spec, double now) {
  const std::string prefix = keys::Spec(spec.id);
  std::string bound = prefix;  // index keys of times up to `now` (whole microseconds) sort below
  storage::PutU64(&bound, storage::TimeKey(now) + 1);
  // The earliest time among entries not handled now: those after `bound`, and those inside it
  // that turn out to be a fraction of a microsecond in the future.
  auto next_time = [&](Cf cf, std::optional<double> skipped) -> std::optional<double> {
    auto next = store_->NewIterator(cf, bound, keys::PrefixEnd(prefix));
    next->SeekToFirst();
    if (next->Valid()) {
      const double t = storage::FromTimeKey(storage::DecodeIndexKey(next->key()).number);
      return skipped ? std::min(*skipped, t) : t;
    }
    return skipped;
  };
  auto due_keys = [&](Cf cf) {
    std::vector<std::string> due;
    auto it = store_->NewIterator(cf, prefix, bound);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      due.emplace_back(storage::DecodeIndexKey(it->key()).unit_key);
    }
    return due;
  };
  // Delayed units first: releasing them never creates lease entries, while expiring a lease
  // below may create delayed ones (kept in next_due by PutUnit).
  if (spec.next_due && *spec.next_due <= now) {
    std::optional<double> skipped;
    spec.next_due.reset();
    for (const auto& key : due_keys(Cf::kDelayed)) {
      auto rec = txn.Read(spec, key);
      if (!rec.ok() || !rec->has_value()) continue;
      UnitRecord before = **rec;
      if (before.status != storage::kAvailable || before.not_before <= 0) continue;
      if (before.not_before > now) {
        skipped = std::min(skipped.value_or(INFINITY), before.not_before);
        continue;
      }
      UnitRecord after = before;
      after.not_before = 0;
      PutUnit(txn, spec, key, &before, &after);
    }
    auto next = next_time(Cf::kDelayed, skipped);
    if (next) {
      spec.next_due = std::min(spec.next_due.value_or(INFINITY), *next);
      NoteTimer(*spec.next_due);
    }
  }
  if (spec.next_deadline && *spec.next_deadline <= now) {
    std::optional<double> skipped;
    spec.next_deadline.reset();
    for (const auto& key : due_keys(Cf::kLeases)) {
      auto rec = txn.Read(spec, key);
      if (!rec.ok() || !rec->has_value()) continue;
      UnitRecord before = **rec;
      if (before.status != storage::kPending) continue;
      if (before.expiration.value_or(0) > now) {
        skipped = std::min(skipped.value_or(INFINITY), *before.expiration);
        continue;
      }
      UnitRecord after = before;
      ++after.expiries;
      ++counters_.expired;
      EndAttempt(txn, spec, key, before, "expired", now);
      if (spec.settings.max_retries > 0 && after.expiries >= spec.settings.max_retries) {
        after.status = storage::kFailed;
        after.expiration = now;
        if (!after.data.is_map()) after.data = Value::Map();
        after.data.Set(Value::Bytes("traceback"), Value::Bytes("too many retries"));
      } else {
        after.status = storage::kAvailable;
        after.worker_id = Value::Null();
        after.expiration.reset();
      }
      PutUnit(txn, spec, key, &before, &after);
    }
    auto next = next_time(Cf::kLeases, skipped);
    if (next) {
      spec.next_deadline = std::min(spec.next_deadline.value_or(INFINITY), *next);
      NoteTimer(*spec.next_deadline);
    }
  }
}

void Coordinator::ReapAll(Txn& txn, double now) {
  if (now < timer_floor_) return;
  double floor = INFINITY;
  for (auto& [name, spec] : specs_) {
    Reap(txn, *spec, now);
    if (spec->next_deadline) floor = std::min(floor, *spec->next_deadline);
    if (spec->next_due) floor = std::min(floor, *spec->next_due);
  }
  // Times noted while reaping (PutUnit) are already in the specs' summaries.
  timer_floor_ = floor;
}

const std::vector<SpecState*>& Coordinator::SpecOrder() {
  if (spec_order_stale_) {
    spec_order_.clear();
    spec_order_.reserve(specs_.size());
    for (auto& [name, spec] : specs_) spec_order_.push_back(spec.get());
    spec_order_stale_ = false;
  }
  return spec_order_;
}

std::optional<double> Coordinator::FindBestReady(SpecState& spec) {
  const std::string prefix = keys::Spec(spec.id);
  auto it = store_->NewIterator(Cf::kReady, prefix, keys::PrefixEnd(prefix));
  it->Seek(spec.ready_floor.empty() ? prefix : spec.ready_floor);
  spec.best_priority.reset();
  if (it->Valid()) {
    spec.best_priority = storage::FromInvertedPriority(storage::DecodeIndexKey(it->key()).number);
    spec.ready_floor = std::string(it->key());
  }
  spec.best_valid = true;
  if (collect_probes_) probes_.push_back({&spec, std::move(it)});
  return spec.best_priority;
}

double Coordinator::Tick() {
  const double now = clock_->Now();
  double wait = 1.0;
  {
    Txn txn(this);
    ReapAll(txn, now);
    Status s = txn.Commit();
    if (!s.ok()) SPDLOG_ERROR("lease expiry failed: {}", s.ToString());
  }
  for (auto& [name, spec] : specs_) {
    if (spec->next_deadline) wait = std::min(wait, *spec->next_deadline - now);
    if (spec->next_due) wait = std::min(wait, *spec->next_due - now);
  }
  if (now >= next_archive_ && (options_.limit_completed_count || options_.limit_completed_age)) {
    Status s = Archive(Value::Map());
    if (!s.ok()) SPDLOG_ERROR("archive failed: {}", s.ToString());
    next_archive_ = now + options_.archive_period_seconds;
  }
  if (now >= next_worker_prune_) {
    Status s = PruneWorkers(now);
    if (!s.ok()) SPDLOG_ERROR("worker pruning failed: {}", s.ToString());
    s = PruneLocks(now);
    if (!s.ok()) SPDLOG_ERROR("lock pruning failed: {}", s.ToString());
    next_worker_prune_ = now + 10;
  }
  return std::max(wait, 0.001);
}

}  // namespace coordinated::scheduler
