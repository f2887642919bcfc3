// check [--repair]: every store invariant; --repair rebuilds derived data offline.
#include <iostream>
#include <memory>

#include "cli_util.h"
#include "commands.h"
#include "common/clock.h"
#include "errors.h"
#include "scheduler/coordinator.h"
#include "scheduler/repair.h"

namespace coordadmin {

namespace {

std::vector<std::string> CheckStore(coordinated::storage::Store* store) {
  coordinated::SystemClock clock;
  coordinated::scheduler::Coordinator c(store, &clock,
                                        coordinated::scheduler::CoordinatorOptions());
  Must(c.Load(), "loading the store");
  return c.CheckConsistency();
}

void Print(Context& ctx, const std::vector<std::string>& problems, const Json& extra) {
  if (ctx.format() == Format::kTable) {
    for (const auto& p : problems) std::cout << TerminalSafe(p) << "\n";
    if (problems.empty()) std::cout << "ok: no problems found\n";
    return;
  }
  Json j = Json::object();
  j["ok"] = problems.empty();
  Json list = Json::array();
  for (const auto& p : problems) list.push_back(p);
  j["problems"] = std::move(list);
  for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  PrintRecord(std::cout, ctx.format(), j);
}

void Repair(Context& ctx) {
  ctx.RequireOffline("check --repair");
  auto store = ctx.writable_store(false);
  const auto before = CheckStore(store.get());
  if (ctx.format() == Format::kTable) {
    std::cout << "before repair: " << before.size() << " problem(s)\n";
    for (const auto& p : before) std::cout << "  " << TerminalSafe(p) << "\n";
  }
  auto report = Must(coordinated::scheduler::RepairStore(store.get()), "repair");
  const auto after = CheckStore(store.get());
  Json r = Json::object();
  r["specs"] = report.specs;
  r["units"] = report.units;
  r["index_entries_removed"] = report.index_entries_removed;
  r["index_entries_written"] = report.index_entries_written;
  r["reverse_edges_written"] = report.reverse_edges_written;
  r["blockers_fixed"] = report.blockers_fixed;
  r["open_attempts_folded"] = report.open_attempts_folded;
  r["counters_fixed"] = report.counters_fixed;
  Json notes = Json::array();
  for (const auto& n : report.notes) notes.push_back(n);
  r["notes"] = notes;
  if (ctx.format() == Format::kTable) {
    std::cout << "repaired: " << report.units << " units in " << report.specs << " specs; "
              << report.index_entries_written << " index entries written ("
              << report.index_entries_removed << " removed), " << report.counters_fixed
              << " counters and " << report.blockers_fixed << " blocker counts fixed, "
              << report.open_attempts_folded << " open attempts moved into their units, "
              << report.reverse_edges_written << " reverse edges\n";
    for (const auto& n : report.notes) std::cout << "note: " << TerminalSafe(n) << "\n";
    std::cout << "after repair: ";
  }
  Json before_list = Json::array();
  for (const auto& p : before) before_list.push_back(p);
  Print(ctx, after, Json{{"problems_before", before_list}, {"repair", r}});
  if (!after.empty())
    Fail(kExitFailed, std::to_string(after.size()) + " problem(s) remain after repair");
}

}  // namespace

void AddCheckCommand(CLI::App& app, Context& ctx) {
  auto repair = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "check",
      "Verify every store invariant (index entries match unit records, counters match a scan, "
      "dependency edges both ways, blocker counts) and list each problem; exit 1 when any. "
      "Through the daemon (check RPC) or offline (--data-dir, read-only). --repair (offline, "
      "daemon stopped) rebuilds the unit indexes, counters, reverse edges and blocker counts "
      "from the records");
  cmd->add_flag("--repair", *repair, "rebuild derived data (needs --data-dir; writes the store)");
  cmd->footer(
      Footer("Examples:\n  coordinate-admin check\n"
             "  coordinate-admin --data-dir /var/lib/coordinated check\n"
             "  coordinate-admin --data-dir /var/lib/coordinated check --repair"));
  cmd->callback([&ctx, repair] {
    if (*repair) return Repair(ctx);
    const auto problems = Must(ctx.backend().Check(), "check");
    Print(ctx, problems, Json::object());
    if (!problems.empty()) Fail(kExitFailed, std::to_string(problems.size()) + " problem(s) found");
  });
}

}  // namespace coordadmin
