// coordinate-admin: inspect and administer a coordinated daemon or its data directory.
// docs/admin.md describes every command, the exit codes and the dump format.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli_util.h"
#include "commands.h"
#include "context.h"
#include "daemon/version.h"
#include "errors.h"

using namespace coordadmin;

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  Context ctx;
  CLI::App app(
      "coordinate-admin: inspect and administer coordinated (through the daemon, or "
      "offline on its data directory)");
  app.set_version_flag("--version", std::string("coordinate-admin ") + coordinated::kVersion);
  app.fallthrough();
  app.require_subcommand(1);
  auto* addr = app.add_option("--addr", ctx.options.addr,
                              "daemon address HOST:PORT (default: $COORDINATE_ADDR, else "
                              "127.0.0.1:5932)");
  app.add_option("--auth-token-file", ctx.options.auth_token_file,
                 "file holding the daemon's auth token (its server.auth_token_file); sent with "
                 "auth() on connecting (default: $COORDINATE_AUTH_TOKEN_FILE)")
      ->envname("COORDINATE_AUTH_TOKEN_FILE");
  app.add_option("--data-dir", ctx.options.data_dir,
                 "work on this data directory instead of the daemon (read-only except restore "
                 "and check --repair; stop the daemon for those)")
      ->excludes(addr);
  app.add_option("-o,--output", ctx.options.output, "output format: table, json or jsonl")
      ->check(CLI::IsMember({"table", "json", "jsonl"}));
  app.add_flag("--no-header", ctx.options.no_header, "tables without their header line");
  app.add_option("--timeout", ctx.options.timeout, "seconds to wait for the daemon (default 30)");
  app.footer(
      Footer("Examples:\n"
             "  coordinate-admin summary\n"
             "  coordinate-admin --addr 10.0.0.5:5932 unit ls --spec crawl --status failed\n"
             "  coordinate-admin --data-dir /var/lib/coordinated check\n"
             "  coordinate-admin dump --out backup.jsonl\n\n"
             "Every command has --help with examples."));

  AddSummaryCommand(app, ctx);
  AddSpecCommands(app, ctx);
  AddFlowCommands(app, ctx);
  CLI::App* unit =
      app.add_subcommand("unit", "Work units: list, show, add, retry, prioritize, delete");
  unit->require_subcommand(1);
  unit->footer(
      Footer("Examples:\n  coordinate-admin unit ls --spec crawl\n"
             "  coordinate-admin unit show crawl u1"));
  AddUnitReadCommands(*unit, ctx);
  AddUnitWriteCommands(*unit, ctx);
  AddWorkerCommands(app, ctx);
  AddLockCommands(app, ctx);
  AddDumpCommands(app, ctx);
  AddCheckCommand(app, ctx);
  AddBackupCommand(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  } catch (const CliError& e) {
    std::cout.flush();
    std::cerr << "coordinate-admin: " << e.what() << "\n";
    return e.code();
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "coordinate-admin: " << e.what() << "\n";
    return kExitFailed;
  }
  std::cout.flush();
  return kExitOk;
}
