// Metrics: the daemon's Prometheus metrics, as one table of names, a few lock-free recorders and
// the text exposition (format 0.0.4) of everything.
//
//  * kMetricTable lists every metric family the daemon exports: name, type, labels and help.
//    Rendering refuses (asserts) a name that is not in it, and docs/operations.md copies it.
//  * MetricsRegistry holds what is recorded as it happens: RPC requests by method and outcome
//    with a fixed-bucket latency histogram per method (the Dispatcher's observer), and HTTP
//    responses by status code. Recording touches only atomics; method slots are created once,
//    from the RPC method table, before any request.
//  * RenderMetrics writes the exposition from a MetricsSnapshot (coordinator state gathered on
//    the sequencer thread by the HTTP API), the registry and /proc/self.
//
// No label ever carries a unit key or a worker id; work spec names and RPC method names are the
// only open-ended label values (method names come from the method table, never from requests).
//
// Thread-safety: Record*/Count* from any thread; RenderMetrics from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "scheduler/sequencer.h"

namespace coordinated::daemon {

struct MetricInfo {
  std::string_view name;
  std::string_view type;    // counter, gauge, histogram
  std::string_view labels;  // comma-separated label names ("" for none), for the docs
  std::string_view help;
};
// Every exported family, in exposition order.
const std::vector<MetricInfo>& MetricTable();

// A histogram with fixed upper bounds (seconds), lock-free.
class Histogram {
 public:
  static constexpr std::array<double, 15> kBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
  void Observe(double seconds);
  struct Snapshot {
    std::array<uint64_t, kBounds.size() + 1> cumulative{};  // last: +Inf (= count)
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // per bucket, not cumulative
  std::atomic<uint64_t> sum_nanos_{0};
};

class MetricsRegistry {
 public:
  // `methods`: every RPC method name (string views must outlive the registry: the method table).
  explicit MetricsRegistry(const std::vector<std::string_view>& methods);
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // One RPC request answered; an empty or unknown method counts as "unknown".
  void RecordRpc(std::string_view method, double seconds, bool ok);
  // One HTTP response sent with this status code.
  void CountHttp(int status);

  struct RpcSlot {
    std::string_view method;
    std::atomic<uint64_t> ok{0};
    std::atomic<uint64_t> error{0};
    Histogram latency;
  };
  const std::vector<std::unique_ptr<RpcSlot>>& rpc_slots() const { return slots_; }
  uint64_t rpc_requests() const;  // all methods, all outcomes

  static constexpr std::array<int, 12> kHttpCodes = {200, 204, 400, 403, 404, 405,
                                                     408, 413, 431, 500, 503, 0};  // 0: other
  uint64_t http_count(size_t code_index) const { return http_[code_index].load(); }

 private:
  std::vector<std::unique_ptr<RpcSlot>> slots_;             // last one: "unknown"
  std::unordered_map<std::string_view, RpcSlot*> by_name_;  // immutable after construction
  std::array<std::atomic<uint64_t>, kHttpCodes.size()> http_{};
};

// Coordinator and server state at one moment, gathered by the caller (the coordinator part on
// the sequencer thread).
struct MetricsSnapshot {
  std::string version;
  std::string git_sha;
  bool ready = false;
  double uptime_seconds = 0;
  std::string mode;  // RUN, IDLE, TERMINATE
  struct Spec {
    std::string name;  // raw bytes; escaped when rendered
    bool paused = false;
    std::array<uint64_t, 6> counts{};  // by status 1..5, archived units included
    double oldest_available_age = 0;   // seconds (Coordinator::OldestAvailableAge)
  };
  std::vector<Spec> specs;
  uint64_t created = 0, finished = 0, failed = 0, retried = 0, expired = 0, granted = 0;
  uint64_t leases = 0;   // PENDING units
  uint64_t workers = 0;  // live workers
  uint64_t rpc_connections = 0;
  uint64_t rpc_connections_total = 0;
  uint64_t storage_bytes = 0;
  uint64_t syncs = 0;
  uint64_t write_cache_hits = 0;
  uint64_t write_cache_bytes = 0;
  double sync_seconds = 0;
  double sync_max_seconds = 0;
  uint64_t commit_groups = 0;
  // Requests answered through the sequencer and their time by stage.
  scheduler::Sequencer::StageTotals stages;
};

// Process figures from /proc/self (zeros where unreadable).
struct ProcessStats {
  double cpu_seconds = 0;
  uint64_t resident_bytes = 0;
  uint64_t virtual_bytes = 0;
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;
  uint64_t threads = 0;
  double start_time_seconds = 0;  // Unix time
};
ProcessStats ReadProcessStats();

// The whole exposition, text format 0.0.4.
std::string RenderMetrics(const MetricsSnapshot& snapshot, const MetricsRegistry& registry);

// A Prometheus label value: \, " and newline escaped; bytes that are not UTF-8 as \\xNN text.
std::string PromLabelValue(std::string_view raw);

// Status names used as label values and in the JSON API, by status 1..5 ("" for others).
std::string_view StatusName(int status);

}  // namespace coordinated::daemon
