// lock ls
#include <iostream>

#include "cli_util.h"
#include "commands.h"
#include "errors.h"

namespace coordadmin {

namespace {

void Ls(Context& ctx) {
  Backend& b = ctx.backend();
  const double now = b.Now();
  std::vector<Json> rows;
  for (const LockRow& l : Must(b.Locks(), "listing locks")) {
    Json path = Json::array();
    if (l.path.is_sequence()) {
      for (const Value& label : l.path.items()) path.push_back(NameJson(label));
    }
    Json j = Json::object();
    j["path"] = std::move(path);
    j["owner"] = NameJson(l.owner);
    j["deadline"] = l.deadline;
    j["expired"] = l.deadline <= now;
    rows.push_back(std::move(j));
  }
  PrintList(std::cout, ctx.format(),
            {{"PATH", "path", Column::kText, 0,
              [](const Json& path) {  // "[a b]", as the Go daemon printed paths
                std::string s;
                for (const Json& label : path)
                  s += (s.empty() ? "" : " ") + CellText(label, Column::kText);
                return "[" + s + "]";
              }},
             {"OWNER", "owner"},
             {"DEADLINE", "deadline", Column::kTime},
             {"EXPIRED", "expired"}},
            rows, ctx.options.no_header);
}

}  // namespace

void AddLockCommands(CLI::App& app, Context& ctx) {
  CLI::App* lock = app.add_subcommand("lock", "Locks of the lock service");
  lock->require_subcommand(1);
  lock->footer(Footer("Examples:\n  coordinate-admin lock ls"));
  CLI::App* ls = lock->add_subcommand(
      "ls", "List held locks: path, owner, deadline (expired ones are released lazily)");
  ls->footer(Footer("Examples:\n  coordinate-admin lock ls\n  coordinate-admin lock ls -o jsonl"));
  ls->callback([&ctx] { Ls(ctx); });
}

}  // namespace coordadmin
