// worker ls | show
#include <iostream>
#include <memory>

#include "cli_util.h"
#include "commands.h"
#include "errors.h"

namespace coordadmin {

namespace {

struct ShowOptions {
  std::string id;
  bool escaped = false;
};

void Ls(Context& ctx) {
  std::vector<Json> rows;
  for (const WorkerRow& w : Must(ctx.backend().Workers(), "listing workers")) {
    Json j = WorkerJson(w, false);
    if (!ctx.offline()) j["data"] = coordinated::scheduler::ValueToJson(w.data);
    rows.push_back(std::move(j));
  }
  std::vector<Column> cols = {{"ID", "id"}, {"MODE", "mode"}};
  if (ctx.offline()) {
    cols.push_back({"ALIVE", "alive"});
    cols.push_back({"PARENT", "parent"});
    cols.push_back({"LAST_HEARD", "last_heard", Column::kTime});
    cols.push_back({"EXPIRES", "expires", Column::kTime});
    cols.push_back({"UNITS", "units", Column::kNumber});
  } else {
    cols.push_back({"DATA", "data", Column::kText, 80});
  }
  PrintList(std::cout, ctx.format(), cols, rows, ctx.options.no_header);
}

void Show(Context& ctx, const ShowOptions& o) {
  const Value id = NameArg(o.id, o.escaped);
  auto w = Must(ctx.backend().Worker(id), "reading the worker");
  if (!w) Fail(kExitFailed, "no live worker " + TerminalSafe(id.str()));
  PrintRecord(std::cout, ctx.format(), WorkerJson(*w, true));
}

}  // namespace

void AddWorkerCommands(CLI::App& app, Context& ctx) {
  CLI::App* worker = app.add_subcommand("worker", "Workers: list, show");
  worker->require_subcommand(1);
  worker->footer(Footer("Examples:\n  coordinate-admin worker ls"));
  CLI::App* ls = worker->add_subcommand(
      "ls",
      "List workers: through the daemon the live ones with mode and data; offline every "
      "stored worker with its heartbeat, expiry and current unit count");
  ls->footer(
      Footer("Examples:\n  coordinate-admin worker ls\n"
             "  coordinate-admin --data-dir /var/lib/coordinated worker ls -o json"));
  ls->callback([&ctx] { Ls(ctx); });

  auto o = std::make_shared<ShowOptions>();
  CLI::App* show = worker->add_subcommand(
      "show", "Show a worker: mode, data, children (offline also heartbeat and current units)");
  show->add_option("ID", o->id, "worker id")->required();
  show->add_flag("-e,--escaped", o->escaped, "ID uses the table escapes (\\xNN ...)");
  show->footer(Footer("Examples:\n  coordinate-admin worker show host1-1234"));
  show->callback([&ctx, o] { Show(ctx, *o); });
}

}  // namespace coordadmin
