#include "daemon/metrics.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cassert>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "daemon/http_util.h"

namespace coordinated::daemon {

const std::vector<MetricInfo>& MetricTable() {
  static const std::vector<MetricInfo> table = {
      {"coordinated_build_info", "gauge", "version,git_sha",
       "Always 1; the labels name the running build."},
      {"coordinated_ready", "gauge", "",
       "1 when the store is open, recovery is done and requests are accepted (as /readyz)."},
      {"coordinated_uptime_seconds", "gauge", "", "Seconds since the daemon started."},
      {"coordinated_mode", "gauge", "mode",
       "1 for the global mode set by set_mode (RUN, IDLE or TERMINATE)."},
      {"coordinated_work_specs", "gauge", "", "Work specs defined."},
      {"coordinated_work_spec_paused", "gauge", "work_spec",
       "1 when the work spec is paused (control_work_spec status 2)."},
      {"coordinated_work_units", "gauge", "work_spec,status",
       "Work units by spec and status (available, blocked, pending, finished, failed); "
       "archived units included, as count_work_units reports them."},
      {"coordinated_oldest_available_age_seconds", "gauge", "work_spec",
       "Seconds the spec's longest-waiting available unit has waited since it became available "
       "(or its delay ended); 0 when none is waiting."},
      {"coordinated_work_units_created_total", "counter", "",
       "Work units created since start-up (add, chaining, dependencies, continuous specs)."},
      {"coordinated_work_units_granted_total", "counter", "",
       "Work units handed out by get_work since start-up."},
      {"coordinated_work_units_finished_total", "counter", "",
       "Transitions into FINISHED since start-up."},
      {"coordinated_work_units_failed_total", "counter", "",
       "Transitions into FAILED since start-up."},
      {"coordinated_work_units_retried_total", "counter", "",
       "FINISHED, FAILED or PENDING units sent back to AVAILABLE by a caller since start-up."},
      {"coordinated_work_units_lease_expired_total", "counter", "",
       "Leases that lapsed without a finish or renewal since start-up."},
      {"coordinated_leases_active", "gauge", "", "Work units currently PENDING (leased)."},
      {"coordinated_workers_active", "gauge", "", "Workers whose last heartbeat has not expired."},
      {"coordinated_rpc_requests_total", "counter", "method,code",
       "CBOR-RPC requests answered, by method and outcome (ok or error); requests naming no "
       "known method count as method \"unknown\"."},
      {"coordinated_rpc_request_duration_seconds", "histogram", "method",
       "Seconds from dispatch to reply of CBOR-RPC requests (queueing and group commit "
       "included), by method."},
      {"coordinated_rpc_connections", "gauge", "", "Open CBOR-RPC connections."},
      {"coordinated_rpc_connections_total", "counter", "",
       "CBOR-RPC connections accepted since start-up."},
      {"coordinated_http_responses_total", "counter", "code",
       "HTTP side-port responses by status code (\"other\" for codes not listed)."},
      {"coordinated_storage_bytes", "gauge", "",
       "Approximate size of the store on disk in bytes, as Store::ApproximateSize reports it "
       "(currently the SST files; data still only in the write-ahead log is not counted)."},
      {"coordinated_storage_syncs_total", "counter", "", "Write-ahead-log syncs (fsyncs)."},
      {"coordinated_storage_sync_seconds_total", "counter", "",
       "Seconds spent in write-ahead-log syncs."},
      {"coordinated_storage_sync_max_seconds", "gauge", "",
       "The slowest write-ahead-log sync since start-up, in seconds."},
      {"coordinated_storage_write_cache_hits_total", "counter", "",
       "Point reads of unit records answered by the cache of recently written ones "
       "(storage.write_cache_bytes) instead of RocksDB."},
      {"coordinated_storage_write_cache_bytes", "gauge", "",
       "Bytes held by the cache of recently written unit records."},
      {"coordinated_commit_groups_total", "counter", "",
       "Group commits of the sequencer (each covers every change queued meanwhile)."},
      {"coordinated_sequenced_requests_total", "counter", "",
       "Requests answered through the sequencer (everything that reads or changes coordination "
       "state) since start-up; the denominator of coordinated_sequencer_stage_seconds_total."},
      {"coordinated_sequencer_stage_seconds_total", "counter", "stage",
       "Seconds those requests spent in each stage, summed: queue (waiting for the state "
       "thread), apply (running on it), commit_wait (until the sync covering it began: the "
       "rest of its group and the previous sync), sync (that write-ahead-log sync) and handoff "
       "(until its reply was handed to its connection)."},
      {"process_cpu_seconds_total", "counter", "", "User and system CPU time, in seconds."},
      {"process_resident_memory_bytes", "gauge", "", "Resident memory size in bytes."},
      {"process_virtual_memory_bytes", "gauge", "", "Virtual memory size in bytes."},
      {"process_open_fds", "gauge", "", "Open file descriptors."},
      {"process_max_fds", "gauge", "", "The file descriptor limit (RLIMIT_NOFILE)."},
      {"process_threads", "gauge", "", "Threads of the process."},
      {"process_start_time_seconds", "gauge", "",
       "Start time of the process since the Unix epoch, in seconds."},
  };
  return table;
}

// ---------------------------------------------------------------------------------------------
// Histogram and registry

void Histogram::Observe(double seconds) {
  if (!(seconds >= 0)) seconds = 0;  // also NaN
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  const double nanos = std::min(seconds * 1e9, 1e18);
  sum_nanos_.fetch_add(static_cast<uint64_t>(nanos), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  uint64_t total = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  s.sum = static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

MetricsRegistry::MetricsRegistry(const std::vector<std::string_view>& methods) {
  for (std::string_view m : methods) {
    if (by_name_.count(m)) continue;
    slots_.push_back(std::make_unique<RpcSlot>());
    slots_.back()->method = m;
    by_name_[m] = slots_.back().get();
  }
  slots_.push_back(std::make_unique<RpcSlot>());
  slots_.back()->method = "unknown";
}

void MetricsRegistry::RecordRpc(std::string_view method, double seconds, bool ok) {
  auto it = by_name_.find(method);
  RpcSlot* slot = it == by_name_.end() ? slots_.back().get() : it->second;
  (ok ? slot->ok : slot->error).fetch_add(1, std::memory_order_relaxed);
  slot->latency.Observe(seconds);
}

void MetricsRegistry::CountHttp(int status) {
  size_t i = 0;
  while (i + 1 < kHttpCodes.size() && kHttpCodes[i] != status) ++i;
  http_[i].fetch_add(1, std::memory_order_relaxed);
}

uint64_t MetricsRegistry::rpc_requests() const {
  uint64_t n = 0;
  for (const auto& s : slots_) n += s->ok.load() + s->error.load();
  return n;
}

// ---------------------------------------------------------------------------------------------
// /proc/self

ProcessStats ReadProcessStats() {
  ProcessStats p;
  const long ticks = ::sysconf(_SC_CLK_TCK);
  const long page = ::sysconf(_SC_PAGESIZE);
  std::ifstream stat_in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_in)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may contain spaces: parse after the last ')'.
  if (size_t close = stat.rfind(')'); close != std::string::npos && ticks > 0) {
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f;  // f[0] is field 3 (state)
    for (std::string x; fields >> x;) f.push_back(x);
    auto field = [&](size_t n) -> unsigned long long {  // 1-based field number of proc(5)
      return n >= 3 && n - 3 < f.size() ? std::strtoull(f[n - 3].c_str(), nullptr, 10) : 0;
    };
    p.cpu_seconds = static_cast<double>(field(14) + field(15)) / static_cast<double>(ticks);
    p.threads = field(20);
    p.virtual_bytes = field(23);
    p.resident_bytes = field(24) * static_cast<unsigned long long>(page > 0 ? page : 4096);
    // starttime is in ticks since boot; boot time is btime in /proc/stat.
    std::ifstream sys("/proc/stat");
    for (std::string line; std::getline(sys, line);) {
      if (line.rfind("btime ", 0) == 0) {
        const double btime = std::strtod(line.c_str() + 6, nullptr);
        p.start_time_seconds = btime + static_cast<double>(field(22)) / static_cast<double>(ticks);
        break;
      }
    }
  }
  if (DIR* d = ::opendir("/proc/self/fd")) {
    uint64_t n = 0;
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    p.open_fds = n > 0 ? n - 1 : 0;  // minus the descriptor of the listing itself
  }
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) p.max_fds = rl.rlim_cur;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Exposition

std::string PromLabelValue(std::string_view raw) {
  std::string out;
  for (char c : DisplayString(raw)) {  // \xNN for malformed bytes; its backslash is escaped below
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view StatusName(int status) {
  switch (status) {
    case 1:
      return "available";
    case 2:
      return "blocked";
    case 3:
      return "pending";
    case 4:
      return "finished";
    case 5:
      return "failed";
    default:
      return "";
  }
}

namespace {

using Labels = std::vector<std::pair<std::string_view, std::string>>;

class Writer {
 public:
  // Starts a family: # HELP and # TYPE from the table (the name must be in it).
  void Family(std::string_view name) {
    const MetricInfo* info = nullptr;
    for (const auto& m : MetricTable()) {
      if (m.name == name) info = &m;
    }
    assert(info != nullptr && "metric name missing from MetricTable()");
    if (info == nullptr) return;
    const bool first_time = written_.insert(std::string(name)).second;
    assert(first_time && "metric family written twice");
    (void)first_time;
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, info->help, name, info->type);
  }
  void Sample(std::string_view name, const Labels& labels, double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        out_ += PromLabelValue(v);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += Number(value);
    out_ += '\n';
  }
  void Sample(std::string_view name, double value) { Sample(name, {}, value); }
  // A family with one unlabelled sample.
  void Single(std::string_view name, double value) {
    Family(name);
    Sample(name, value);
  }
  std::string Take() { return std::move(out_); }

  static std::string Number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == std::floor(v) && std::fabs(v) < 1e15)
      return fmt::format("{}", static_cast<int64_t>(v));
    return fmt::format("{}", v);
  }

 private:
  std::string out_;
  std::set<std::string> written_;
};

}  // namespace

std::string RenderMetrics(const MetricsSnapshot& s, const MetricsRegistry& registry) {
  Writer w;
  w.Family("coordinated_build_info");
  w.Sample("coordinated_build_info", {{"version", s.version}, {"git_sha", s.git_sha}}, 1);
  w.Single("coordinated_ready", s.ready ? 1 : 0);
  w.Single("coordinated_uptime_seconds", s.uptime_seconds);
  w.Family("coordinated_mode");
  for (const char* mode : {"RUN", "IDLE", "TERMINATE"}) {
    w.Sample("coordinated_mode", {{"mode", mode}}, s.mode == mode ? 1 : 0);
  }
  w.Single("coordinated_work_specs", static_cast<double>(s.specs.size()));
  w.Family("coordinated_work_spec_paused");
  for (const auto& spec : s.specs) {
    w.Sample("coordinated_work_spec_paused", {{"work_spec", spec.name}}, spec.paused ? 1 : 0);
  }
  w.Family("coordinated_work_units");
  for (const auto& spec : s.specs) {
    for (int st = 1; st <= 5; ++st) {
      w.Sample("coordinated_work_units",
               {{"work_spec", spec.name}, {"status", std::string(StatusName(st))}},
               static_cast<double>(spec.counts[st]));
    }
  }
  w.Family("coordinated_oldest_available_age_seconds");
  for (const auto& spec : s.specs) {
    w.Sample("coordinated_oldest_available_age_seconds", {{"work_spec", spec.name}},
             spec.oldest_available_age);
  }
  w.Single("coordinated_work_units_created_total", static_cast<double>(s.created));
  w.Single("coordinated_work_units_granted_total", static_cast<double>(s.granted));
  w.Single("coordinated_work_units_finished_total", static_cast<double>(s.finished));
  w.Single("coordinated_work_units_failed_total", static_cast<double>(s.failed));
  w.Single("coordinated_work_units_retried_total", static_cast<double>(s.retried));
  w.Single("coordinated_work_units_lease_expired_total", static_cast<double>(s.expired));
  w.Single("coordinated_leases_active", static_cast<double>(s.leases));
  w.Single("coordinated_workers_active", static_cast<double>(s.workers));

  // RPC: methods that were called at least once (the rest would be all-zero series).
  struct Row {
    std::string method;
    uint64_t ok, error;
    Histogram::Snapshot latency;
  };
  std::vector<Row> rows;
  for (const auto& slot : registry.rpc_slots()) {
    Row r{std::string(slot->method), slot->ok.load(), slot->error.load(), slot->latency.Read()};
    if (r.ok + r.error > 0) rows.push_back(std::move(r));
  }
  w.Family("coordinated_rpc_requests_total");
  for (const auto& r : rows) {
    if (r.ok)
      w.Sample("coordinated_rpc_requests_total", {{"method", r.method}, {"code", "ok"}},
               static_cast<double>(r.ok));
    if (r.error) {
      w.Sample("coordinated_rpc_requests_total", {{"method", r.method}, {"code", "error"}},
               static_cast<double>(r.error));
    }
  }
  w.Family("coordinated_rpc_request_duration_seconds");
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.latency.cumulative.size(); ++i) {
      const std::string le =
          i < Histogram::kBounds.size() ? fmt::format("{}", Histogram::kBounds[i]) : "+Inf";
      w.Sample("coordinated_rpc_request_duration_seconds_bucket",
               {{"method", r.method}, {"le", le}}, static_cast<double>(r.latency.cumulative[i]));
    }
    w.Sample("coordinated_rpc_request_duration_seconds_sum", {{"method", r.method}}, r.latency.sum);
    w.Sample("coordinated_rpc_request_duration_seconds_count", {{"method", r.method}},
             static_cast<double>(r.latency.cumulative.back()));
  }
  w.Single("coordinated_rpc_connections", static_cast<double>(s.rpc_connections));
  w.Single("coordinated_rpc_connections_total", static_cast<double>(s.rpc_connections_total));
  w.Family("coordinated_http_responses_total");
  for (size_t i = 0; i < MetricsRegistry::kHttpCodes.size(); ++i) {
    const uint64_t n = registry.http_count(i);
    if (n == 0) continue;
    const int code = MetricsRegistry::kHttpCodes[i];
    w.Sample("coordinated_http_responses_total",
             {{"code", code ? std::to_string(code) : std::string("other")}},
             static_cast<double>(n));
  }
  w.Single("coordinated_storage_bytes", static_cast<double>(s.storage_bytes));
  w.Single("coordinated_storage_syncs_total", static_cast<double>(s.syncs));
  w.Single("coordinated_storage_sync_seconds_total", s.sync_seconds);
  w.Single("coordinated_storage_sync_max_seconds", s.sync_max_seconds);
  w.Single("coordinated_storage_write_cache_hits_total", static_cast<double>(s.write_cache_hits));
  w.Single("coordinated_storage_write_cache_bytes", static_cast<double>(s.write_cache_bytes));
  w.Single("coordinated_commit_groups_total", static_cast<double>(s.commit_groups));
  w.Single("coordinated_sequenced_requests_total", static_cast<double>(s.stages.jobs));
  w.Family("coordinated_sequencer_stage_seconds_total");
  for (const auto& [stage, seconds] : {std::pair<const char*, double>{"queue", s.stages.queue},
                                       {"apply", s.stages.apply},
                                       {"commit_wait", s.stages.commit_wait},
                                       {"sync", s.stages.sync},
                                       {"handoff", s.stages.handoff}}) {
    w.Sample("coordinated_sequencer_stage_seconds_total", {{"stage", stage}}, seconds);
  }

  const ProcessStats p = ReadProcessStats();
  w.Single("process_cpu_seconds_total", p.cpu_seconds);
  w.Single("process_resident_memory_bytes", static_cast<double>(p.resident_bytes));
  w.Single("process_virtual_memory_bytes", static_cast<double>(p.virtual_bytes));
  w.Single("process_open_fds", static_cast<double>(p.open_fds));
  w.Single("process_max_fds", static_cast<double>(p.max_fds));
  w.Single("process_threads", static_cast<double>(p.threads));
  w.Single("process_start_time_seconds", p.start_time_seconds);
  return w.Take();
}

}  // namespace coordinated::daemon
