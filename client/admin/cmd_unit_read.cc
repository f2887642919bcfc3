// unit ls | show
#include <iostream>
#include <memory>

#include "cli_util.h"
#include "commands.h"
#include "errors.h"

namespace coordadmin {

using coordinated::scheduler::ValueToJson;

namespace {

struct LsOptions {
  std::string spec;
  std::vector<std::string> statuses;
  std::string prefix;
  uint64_t limit = 1000;
  bool details = false;
  bool escaped = false;
};

struct ShowOptions {
  std::string spec;
  std::string key;
  bool escaped = false;
};

void Ls(Context& ctx, const LsOptions& o) {
  UnitQuery q;
  for (const auto& s : o.statuses) q.statuses.push_back(ParseStatus(s));
  Backend& b = ctx.backend();
  q.prefix = o.escaped ? Unescape(o.prefix) : o.prefix;
  std::vector<Value> specs;
  if (!o.spec.empty()) {
    specs.push_back(NameArg(o.spec, o.escaped));
  } else {
    for (const SpecRow& s : Must(b.Specs(), "listing work specs")) specs.push_back(s.name);
  }
  std::vector<Json> rows;
  for (const Value& spec : specs) {
    if (o.limit && rows.size() >= o.limit) break;
    q.spec = spec;
    q.limit = o.limit ? o.limit - rows.size() : 0;
    auto units = b.Units(q);
    if (!units.ok()) {
      if (units.status().code() == coordinated::Code::kNotFound) {
        Fail(kExitFailed, "no such work spec " + TerminalSafe(spec.str()));
      }
      FailStatus(units.status(), "listing units");
    }
    for (const UnitRow& u : *units) rows.push_back(UnitJson(spec, u, o.details));
  }
  std::vector<Column> cols = {
      {"SPEC", "spec"}, {"KEY", "key", Column::kText, 60}, {"STATUS", "status"}};
  if (ctx.offline()) cols.push_back({"PRIORITY", "priority", Column::kNumber});
  cols.push_back({"WORKER", "worker"});
  cols.push_back({"EXPIRATION", "expiration", Column::kTime});
  if (o.details) {
    cols.push_back({"TRACEBACK", "traceback", Column::kText, 40});
    cols.push_back({"DATA", "data", Column::kText, 60});
  }
  PrintList(std::cout, ctx.format(), cols, rows, ctx.options.no_header);
}

void Show(Context& ctx, const ShowOptions& o) {
  const Value spec = NameArg(o.spec, o.escaped);
  const Value key = NameArg(o.key, o.escaped);
  auto unit = ctx.backend().Unit(spec, key);
  if (!unit.ok()) {
    if (unit.status().code() == coordinated::Code::kNotFound) {
      Fail(kExitFailed, "no such work spec " + TerminalSafe(spec.str()));
    }
    FailStatus(unit.status(), "reading the unit");
  }
  if (!*unit) {
    Fail(kExitFailed,
         "no unit " + TerminalSafe(key.str()) + " in work spec " + TerminalSafe(spec.str()));
  }
  const UnitRow& u = **unit;
  Json r = UnitJson(spec, u, true);
  if (u.worker) {
    Json w = WorkerJson(*u.worker, false);
    w.erase("units");
    r["worker"] = std::move(w);
  }
  Json log = Json::array();
  for (const AttemptRow& a : u.attempt_log) {
    Json j = Json::object();
    j["worker"] = NameJson(a.worker_id);
    j["status"] = a.status;
    j["start"] = a.start;
    j["expires"] = a.expires;
    j["end"] = OptTime(a.end);
    log.push_back(std::move(j));
  }
  r["attempt_log"] = std::move(log);
  PrintRecord(std::cout, ctx.format(), r);
}

}  // namespace

void AddUnitReadCommands(CLI::App& unit, Context& ctx) {
  auto ls = std::make_shared<LsOptions>();
  CLI::App* l = unit.add_subcommand(
      "ls",
      "List work units (by key; through the daemon a --status filter lists them in "
      "priority order)");
  l->add_option("--spec", ls->spec, "only this work spec (default: every spec)");
  l->add_option("--status", ls->statuses,
                "only these statuses: available, blocked, pending, finished, failed (repeatable)")
      ->delimiter(',');
  l->add_option("--prefix", ls->prefix, "only keys starting with this prefix");
  l->add_option("--limit", ls->limit, "at most N units (default 1000; 0: no limit)");
  l->add_flag("--details", ls->details, "add data, traceback, attempts and prerequisites");
  l->add_flag("-e,--escaped", ls->escaped, "--spec and --prefix use the table escapes");
  l->footer(
      Footer("Examples:\n"
             "  coordinate-admin unit ls --spec crawl --status failed --details\n"
             "  coordinate-admin unit ls --spec crawl --prefix 2024- --limit 10 -o jsonl\n"
             "  coordinate-admin --data-dir /var/lib/coordinated unit ls --status pending"));
  l->callback([&ctx, ls] { Ls(ctx, *ls); });

  auto show = std::make_shared<ShowOptions>();
  CLI::App* s = unit.add_subcommand(
      "show", "Show one unit: status, lease, worker and its heartbeat, attempts, traceback, data");
  s->add_option("SPEC", show->spec, "work spec name")->required();
  s->add_option("KEY", show->key, "unit key")->required();
  s->add_flag("-e,--escaped", show->escaped,
              "SPEC and KEY use the table escapes (\\xNN, \\n, \\t, \\\\ ...)");
  s->footer(
      Footer("Examples:\n  coordinate-admin unit show crawl http://example.com/\n"
             "  coordinate-admin unit show crawl 'bin\\xff' --escaped -o json"));
  s->callback([&ctx, show] { Show(ctx, *show); });
}

}  // namespace coordadmin
