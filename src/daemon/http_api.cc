#include "daemon/http_api.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "daemon/dashboard.h"
#include "daemon/http_util.h"
#include "daemon/metrics.h"
#include "daemon/version.h"
#include "rpc/server.h"
#include "scheduler/coordinator.h"
#include "scheduler/sequencer.h"
#include "storage/keys.h"
#include "storage/records.h"

namespace coordinated::daemon {

using json = nlohmann::json;
using scheduler::Coordinator;
using scheduler::SpecState;
using storage::Cf;
using storage::UnitRecord;
namespace keys = storage::keys;

namespace {

constexpr char kJsonType[] = "application/json; charset=utf-8";
constexpr int64_t kDefaultUnitLimit = 100;
constexpr int64_t kMaxUnitLimit = 1000;
constexpr int64_t kDefaultFailureLimit = 20;
constexpr int64_t kMaxFailureLimit = 100;
constexpr size_t kMaxWorkers = 1000;         // /api/workers lists at most this many
constexpr size_t kMaxLeasesPerWorker = 100;  // and this many leases of each
constexpr size_t kMaxLocks = 10000;
constexpr size_t kListTracebackBytes = 4096;  // tracebacks in lists are cut here
constexpr size_t kMaxFailureScan = 10000;     // completed-index entries scanned per spec and window
constexpr size_t kMaxRetryFailed = 1000;      // units one retry_failed call sends back

HttpResponse TextResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse JsonResponse(int status, json j) {
  HttpResponse r;
  r.status = status;
  r.content_type = kJsonType;
  auto shared = std::make_shared<json>(std::move(j));
  r.lazy_body = [shared] {
    return shared->dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  };
  return r;
}

HttpResponse JsonError(int status, std::string_view message) {
  return JsonResponse(status, json{{"error", std::string(message)}});
}

HttpResponse NotAllowed(bool api, const char* allow) {
  HttpResponse r = api ? JsonError(405, std::string("method not allowed; use ") + allow)
                       : TextResponse(405, std::string("method not allowed; use ") + allow + "\n");
  r.headers.emplace_back("Allow", allow);
  return r;
}

HttpResponse StatusError(const Status& s) {
  const int code = s.code() == Code::kNotFound             ? 404
                   : s.code() == Code::kInvalidArgument    ? 400
                   : s.code() == Code::kFailedPrecondition ? 409
                                                           : 500;
  return JsonError(code, s.ToString());
}

// "/api/specs/a%2Fb" -> {"api", "specs", "a/b"}; "/" -> {}. nullopt for a malformed escape or a
// path that does not start with '/'.
std::optional<std::vector<std::string>> Segments(std::string_view path) {
  if (path.empty() || path[0] != '/') return std::nullopt;
  std::vector<std::string> out;
  path.remove_prefix(1);
  if (path.empty()) return out;
  size_t pos = 0;
  while (true) {
    const size_t slash = path.find('/', pos);
    auto seg =
        PercentDecode(path.substr(pos, slash == std::string_view::npos ? slash : slash - pos));
    if (!seg) return std::nullopt;
    out.push_back(std::move(*seg));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return out;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// "3", "pending" -> 3; 0 when not a status.
int ParseStatus(std::string_view s) {
  if (auto n = ParseInt(s); n && *n >= 1 && *n <= 5) return static_cast<int>(*n);
  for (int st = 1; st <= 5; ++st) {
    if (StatusName(st) == s) return st;
  }
  std::string upper(s);
  for (int st = 1; st <= 5; ++st) {
    std::string name(StatusName(st));
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (name == upper) return st;
  }
  return 0;
}

json Name(std::string_view raw) { return DisplayString(raw); }

json TracebackJson(const Value& tb, size_t max_bytes) {
  if (!tb.is_string()) return ValueToJson(tb);
  std::string_view s = tb.str();
  if (s.size() <= max_bytes) return DisplayString(s);
  return DisplayString(s.substr(0, max_bytes)) + "\n[... cut]";
}

json CountsJson(const std::array<uint64_t, 6>& counts) {
  json j = json::object();
  for (int st = 1; st <= 5; ++st) j[std::string(StatusName(st))] = counts[st];
  return j;
}

std::array<uint64_t, 6> TotalCounts(const SpecState& spec) {
  std::array<uint64_t, 6> out{};
  for (int st = 1; st <= 5; ++st) out[st] = spec.stats.counts[st] + spec.stats.archived[st];
  return out;
}

StatusOr<std::optional<UnitRecord>> ReadUnit(const Coordinator* c, const SpecState& spec,
                                             std::string_view key) {
  std::string v;
  Status s = c->store()->Get(Cf::kUnits, keys::Unit(spec.id, key), &v);
  if (s.code() == Code::kNotFound) return std::optional<UnitRecord>();
  if (!s.ok()) return s;
  auto rec = storage::DecodeUnit(v);
  if (!rec.ok()) return rec.status();
  return std::optional<UnitRecord>(std::move(rec).value());
}

json UnitJson(std::string_view key, const UnitRecord& u, bool full) {
  json j = {{"key", Name(key)},       {"key_url", PercentEncode(key)},
            {"status", u.status},     {"status_name", std::string(StatusName(u.status))},
            {"priority", u.priority}, {"attempts", u.attempts}};
  j["worker_id"] = u.worker_id.is_null() ? json(nullptr) : ValueToJson(u.worker_id);
  j["expiration"] = u.expiration ? json(*u.expiration) : json(nullptr);
  if (u.not_before > 0) j["not_before"] = u.not_before;
  if (const Value* tb = u.data.FindKey("traceback")) {
    j["traceback"] = TracebackJson(*tb, full ? (1u << 20) : kListTracebackBytes);
  }
  if (full) {
    j["data"] = ValueToJson(u.data);
    j["expiries"] = u.expiries;
    j["blockers"] = u.blockers;
  }
  return j;
}

struct LiveWorker {
  storage::WorkerRecord rec;
  std::string id;  // raw bytes
};

// Live workers in id order; `limit` 0 = count only. Returns the number of live workers.
StatusOr<uint64_t> ScanWorkers(const Coordinator* c, size_t limit, std::vector<LiveWorker>* out) {
  const double now = c->clock()->Now();
  uint64_t n = 0;
  auto it = c->store()->NewIterator(Cf::kWorkers, "", "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto rec = storage::DecodeWorker(it->value());
    if (!rec.ok()) return rec.status();
    if (rec->expires <= now) continue;
    ++n;
    if (out && out->size() < limit)
      out->push_back({std::move(rec).value(), std::string(it->key())});
  }
  COORD_RETURN_IF_ERROR(it->status());
  return n;
}

}  // namespace

// The endpoint implementations; every method here runs on the sequencer thread.
class HttpApi::Impl {
 public:
  Impl(const HttpApi& api, Coordinator* c) : api_(api), c_(c) {}

  const SpecState* Find(const std::string& name_bytes) const {
    auto it = c_->specs().find(name_bytes);
    return it == c_->specs().end() ? nullptr : it->second.get();
  }

  HttpResponse Summary() {
    uint64_t leases = 0;
    uint64_t paused = 0;
    double oldest = 0;
    std::array<uint64_t, 6> totals{};
    for (const auto& [name, spec] : c_->specs()) {
      auto age = c_->OldestAvailableAge(*spec);
      if (!age.ok()) return StatusError(age.status());
      oldest = std::max(oldest, *age);
      leases += spec->stats.counts[storage::kPending];
      paused += spec->settings.paused ? 1 : 0;
      const auto counts = TotalCounts(*spec);
      for (int st = 1; st <= 5; ++st) totals[st] += counts[st];
    }
    auto workers = ScanWorkers(c_, 0, nullptr);
    if (!workers.ok()) return StatusError(workers.status());
    const auto& k = c_->counters();
    const double uptime = Uptime();
    const double now = c_->clock()->Now();
    const storage::Store* store = c_->store();
    json j = {
        {"version", kVersion},
        {"git_sha", api_.options_.git_sha},
        {"ready", !api_.draining_.load()},
        {"uptime_seconds", uptime},
        {"now", now},
        {"mode", c_->GetMode()},
        {"work_specs", c_->specs().size()},
        {"paused_work_specs", paused},
        {"units", CountsJson(totals)},
        {"leases_active", leases},
        {"workers_active", *workers},
        {"counters",
         {{"created", k.created},
          {"granted", k.granted},
          {"finished", k.finished},
          {"failed", k.failed},
          {"retried", k.retried},
          {"lease_expired", k.expired}}},
        {"storage",
         {{"bytes", store->ApproximateSize()},
          {"syncs", store->syncs()},
          {"sync_seconds", store->sync_seconds()},
          {"sync_max_seconds", store->max_sync_seconds()},
          {"sync_enabled", store->sync_enabled()}}},
        {"rpc",
         {{"connections", api_.rpc_ ? api_.rpc_->connections() : 0},
          {"connections_total", api_.rpc_ ? api_.rpc_->total_connections() : 0},
          {"requests", api_.metrics_ ? api_.metrics_->rpc_requests() : 0}}},
        {"allow_actions", api_.options_.allow_actions},
        {"oldest_available_age_seconds", oldest},
    };
    return JsonResponse(200, std::move(j));
  }

  json SpecJson(const SpecState& spec) {
    const auto& s = spec.settings;
    json j = {{"name", Name(spec.name_bytes)},
              {"name_url", PercentEncode(spec.name_bytes)},
              {"paused", s.paused},
              {"continuous", s.continuous},
              {"priority", s.priority},
              {"weight", s.weight},
              {"counts", CountsJson(TotalCounts(spec))},
              {"archived", CountsJson(spec.stats.archived)}};
    j["max_running"] = s.max_running ? json(*s.max_running) : json(nullptr);
    j["then"] = s.then.is_string() ? Name(s.then.str()) : json(nullptr);
    auto age = c_->OldestAvailableAge(spec);
    j["oldest_available_age_seconds"] = age.ok() ? json(*age) : json(nullptr);
    return j;
  }

  HttpResponse Specs() {
    json list = json::array();
    for (const auto& [name, spec] : c_->specs()) list.push_back(SpecJson(*spec));
    return JsonResponse(200, json{{"work_specs", std::move(list)}});
  }

  HttpResponse Spec(const SpecState& spec) {
    json j = SpecJson(spec);
    j["definition"] = ValueToJson(spec.record.definition);
    j["control"] = ValueToJson(spec.record.control);
    j["meta"] = ValueToJson(scheduler::SettingsToMeta(spec.settings));
    return JsonResponse(200, std::move(j));
  }

  // Without a status: key order, `start` a key (inclusive), `next` the next key. With a status:
  // the status index order (priority, then key, as get_work_units), `start` the `next` of the
  // previous page ("<16 hex digits>:" + key).
  HttpResponse Units(const SpecState& spec, int status, const std::string& start, int64_t limit) {
    json units = json::array();
    json next = nullptr;
    if (status == 0) {
      const std::string prefix = keys::Spec(spec.id);
      auto it = c_->store()->NewIterator(Cf::kUnits, prefix, keys::PrefixEnd(prefix));
      it->Seek(prefix + start);
      int64_t n = 0;
      for (; it->Valid(); it->Next()) {
        const std::string key(it->key().substr(prefix.size()));
        if (n == limit) {
          next = PercentEncode(key);
          break;
        }
        auto rec = storage::DecodeUnit(it->value());
        if (!rec.ok()) return StatusError(rec.status());
        units.push_back(UnitJson(key, *rec, false));
        ++n;
      }
      if (Status s = it->status(); !s.ok()) return StatusError(s);
    } else {
      std::string from;
      if (!start.empty()) {
        const auto colon = start.find(':');
        bool ok = colon == 16;
        for (size_t i = 0; ok && i < 16; i += 2) {
          auto hi = std::string_view("0123456789abcdef").find(start[i]);
          auto lo = std::string_view("0123456789abcdef").find(start[i + 1]);
          ok = hi != std::string_view::npos && lo != std::string_view::npos;
          if (ok) from += static_cast<char>(hi * 16 + lo);
        }
        if (!ok) {
          return JsonError(400, "with status, start must be the 'next' of the previous page");
        }
        from += start.substr(17);
      }
      int64_t n = 0;
      Status failed;
      Status s =
          c_->VisitByStatus(spec, status, from, [&](std::string_view pos, std::string_view key) {
            if (n == limit) {
              std::string cursor;
              for (unsigned char ch : pos.substr(0, 8)) cursor += fmt::format("{:02x}", ch);
              next = PercentEncode(cursor + ":" + std::string(key));
              return false;
            }
            auto rec = ReadUnit(c_, spec, std::string(key));
            if (!rec.ok()) {
              failed = rec.status();
              return false;
            }
            if (!*rec) return true;
            units.push_back(UnitJson(std::string(key), **rec, false));
            ++n;
            return true;
          });
      if (!failed.ok()) return StatusError(failed);
      if (!s.ok()) return StatusError(s);
    }
    json j = {{"work_spec", Name(spec.name_bytes)},
              {"work_spec_url", PercentEncode(spec.name_bytes)},
              {"units", std::move(units)},
              {"next", std::move(next)}};
    j["status"] = status ? json(status) : json(nullptr);
    return JsonResponse(200, std::move(j));
  }

  HttpResponse Unit(const SpecState& spec, const std::string& key) {
    auto rec = ReadUnit(c_, spec, key);
    if (!rec.ok()) return StatusError(rec.status());
    if (!*rec) return JsonError(404, "no such work unit");
    json j = UnitJson(key, **rec, true);
    j["work_spec"] = Name(spec.name_bytes);
    j["work_spec_url"] = PercentEncode(spec.name_bytes);
    auto attempts = c_->GetWorkUnitAttempts(spec.record.name, Value::Bytes(key));
    if (!attempts.ok()) return StatusError(attempts.status());
    json list = json::array();
    for (const Value& a : *attempts) list.push_back(ValueToJson(a));
    j["attempt_history"] = std::move(list);
    if ((*rec)->blockers > 0) {
      auto pre = c_->PendingPrerequisites(spec, key);
      if (!pre.ok()) return StatusError(pre.status());
      json deps = json::array();
      for (const auto& [s, k] : *pre) {
        const std::string sn = s.is_string() ? s.str() : s.ToDiagnostic();
        const std::string kn = k.is_string() ? k.str() : k.ToDiagnostic();
        deps.push_back({{"work_spec", Name(sn)},
                        {"work_spec_url", PercentEncode(sn)},
                        {"key", Name(kn)},
                        {"key_url", PercentEncode(kn)}});
      }
      j["depends_on"] = std::move(deps);
    }
    return JsonResponse(200, std::move(j));
  }

  HttpResponse Workers() {
    std::vector<LiveWorker> workers;
    auto total = ScanWorkers(c_, kMaxWorkers, &workers);
    if (!total.ok()) return StatusError(total.status());
    std::map<storage::SpecId, const SpecState*> by_id;
    for (const auto& [name, spec] : c_->specs()) by_id[spec->id] = spec.get();
    json list = json::array();
    for (const auto& w : workers) {
      json leases = json::array();
      bool truncated = false;
      const std::string prefix = keys::WorkerUnitPrefix(w.id);
      auto it = c_->store()->NewIterator(Cf::kWorkerUnits, prefix, keys::PrefixEnd(prefix));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        std::string_view rest = it->key().substr(prefix.size());
        if (rest.size() < 4) continue;
        auto spec_it = by_id.find(storage::GetU32(rest));
        if (spec_it == by_id.end()) continue;
        const SpecState& spec = *spec_it->second;
        const std::string key(rest.substr(4));
        auto unit = ReadUnit(c_, spec, key);
        if (!unit.ok()) return StatusError(unit.status());
        // The list also keeps a worker's finished units (as the original did): leases only.
        if (!*unit || (*unit)->status != storage::kPending || !(*unit)->worker_id.is_string() ||
            (*unit)->worker_id.str() != w.id) {
          continue;
        }
        if (leases.size() == kMaxLeasesPerWorker) {
          truncated = true;
          break;
        }
        leases.push_back(
            {{"work_spec", Name(spec.name_bytes)},
             {"work_spec_url", PercentEncode(spec.name_bytes)},
             {"key", Name(key)},
             {"key_url", PercentEncode(key)},
             {"expiration", (*unit)->expiration ? json(*(*unit)->expiration) : json(nullptr)}});
      }
      if (Status s = it->status(); !s.ok()) return StatusError(s);
      json wj = {{"id", Name(w.id)},
                 {"id_url", PercentEncode(w.id)},
                 {"mode", ValueToJson(w.rec.mode)},
                 {"last_heartbeat", w.rec.last_heard},
                 {"expires", w.rec.expires},
                 {"data", ValueToJson(w.rec.data)},
                 {"leases", std::move(leases)},
                 {"leases_truncated", truncated}};
      wj["parent"] = w.rec.parent.is_string() ? Name(w.rec.parent.str()) : json(nullptr);
      list.push_back(std::move(wj));
    }
    return JsonResponse(200, json{{"workers", std::move(list)},
                                  {"total", *total},
                                  {"truncated", *total > workers.size()}});
  }

  HttpResponse Locks() {
    auto locks = c_->ListLocks();
    if (!locks.ok()) return StatusError(locks.status());
    json list = json::array();
    for (const auto& l : *locks) {
      if (list.size() == kMaxLocks) break;
      list.push_back({{"path", ValueToJson(l.path)},
                      {"owner", ValueToJson(l.owner)},
                      {"deadline", l.deadline}});
    }
    return JsonResponse(200,
                        json{{"locks", std::move(list)}, {"truncated", locks->size() > kMaxLocks}});
  }

  // The newest FAILED units of every spec (from the completion-time index, scanning the most
  // recent window that holds enough of them), newest first, at most `limit` in all.
  HttpResponse Failures(int64_t limit) {
    struct Failure {
      double when;
      const SpecState* spec;
      std::string key;
    };
    std::vector<Failure> all;
    const double now = c_->clock()->Now();
    for (const auto& [name, spec] : c_->specs()) {
      if (spec->stats.counts[storage::kFailed] == 0) continue;
      const std::string prefix = keys::CompletedPrefix(spec->id, storage::kFailed);
      std::deque<Failure> newest;
      for (double window : {60.0, 3600.0, 86400.0, 30 * 86400.0, -1.0}) {
        newest.clear();
        const std::string from =
            window < 0 ? prefix : keys::Completed(spec->id, storage::kFailed, now - window, "");
        auto it = c_->store()->NewIterator(Cf::kCompleted, prefix, keys::PrefixEnd(prefix));
        it->Seek(from);
        size_t scanned = 0;
        for (; it->Valid() && scanned < kMaxFailureScan; it->Next(), ++scanned) {
          std::string_view rest = it->key().substr(prefix.size());
          if (rest.size() < 8) continue;
          newest.push_back({storage::FromTimeKey(storage::GetU64(rest)), spec.get(),
                            std::string(rest.substr(8))});
          if (static_cast<int64_t>(newest.size()) > limit) newest.pop_front();
        }
        if (Status s = it->status(); !s.ok()) return StatusError(s);
        if (static_cast<int64_t>(newest.size()) >= limit || scanned >= kMaxFailureScan) break;
      }
      all.insert(all.end(), newest.begin(), newest.end());
    }
    std::sort(all.begin(), all.end(), [](const Failure& a, const Failure& b) {
      return a.when != b.when ? a.when > b.when : a.key < b.key;
    });
    if (static_cast<int64_t>(all.size()) > limit) all.resize(static_cast<size_t>(limit));
    json list = json::array();
    for (const auto& f : all) {
      auto rec = ReadUnit(c_, *f.spec, f.key);
      if (!rec.ok()) return StatusError(rec.status());
      if (!*rec) continue;
      json j = UnitJson(f.key, **rec, false);
      j["work_spec"] = Name(f.spec->name_bytes);
      j["work_spec_url"] = PercentEncode(f.spec->name_bytes);
      j["completed"] = f.when;
      list.push_back(std::move(j));
    }
    return JsonResponse(200, json{{"failures", std::move(list)}});
  }

  // ---- actions ------------------------------------------------------------------------------

  HttpResponse SetPaused(const SpecState& spec, bool paused) {
    Status s =
        c_->ControlWorkSpec(spec.record.name, MapOf({{"status", Value::Int(paused ? 2 : 1)}}));
    if (!s.ok()) return StatusError(s);
    spdlog::info("http: work spec {} {}", DisplayString(spec.name_bytes),
                 paused ? "paused" : "resumed");
    return JsonResponse(200, json{{"ok", true}, {"paused", paused}});
  }

  HttpResponse Retry(const SpecState& spec, const std::string& key) {
    auto rec = ReadUnit(c_, spec, key);
    if (!rec.ok()) return StatusError(rec.status());
    if (!*rec) return JsonError(404, "no such work unit");
    const int st = (*rec)->status;
    if (st != storage::kFailed && st != storage::kFinished) {
      return JsonError(409, fmt::format("only failed or finished units can be retried; this one "
                                        "is {}",
                                        StatusName(st)));
    }
    auto r = c_->UpdateWorkUnit(spec.record.name, Value::Bytes(key),
                                MapOf({{"status", Value::Int(storage::kAvailable)}}));
    if (!r.ok()) return StatusError(r.status());
    if (!r->first) return JsonError(409, r->second);
    spdlog::info("http: retried unit {} of work spec {}", DisplayString(key),
                 DisplayString(spec.name_bytes));
    return JsonResponse(200, json{{"ok", true}});
  }

  HttpResponse RetryFailed(const SpecState& spec) {
    std::vector<std::string> keys_to_retry;
    const std::string prefix = keys::StatusPrefix(spec.id, storage::kFailed);
    auto it = c_->store()->NewIterator(Cf::kByStatus, prefix, keys::PrefixEnd(prefix));
    bool more = false;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view rest = it->key().substr(prefix.size());
      if (rest.size() < 8) continue;
      if (keys_to_retry.size() == kMaxRetryFailed) {
        more = true;
        break;
      }
      keys_to_retry.emplace_back(rest.substr(8));
    }
    if (Status s = it->status(); !s.ok()) return StatusError(s);
    it.reset();
    uint64_t n = 0;
    for (const auto& key : keys_to_retry) {
      auto r = c_->UpdateWorkUnit(spec.record.name, Value::Bytes(key),
                                  MapOf({{"status", Value::Int(storage::kAvailable)}}));
      if (!r.ok()) return StatusError(r.status());
      if (r->first) ++n;
    }
    spdlog::info("http: retried {} failed units of work spec {}", n,
                 DisplayString(spec.name_bytes));
    return JsonResponse(200, json{{"ok", true}, {"retried", n}, {"more", more}});
  }

