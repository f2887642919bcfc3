// coordinate-bench: load generator and benchmark matrix for coordinated.
//
//   coordinate-bench matrix [--duration S] [--big] [--only TEXT]...
//       the standard matrix (matrix.h), one line per run (report.h), bars checked (bars.h).
//   coordinate-bench floor --workers W --duration S
//   coordinate-bench add --count N --batch B [--first F] [--payload P] [--workers W]
//   coordinate-bench do --workers W --batch K --duration S [--preload N] [--restart] [--settle]
//   coordinate-bench mixed --workers W --duration S
//   coordinate-bench restart --backlog N
//
// The daemon: with --addr HOST:PORT the bench uses that daemon and launches nothing. Otherwise
// it launches a fresh coordinated for every run (--daemon PATH, by default the one built beside
// this binary), on 127.0.0.1 port 0 with a temporary data directory, and measures its memory,
// disk use and restart time too; when no daemon binary exists it falls back to
// $COORDINATE_ADDR, else 127.0.0.1:5932. Every run against a daemon is preceded by a floor run
// (the in-process echo server, floor_server.h) at the same W, unless --no-floor.
//
// Exit status: 0 when every run was carried out (bars that FAIL do not change it), 1 when a run
// failed, 2 for bad usage.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "matrix.h"
#include "report.h"
#include "runner.h"

#ifndef COORD_BENCH_DAEMON
#define COORD_BENCH_DAEMON ""
#endif

namespace coordinate::bench {
namespace {

// Options every run-level subcommand shares.
struct CommonFlags {
  std::string sync = "on";
  int specs = 1;
  size_t payload = 100;
  int64_t backlog = -1;  // -1: 10,000 with a launched daemon, 0 against --addr
  int idle = 0;
};

void AddCommon(CLI::App* cmd, CommonFlags* f) {
  cmd->add_option("--sync", f->sync, "storage sync of the launched daemon: on or off")
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--specs", f->specs, "work specs, all holding work")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--payload", f->payload, "bytes of data per unit");
  cmd->add_option("--backlog,--preload", f->backlog,
                  "units queued before the measurement (default 10000; 0 with --addr)");
  cmd->add_option("--idle", f->idle, "extra idle connections held open during the run");
}

RunConfig FromCommon(const CommonFlags& f, bool external) {
  RunConfig c;
  c.sync = f.sync == "off" ? SyncMode::kOff : SyncMode::kOn;
  c.specs = f.specs;
  c.payload = f.payload;
  c.backlog = f.backlog >= 0 ? static_cast<uint64_t>(f.backlog) : (external ? 0 : 10000);
  c.idle = f.idle;
  return c;
}

int Main(int argc, char** argv) {
  CLI::App app{"coordinate-bench: load generator and benchmark matrix for coordinated"};
  app.fallthrough();  // subcommands (made below inherit it) accept these options after them too
  std::string addr, spec = "bench", daemon;
  std::vector<std::string> daemon_args;
  Environment env;
  bool no_floor = false;
  app.add_option("--addr", addr, "use the daemon at HOST:PORT instead of launching one");
  app.add_option("--spec", spec, "work spec name (the prefix of the names with --specs > 1)");
  app.add_option("--daemon", daemon, "the coordinated binary to launch")
      ->default_str(COORD_BENCH_DAEMON);
  app.add_option("--daemon-arg", daemon_args, "an extra argument for the launched daemon")
      ->allow_extra_args(false);
  app.add_option("--floor-threads", env.floor_threads, "io threads of the floor echo server");
  app.add_flag("--no-floor", no_floor, "do not measure the floor (no ratios)");
  app.add_option("--reserve-rate", env.reserve_rate,
                 "units/s a do run may consume, pre-loaded beyond the backlog (0: adaptive)");
  app.add_option("--loaders", env.loaders, "connections that pre-load the backlog");

  auto* matrix = app.add_subcommand("matrix", "run the standard matrix, one line per run");
  MatrixOptions mo;
  matrix->add_option("--duration", mo.duration, "seconds per run");
  matrix->add_flag("--big", mo.big, "include the 10-million-unit backlog");
  matrix->add_option("--big-backlog", mo.big_backlog, "units of the big backlog");
  matrix->add_option("--only", mo.only, "keep runs whose label has these words (repeatable)")
      ->allow_extra_args(false);

  auto* floor = app.add_subcommand("floor", "round trips against the in-process echo server");
  RunConfig floor_config;
  floor_config.workload = Workload::kFloor;
  floor->add_option("--workers", floor_config.workers, "connections");
  floor->add_option("--duration", floor_config.duration, "seconds");

  auto* add = app.add_subcommand("add", "add work units");
  CommonFlags add_flags;
  RunConfig add_config;
  add_config.workload = Workload::kAdd;
  add_config.workers = 1;
  add_config.batch = 1000;
  add_config.count = 100000;
  AddCommon(add, &add_flags);
  auto* add_count = add->add_option("--count", add_config.count, "units to add");
  add->add_option("--batch", add_config.batch, "units per add_work_units call");
  add->add_option("--first", add_config.first_key, "number of the first key");
  add->add_option("--workers", add_config.workers, "connections");
  auto* add_duration =
      add->add_option("--duration", add_config.duration, "seconds (instead of --count)");

  auto* run = app.add_subcommand("do", "claim and finish work units");
  CommonFlags do_flags;
  RunConfig do_config;
  do_config.duration = 10;
  AddCommon(run, &do_flags);
  run->add_option("--workers", do_config.workers, "connections");
  run->add_option("--batch", do_config.batch, "max_jobs per get_work (K)");
  run->add_option("--duration", do_config.duration, "seconds");
  run->add_flag("--restart", do_config.measure_restart, "then time a restart after kill -9");
  run->add_flag("--settle", do_config.settle,
                "after the pre-load, wait until the launched daemon is idle before measuring");

  auto* mixed = app.add_subcommand("mixed", "claims, renewals, status reads, finishes and adds");
  CommonFlags mixed_flags;
  RunConfig mixed_config;
  mixed_config.workload = Workload::kMixed;
  mixed_config.workers = 64;
  mixed_config.duration = 10;
  AddCommon(mixed, &mixed_flags);
  mixed->add_option("--workers", mixed_config.workers, "connections");
  mixed->add_option("--duration", mixed_config.duration, "seconds");

  auto* restart = app.add_subcommand("restart", "pre-load, kill -9, time the restart");
  CommonFlags restart_flags;
  AddCommon(restart, &restart_flags);

  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);

