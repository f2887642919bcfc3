// backup DIR: a consistent RocksDB checkpoint made by the daemon (the `backup` RPC).
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli_util.h"
#include "commands.h"
#include "errors.h"
#include "rpc.h"

namespace coordadmin {

void AddBackupCommand(CLI::App& app, Context& ctx) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "backup",
      "Have the daemon write a consistent checkpoint of its store to DIR (on the daemon's host; "
      "DIR must not exist). Start a daemon on it with `coordinated --data-dir DIR`, or read it "
      "with `coordinate-admin --data-dir DIR ...`");
  cmd->add_option("DIR", *dir, "directory to create (a relative path is made absolute here)")
      ->required();
  cmd->footer(Footer("Examples:\n  coordinate-admin backup /var/backups/coordinated/2024-06-01"));
  cmd->callback([&ctx, dir] {
    ctx.RequireOnline("backup");
    const std::string path = std::filesystem::absolute(*dir).lexically_normal().string();
    auto& client = ctx.client("backup");
    ExpectOk(Call(client, "backup", Value::Array({Value::Text(path)})), "backup");
    std::cout << "backup written to " << TerminalSafe(path) << "\n";
  });
}

}  // namespace coordadmin
