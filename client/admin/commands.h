// The subcommands of coordinate-admin, one file per concept. Each Add* function registers its
// subcommands (with --help text and examples) on `app`.
#pragma once

#include <CLI/CLI.hpp>

#include "context.h"

namespace coordadmin {

void AddSummaryCommand(CLI::App& app, Context& ctx);      // cmd_summary.cc
void AddSpecCommands(CLI::App& app, Context& ctx);        // cmd_spec.cc
void AddFlowCommands(CLI::App& app, Context& ctx);        // cmd_flow.cc
void AddUnitReadCommands(CLI::App& unit, Context& ctx);   // cmd_unit_read.cc: ls, show
void AddUnitWriteCommands(CLI::App& unit, Context& ctx);  // cmd_unit_write.cc: add, retry, ...
void AddWorkerCommands(CLI::App& app, Context& ctx);      // cmd_worker.cc
void AddLockCommands(CLI::App& app, Context& ctx);        // cmd_lock.cc
void AddDumpCommands(CLI::App& app, Context& ctx);        // cmd_dump.cc: dump, restore
void AddCheckCommand(CLI::App& app, Context& ctx);        // cmd_check.cc
void AddBackupCommand(CLI::App& app, Context& ctx);       // cmd_backup.cc

}  // namespace coordadmin
