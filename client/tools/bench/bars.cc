#include "bars.h"

#include <fmt/format.h>

namespace coordinate::bench {

namespace {

using Verdict = BarCheck::Verdict;

BarCheck AtLeast(std::string bar, double actual, double bound, const char* fmt_actual = "{:.0f}") {
  return {std::move(bar), fmt::format(fmt::runtime(fmt_actual), actual),
          actual >= bound ? Verdict::kPass : Verdict::kFail};
}

BarCheck AtMost(std::string bar, double actual, double bound, std::string shown) {
  return {std::move(bar), std::move(shown), actual <= bound ? Verdict::kPass : Verdict::kFail};
}

BarCheck NotChecked(std::string bar, const std::string& why) {
  return {std::move(bar), why, Verdict::kNotChecked};
}

double PerSecond(uint64_t n, const RunResult& r) {
  return r.work.seconds > 0 ? static_cast<double>(n) / r.work.seconds : 0;
}

double GetWorkP99(const RunResult& r) {
  auto it = r.work.latencies.find("get_work");
  return it == r.work.latencies.end() ? 0 : it->second.p99;
}

std::string Ms(double seconds) { return fmt::format("{:.2f}ms", seconds * 1e3); }

}  // namespace

std::vector<BarCheck> CheckBars(const RunResult& r,
                                const std::function<const RunResult*(const std::string&)>& find) {
  std::vector<BarCheck> out;
  const RunConfig& c = r.config;
  if (c.sync != SyncMode::kOn || !r.status.ok()) return out;
  const bool standard = c.payload == 100 && c.idle == 0;
  const double cycles = PerSecond(r.work.cycles, r);
  const double units = PerSecond(r.work.units, r);

  if (c.workload == Workload::kAdd && c.batch == 1000 && c.payload == 100) {
    out.push_back(AtLeast("units/s>=400000", units, 400000));
  }
  if (c.workload != Workload::kDo) return out;

  // Figure 1 and the other single-spec figures at the standard backlog (a settled run is only
  // the baseline of the settled big-backlog comparison).
  if (standard && c.specs == 1 && c.backlog == 10000 && !c.settle) {
    if (c.workers == 64 && c.batch == 1) {
      out.push_back(AtLeast("cycles/s>=30000", cycles, 30000));
      out.push_back(AtMost("get_work.p99<=5ms", GetWorkP99(r), 5e-3, Ms(GetWorkP99(r))));
      if (auto ratio = r.ratio_to_floor()) {
        out.push_back(AtLeast("ratio_to_floor>=0.6", *ratio, 0.6, "{:.2f}"));
      } else {
        out.push_back(NotChecked("ratio_to_floor>=0.6", "no floor"));
      }
    }
    if (c.workers == 8 && c.batch == 1) {
      out.push_back(AtLeast("cycles/s>=12000", cycles, 12000));
      out.push_back(AtMost("get_work.p99<=1.5ms", GetWorkP99(r), 1.5e-3, Ms(GetWorkP99(r))));
    }
    if (c.workers == 64 && c.batch == 10) {
      out.push_back(AtLeast("units/s>=100000", units, 100000));
    }
  }
  if (c.workers != 64 || c.batch != 1) return out;

  // Comparisons with another run of this invocation.
  auto compare = [&](const std::string& bar, RunConfig ref_config, auto check) {
    ref_config.measure_restart = false;
    const RunResult* ref = find(Label(ref_config));
    if (!ref || !ref->status.ok()) {
      out.push_back(NotChecked(bar, "no run '" + Label(ref_config) + "'"));
    } else {
      out.push_back(check(*ref));
    }
  };
  if (c.payload == 100 && c.idle == 0 && c.specs == 1 && c.backlog >= 10000000) {
    RunConfig ref = c;
    ref.backlog = 10000;
    compare("get_work.p99<=1.5x(backlog=10000)", ref, [&](const RunResult& base) {
      const double p99 = GetWorkP99(r), bound = 1.5 * GetWorkP99(base);
      return AtMost("get_work.p99<=1.5x(backlog=10000)", p99, bound,
                    Ms(p99) + "/" + Ms(GetWorkP99(base)));
    });
    if (r.rss_max_bytes) {
      const double mib = static_cast<double>(*r.rss_max_bytes) / (1 << 20);
      out.push_back(AtMost("rss_max<=300MiB", mib, 300, fmt::format("{:.0f}MiB", mib)));
    }
    if (r.disk_bytes && r.raw_bytes > 0) {
      const double ratio = static_cast<double>(*r.disk_bytes) / static_cast<double>(r.raw_bytes);
      out.push_back(
          AtMost("disk<=2.5x_raw(uncompacted)", ratio, 2.5, fmt::format("{:.2f}", ratio)));
    }
    if (r.restart_seconds) {
      out.push_back(
          AtMost("restart<=2s", *r.restart_seconds, 2, fmt::format("{:.2f}s", *r.restart_seconds)));
    }
  }
  if (c.payload == 100 && c.idle == 0 && c.specs == 1000) {
    RunConfig ref = c;
    ref.specs = 10;
    compare("cycles/s>=0.7x(specs=10)", ref, [&](const RunResult& base) {
      const double b = PerSecond(base.work.cycles, base);
      return AtLeast("cycles/s>=0.7x(specs=10)", b > 0 ? cycles / b : 0, 0.7, "{:.2f}x");
    });
  }
  if (c.payload == 100 && c.idle == 1000 && c.specs == 1 && c.backlog == 10000) {
    RunConfig ref = c;
    ref.idle = 0;
    compare("cycles/s>=0.9x(idle=0)", ref, [&](const RunResult& base) {
      const double b = PerSecond(base.work.cycles, base);
      return AtLeast("cycles/s>=0.9x(idle=0)", b > 0 ? cycles / b : 0, 0.9, "{:.2f}x");
    });
  }
  return out;
}

}  // namespace coordinate::bench