  // Which daemon.
  if (!addr.empty()) {
    env.external_address = addr;
  } else {
    env.daemon_binary = daemon.empty() ? COORD_BENCH_DAEMON : daemon;
    if (daemon.empty() &&
        (env.daemon_binary.empty() || ::access(env.daemon_binary.c_str(), X_OK) != 0)) {
      env.external_address = ResolveAddress("");
      std::fprintf(stderr, "coordinate-bench: no coordinated to launch; using %s\n",
                   env.external_address.c_str());
    }
  }
  const bool external = !env.external_address.empty();
  env.floors = !no_floor;
  env.daemon_args = daemon_args;

  std::vector<RunConfig> configs;
  if (matrix->parsed()) {
    mo.external = external;
    mo.spec_prefix = spec;
    configs = StandardMatrix(mo);
  } else if (floor->parsed()) {
    configs.push_back(floor_config);
  } else if (add->parsed()) {
    RunConfig c = FromCommon(add_flags, external);
    c.workload = Workload::kAdd;
    c.workers = add_config.workers;
    c.batch = add_config.batch;
    c.first_key = add_config.first_key;
    // --duration alone runs for that long; otherwise --count units (default 100,000).
    c.count = add_duration->count() > 0 && add_count->count() == 0 ? 0 : add_config.count;
    c.duration = add_config.duration;
    configs.push_back(c);
  } else if (run->parsed()) {
    RunConfig c = FromCommon(do_flags, external);
    c.workload = Workload::kDo;
    c.workers = do_config.workers;
    c.batch = do_config.batch;
    c.duration = do_config.duration;
    c.measure_restart = do_config.measure_restart;
    c.settle = do_config.settle;
    configs.push_back(c);
  } else if (mixed->parsed()) {
    RunConfig c = FromCommon(mixed_flags, external);
    c.workload = Workload::kMixed;
    c.workers = mixed_config.workers;
    c.duration = mixed_config.duration;
    configs.push_back(c);
  } else if (restart->parsed()) {
    RunConfig c = FromCommon(restart_flags, external);
    c.workload = Workload::kRestart;
    configs.push_back(c);
  }
  if (!matrix->parsed()) {
    for (auto& c : configs) c.spec_prefix = spec;
  }

  Reporter reporter(stdout);
  Runner runner(env, [&](const RunResult& r) { reporter.Print(r); });
  for (const auto& c : configs) runner.Run(c);
  return reporter.any_error() ? 1 : 0;
}

}  // namespace
}  // namespace coordinate::bench

int main(int argc, char** argv) { return coordinate::bench::Main(argc, argv); }
