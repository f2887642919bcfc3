// summary: units per status for each work spec, optionally refreshed (--watch).
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "cli_util.h"
#include "commands.h"
#include "errors.h"

namespace coordadmin {

namespace {

struct SummaryOptions {
  double watch = 0;
  uint64_t iterations = 0;
};

std::vector<Json> SummaryRows(Backend& b) {
  std::vector<Json> rows;
  for (const SpecRow& s : Must(b.Specs(), "listing work specs")) {
    Json r = Json::object();
    r["spec"] = NameJson(s.name);
    r["paused"] = s.paused;
    uint64_t total = 0;
    for (int st : {1, 3, 2, 4, 5}) {
      r[StatusName(st)] = s.counts[st];
      total += s.counts[st];
    }
    r["total"] = total;
    rows.push_back(std::move(r));
  }
  return rows;
}

void Run(Context& ctx, const SummaryOptions& o) {
  if (o.watch > 0) ctx.RequireOnline("summary --watch");
  const bool clear = o.watch > 0 && ctx.format() == Format::kTable && isatty(1);
  const std::vector<Column> cols = {
      {"SPEC", "spec"},
      {"PAUSED", "paused"},
      {"AVAILABLE", "available", Column::kNumber},
      {"PENDING", "pending", Column::kNumber},
      {"BLOCKED", "blocked", Column::kNumber},
      {"FINISHED", "finished", Column::kNumber},
      {"FAILED", "failed", Column::kNumber},
      {"TOTAL", "total", Column::kNumber},
  };
  for (uint64_t i = 0;; ++i) {
    std::vector<Json> rows = SummaryRows(ctx.backend());
    if (clear) std::cout << "\x1b[H\x1b[2J";
    if (o.watch > 0 && ctx.format() == Format::kTable) {
      std::cout << "as of " << FormatTime(ctx.backend().Now()) << " (every " << o.watch << " s)\n";
    }
    PrintList(std::cout, ctx.format(), cols, rows, ctx.options.no_header);
    if (o.watch <= 0 || (o.iterations && i + 1 >= o.iterations)) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(o.watch));
  }
}

}  // namespace

void AddSummaryCommand(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<SummaryOptions>();
  CLI::App* cmd = app.add_subcommand(
      "summary",
      "Units per status (available, pending, blocked, finished, failed, total) for each "
      "work spec; archived units are counted as finished/failed");
  cmd->add_option("--watch", o->watch, "refresh every N seconds until interrupted (daemon only)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--iterations", o->iterations, "with --watch: stop after N refreshes");
  cmd->footer(
      Footer("Examples:\n"
             "  coordinate-admin summary\n"
             "  coordinate-admin summary --watch 5\n"
             "  coordinate-admin --data-dir /var/lib/coordinated summary -o json"));
  cmd->callback([&ctx, o] { Run(ctx, *o); });
}

}  // namespace coordadmin
