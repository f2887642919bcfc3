#include "report.h"

#include <fmt/format.h>

#include "bars.h"

namespace coordinate::bench {

namespace {

std::string Ms(double seconds) { return fmt::format("{:.2f}ms", seconds * 1e3); }
std::string MiB(uint64_t bytes) {
  return fmt::format("{:.1f}MiB", static_cast<double>(bytes) / (1 << 20));
}

// The latency fields, in a fixed order of call kinds.
std::string LatencyFields(const WorkloadResult& w) {
  std::string out;
  for (const char* op : {"get_work", "renew", "status", "finish", "add"}) {
    auto it = w.latencies.find(op);
    if (it == w.latencies.end() || it->second.count == 0) continue;
    const LatencySummary& s = it->second;
    out += fmt::format(" {} p50={} p99={} p999={}", op, Ms(s.p50), Ms(s.p99), Ms(s.p999));
  }
  return out;
}

const char* VerdictName(BarCheck::Verdict v) {
  switch (v) {
    case BarCheck::Verdict::kPass:
      return "PASS";
    case BarCheck::Verdict::kFail:
      return "FAIL";
    case BarCheck::Verdict::kNotChecked:
      return "n/a";
  }
  return "?";
}

}  // namespace

std::string FormatResult(const RunResult& r,
                         const std::function<const RunResult*(const std::string&)>& find) {
  std::string line = r.label + ":";
  const WorkloadResult& w = r.work;
  const double secs = w.seconds > 0 ? w.seconds : 1;
  auto rate = [secs](uint64_t n) { return static_cast<double>(n) / secs; };
  if (!r.status.ok() && w.round_trips == 0 && !r.restart_seconds) {
    return line + " ERROR " + r.status.ToString();
  }
  switch (r.config.workload) {
    case Workload::kFloor:
      line += fmt::format(" {:.0f} rt/s", r.rt_per_second());
      break;
    case Workload::kAdd:
      line += fmt::format(" {:.0f} units/s {:.0f} rt/s", rate(w.units), r.rt_per_second());
      break;
    case Workload::kDo:
      line += fmt::format(" {:.0f} cycles/s {:.0f} units/s {:.0f} rt/s", rate(w.cycles),
                          rate(w.units), r.rt_per_second());
      break;
    case Workload::kMixed:
      line += fmt::format(" {:.0f} ops/s {:.0f} cycles/s", r.rt_per_second(), rate(w.cycles));
      break;
    case Workload::kRestart:
      break;
  }
  if (auto ratio = r.ratio_to_floor()) line += fmt::format(" ratio_to_floor={:.2f}", *ratio);
  line += LatencyFields(w);
  if (r.rss_max_bytes) line += " rss_max=" + MiB(*r.rss_max_bytes);
  if (r.disk_bytes) {
    line += " disk=" + MiB(*r.disk_bytes) + "(as-found) raw=" + MiB(r.raw_bytes);
    if (r.raw_bytes > 0) {
      line += fmt::format(" disk_ratio={:.2f}",
                          static_cast<double>(*r.disk_bytes) / static_cast<double>(r.raw_bytes));
    }
  }
  if (r.restart_seconds) line += fmt::format(" restart={:.2f}s", *r.restart_seconds);
  if (r.settle_seconds) line += fmt::format(" settle={:.0f}s", *r.settle_seconds);
  if (r.config.workload != Workload::kFloor) line += fmt::format(" preloaded={}", r.preloaded);
  if (r.topped_up > 0) line += fmt::format(" topped_up={}", r.topped_up);
  if (w.empty > 0) line += fmt::format(" empty={}", w.empty);
  if (w.errors > 0) line += fmt::format(" errors={}", w.errors);
  if (!r.status.ok()) line += " ERROR " + r.status.ToString();
  const std::vector<BarCheck> bars = CheckBars(r, find);
  if (!bars.empty()) {
    line += " | bars:";
    for (size_t i = 0; i < bars.size(); ++i) {
      line += fmt::format("{} {}={} {}", i ? ";" : "", bars[i].bar, bars[i].actual,
                          VerdictName(bars[i].verdict));
    }
  }
  return line;
}

void Reporter::Print(const RunResult& r) {
  const std::string line =
      FormatResult(r, [this](const std::string& label) { return Find(label); });
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
  if (!r.status.ok()) any_error_ = true;
  results_.push_back(r);
}

const RunResult* Reporter::Find(const std::string& label) const {
  for (auto it = results_.rbegin(); it != results_.rend(); ++it) {
    if (it->label == label) return &*it;
  }
  return nullptr;
}

}  // namespace coordinate::bench
