#include "figures.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

namespace crashtest {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

namespace {

using Counts = std::array<std::array<uint64_t, 4>, static_cast<size_t>(OpType::kCount)>;

Counts CountOps(const std::deque<Op>& ops) {
  Counts c{};
  for (const auto& op : ops) c[static_cast<size_t>(op.type)][static_cast<size_t>(op.outcome)]++;
  return c;
}

struct Summary {
  std::vector<double> rate, ready, recovery;
};

Summary Summarize(const std::vector<RoundFigures>& rounds) {
  Summary s;
  for (const auto& r : rounds) {
    // Throughput from the blackbox rounds only: a crash point may fire a moment into a round.
    const bool blackbox = r.point.empty() || r.point == CrashPlan::kStartupPoint;
    if (blackbox && r.run_seconds > 0) {
      s.rate.push_back(static_cast<double>(r.acked_ops) / r.run_seconds);
    }
    s.ready.push_back(r.ready_seconds * 1000);
    s.recovery.push_back(r.recovery_seconds * 1000);
  }
  return s;
}

}  // namespace

std::string Figures::Render(const std::deque<Op>& ops,
                            const std::map<std::string, uint64_t>& violations,
                            const std::map<std::string, uint64_t>& coverage, const CrashPlan& plan,
                            uint64_t data_dir_bytes) const {
  std::string out;
  const Counts c = CountOps(ops);
  out += fmt::format("iterations: {}\n", rounds_.size());
  out +=
      fmt::format("{:<12} {:>9} {:>9} {:>9} {:>9}\n", "op", "invoked", "ok", "failed", "unknown");
  for (size_t t = 0; t < c.size(); ++t) {
    const auto& row = c[t];
    const uint64_t invoked = row[0] + row[1] + row[2] + row[3];
    out += fmt::format("{:<12} {:>9} {:>9} {:>9} {:>9}\n", OpName(static_cast<OpType>(t)), invoked,
                       row[1], row[2], row[3] + row[0]);
  }
  const Summary s = Summarize(rounds_);
  out += fmt::format(
      "acknowledged ops/s before each SIGKILL (blackbox rounds): p50 {:.0f}, min {:.0f}, max "
      "{:.0f}\n",
      Percentile(s.rate, 50), Percentile(s.rate, 0), Percentile(s.rate, 100));
  out += fmt::format("restart to ready file (ms): p50 {:.1f}, p99 {:.1f}, max {:.1f}\n",
                     Percentile(s.ready, 50), Percentile(s.ready, 99), Percentile(s.ready, 100));
  out += fmt::format(
      "recovery to ready, first call served (ms): p50 {:.1f}, p99 {:.1f}, max {:.1f}\n",
      Percentile(s.recovery, 50), Percentile(s.recovery, 99), Percentile(s.recovery, 100));
  if (!rounds_.empty()) {
    out += fmt::format("units in store after the last restart: {}; data dir {:.1f} MiB\n",
                       rounds_.back().units, static_cast<double>(data_dir_bytes) / (1 << 20));
  }
  if (plan.enabled()) {
    out += "crash points (fired / armed but not reached):\n";
    for (const auto& [p, n] : plan.fired()) {
      out += fmt::format("  {:<32} {} / {}\n", p, n, plan.missed().at(p));
    }
  }
  out += "exercised:";
  for (const auto& [k, n] : coverage) out += fmt::format(" {} {};", k, n);
  out += "\n";
  uint64_t total = 0;
  out += "violations:\n";
  for (const auto& [cls, n] : violations) {
    out += fmt::format("  {:<24} {}\n", cls, n);
    total += n;
  }
  out += fmt::format("violations total: {}\n", total);
  return out;
}

std::string Figures::Json(const std::deque<Op>& ops,
                          const std::map<std::string, uint64_t>& violations,
                          const std::map<std::string, uint64_t>& coverage, const CrashPlan& plan,
                          uint64_t data_dir_bytes, uint64_t seed, bool sync) const {
  nlohmann::json j;
  j["seed"] = seed;
  j["sync"] = sync;
  j["iterations"] = rounds_.size();
  const Counts c = CountOps(ops);
  for (size_t t = 0; t < c.size(); ++t) {
    const auto& row = c[t];
    j["ops"][OpName(static_cast<OpType>(t))] = {{"invoked", row[0] + row[1] + row[2] + row[3]},
                                                {"ok", row[1]},
                                                {"failed", row[2]},
                                                {"unknown", row[3] + row[0]}};
  }
  const Summary s = Summarize(rounds_);
  j["acked_ops_per_second"] = {{"p50", Percentile(s.rate, 50)}, {"min", Percentile(s.rate, 0)}};
  j["ready_ms"] = {{"p50", Percentile(s.ready, 50)},
                   {"p99", Percentile(s.ready, 99)},
                   {"max", Percentile(s.ready, 100)}};
  j["recovery_ms"] = {{"p50", Percentile(s.recovery, 50)},
                      {"p99", Percentile(s.recovery, 99)},
                      {"max", Percentile(s.recovery, 100)}};
  j["data_dir_bytes"] = data_dir_bytes;
  for (const auto& [p, n] : plan.fired())
    j["crash_points"][p] = {{"fired", n}, {"missed", plan.missed().at(p)}};
  for (const auto& [cls, n] : violations) j["violations"][cls] = n;
  for (const auto& [k, n] : coverage) j["exercised"][k] = n;
  for (const auto& r : rounds_) {
    j["rounds"].push_back({{"round", r.round},
                           {"point", r.point},
                           {"fired", r.fired},
                           {"run_seconds", r.run_seconds},
                           {"acked_ops", r.acked_ops},
                           {"ready_seconds", r.ready_seconds},
                           {"recovery_seconds", r.recovery_seconds},
                           {"units", r.units}});
  }
  return j.dump(2);
}

}  // namespace crashtest