  // ---- /metrics -----------------------------------------------------------------------------

  HttpResponse Metrics() {
    MetricsSnapshot s;
    s.version = kVersion;
    s.git_sha = api_.options_.git_sha;
    s.ready = !api_.draining_.load();
    s.uptime_seconds = Uptime();
    s.mode = c_->GetMode();
    for (const auto& [name, spec] : c_->specs()) {
      MetricsSnapshot::Spec sp;
      sp.name = spec->name_bytes;
      sp.paused = spec->settings.paused;
      sp.counts = TotalCounts(*spec);
      auto age = c_->OldestAvailableAge(*spec);
      if (!age.ok()) return TextResponse(500, age.status().ToString() + "\n");
      sp.oldest_available_age = *age;
      s.leases += spec->stats.counts[storage::kPending];
      s.specs.push_back(std::move(sp));
    }
    const auto& k = c_->counters();
    s.created = k.created;
    s.finished = k.finished;
    s.failed = k.failed;
    s.retried = k.retried;
    s.expired = k.expired;
    s.granted = k.granted;
    auto workers = ScanWorkers(c_, 0, nullptr);
    if (!workers.ok()) return TextResponse(500, workers.status().ToString() + "\n");
    s.workers = *workers;
    if (api_.rpc_) {
      s.rpc_connections = api_.rpc_->connections();
      s.rpc_connections_total = api_.rpc_->total_connections();
    }
    const storage::Store* store = c_->store();
    s.storage_bytes = store->ApproximateSize();
    s.syncs = store->syncs();
    s.write_cache_hits = store->write_cache_hits();
    s.write_cache_bytes = store->write_cache_bytes();
    s.sync_seconds = store->sync_seconds();
    s.sync_max_seconds = store->max_sync_seconds();
    s.commit_groups = api_.sequencer_->groups();
    s.stages = api_.sequencer_->stage_totals();
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    const MetricsRegistry* registry = api_.metrics_;
    auto snapshot = std::make_shared<MetricsSnapshot>(std::move(s));
    r.lazy_body = [snapshot, registry] { return RenderMetrics(*snapshot, *registry); };
    return r;
  }

 private:
  double Uptime() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - api_.options_.started)
        .count();
  }

  const HttpApi& api_;
  Coordinator* c_;
};

HttpApi::HttpApi(HttpApiOptions options, MetricsRegistry* metrics)
    : options_(std::move(options)), metrics_(metrics) {}

void HttpApi::SetBackend(Coordinator* coordinator, scheduler::Sequencer* sequencer,
                         const rpc::Server* rpc) {
  coordinator_ = coordinator;
  sequencer_ = sequencer;
  rpc_ = rpc;
  ready_.store(true, std::memory_order_release);
}

void HttpApi::Handle(HttpRequest req, HttpReply reply) {
  auto segments = Segments(req.path);
  const bool api = segments && !segments->empty() && (*segments)[0] == "api";
  if (!segments) {
    reply(TextResponse(400, "bad request: malformed path\n"));
    return;
  }
  const auto& seg = *segments;
  const bool get = req.method == "GET";
  const bool post = req.method == "POST";
  const bool ready = ready_.load(std::memory_order_acquire) && !draining_.load();

  // Plain endpoints.
  if (seg.empty() || (seg.size() == 1 && seg[0] == "index.html")) {
    if (!get) return reply(NotAllowed(false, "GET"));
    HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = DashboardHtml();
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; script-src 'unsafe-inline'; style-src "
                           "'unsafe-inline'; connect-src 'self'; img-src 'self' data:; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    return reply(std::move(r));
  }
  if (seg.size() == 1 && seg[0] == "healthz") {
    if (!get) return reply(NotAllowed(false, "GET"));
    return reply(TextResponse(200, "ok\n"));
  }
  if (seg.size() == 1 && seg[0] == "readyz") {
    if (!get) return reply(NotAllowed(false, "GET"));
    if (ready) return reply(TextResponse(200, "ready\n"));
    return reply(TextResponse(503, draining_.load() ? "draining\n" : "starting\n"));
  }
  const bool metrics = seg.size() == 1 && seg[0] == "metrics";
  if (!metrics && !api) {
    return reply(TextResponse(404, "not found\n"));
  }
  if (metrics && !get) return reply(NotAllowed(false, "GET"));

  // Everything below reads coordinator state: one sequencer job.
  auto query = ParseQuery(req.query);
  if (!query) return reply(JsonError(400, "malformed query string"));
  auto param = [&](const char* name) -> const std::string* {
    auto it = query->find(name);
    return it == query->end() ? nullptr : &it->second;
  };

  // Resolve the route to a job (run on the sequencer thread with the coordinator).
  using Job = std::function<HttpResponse(Impl&)>;
  Job job;
  const char* allow = "GET";
  bool action = false;
  if (metrics) {
    job = [](Impl& impl) { return impl.Metrics(); };
  } else if (seg.size() == 2 && seg[1] == "summary") {
    job = [](Impl& impl) { return impl.Summary(); };
  } else if (seg.size() == 2 && seg[1] == "workers") {
    job = [](Impl& impl) { return impl.Workers(); };
  } else if (seg.size() == 2 && seg[1] == "locks") {
    job = [](Impl& impl) { return impl.Locks(); };
  } else if (seg.size() == 2 && seg[1] == "failures") {
    int64_t limit = kDefaultFailureLimit;
    if (const std::string* l = param("limit")) {
      auto n = ParseInt(*l);
      if (!n || *n < 1 || *n > kMaxFailureLimit) {
        return reply(JsonError(400, fmt::format("limit must be 1..{}", kMaxFailureLimit)));
      }
      limit = *n;
    }
    job = [limit](Impl& impl) { return impl.Failures(limit); };
  } else if (seg.size() == 2 && seg[1] == "specs") {
    job = [](Impl& impl) { return impl.Specs(); };
  } else if (seg.size() >= 3 && seg[1] == "specs") {
    const std::string name = seg[2];
    // Resolved on the sequencer thread: specs may come and go meanwhile.
    using SpecJob = std::function<HttpResponse(Impl&, const SpecState&)>;
    SpecJob spec_job;
    if (seg.size() == 3) {
      spec_job = [](Impl& impl, const SpecState& s) { return impl.Spec(s); };
    } else if (seg.size() == 4 && seg[3] == "units") {
      int status = 0;
      int64_t limit = kDefaultUnitLimit;
      std::string start;
      if (const std::string* s = param("status"); s && !s->empty()) {
        status = ParseStatus(*s);
        if (status == 0) {
          return reply(JsonError(400,
                                 "status must be 1..5 or available, blocked, pending, "
                                 "finished, failed"));
        }
      }
      if (const std::string* l = param("limit")) {
        auto n = ParseInt(*l);
        if (!n || *n < 1 || *n > kMaxUnitLimit) {
          return reply(JsonError(400, fmt::format("limit must be 1..{}", kMaxUnitLimit)));
        }
        limit = *n;
      }
      if (const std::string* s = param("start")) start = *s;
      spec_job = [status, start, limit](Impl& impl, const SpecState& s) {
        return impl.Units(s, status, start, limit);
      };
    } else if (seg.size() == 5 && seg[3] == "units") {
      const std::string key = seg[4];
      spec_job = [key](Impl& impl, const SpecState& s) { return impl.Unit(s, key); };
    } else if (seg.size() == 4 && (seg[3] == "pause" || seg[3] == "resume")) {
      const bool pause = seg[3] == "pause";
      action = true;
      spec_job = [pause](Impl& impl, const SpecState& s) { return impl.SetPaused(s, pause); };
    } else if (seg.size() == 4 && seg[3] == "retry_failed") {
      action = true;
      spec_job = [](Impl& impl, const SpecState& s) { return impl.RetryFailed(s); };
    } else if (seg.size() == 6 && seg[3] == "units" && seg[5] == "retry") {
      const std::string key = seg[4];
      action = true;
      spec_job = [key](Impl& impl, const SpecState& s) { return impl.Retry(s, key); };
    } else {
      return reply(JsonError(404, "not found"));
    }
    job = [name, spec_job = std::move(spec_job)](Impl& impl) -> HttpResponse {
      const SpecState* spec = impl.Find(name);
      if (spec == nullptr) return JsonError(404, "no such work spec");
      return spec_job(impl, *spec);
    };
  } else {
    return reply(JsonError(404, "not found"));
  }

  if (action) {
    allow = "POST";
    if (!post) return reply(NotAllowed(true, allow));
    if (!options_.allow_actions) {
      return reply(JsonError(403, "actions are disabled (set http.allow_actions to enable them)"));
    }
    if (req.Header("x-requested-by") == nullptr) {
      return reply(JsonError(403, "actions need an X-Requested-By header"));
    }
  } else if (!get) {
    return reply(NotAllowed(!metrics, allow));
  }
  if (!ready) {
    return reply(metrics ? TextResponse(503, "not ready\n") : JsonError(503, "not ready"));
  }

  auto out = std::make_shared<HttpResponse>();
  auto shared_reply = std::make_shared<HttpReply>(std::move(reply));
  Coordinator* c = coordinator_;
  const HttpApi* self = this;
  const bool queued = sequencer_->Submit(
      [out, job = std::move(job), c, self] {
        try {
          Impl impl(*self, c);
          *out = job(impl);
        } catch (const std::exception& e) {
          spdlog::error("http: internal error: {}", e.what());
          *out = JsonError(500, std::string("internal error: ") + e.what());
        }
      },
      [out, shared_reply] { (*shared_reply)(std::move(*out)); });
  if (!queued) {
    (*shared_reply)(metrics ? TextResponse(503, "draining\n") : JsonError(503, "draining"));
  }
}

}  // namespace coordinated::daemon
