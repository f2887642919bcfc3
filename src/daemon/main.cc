// coordinated: the durable job-coordination daemon.
//
// Start-up: flags -> config (file, environment, flags) -> logging -> store (migrations) ->
// coordinator (loads spec summaries) -> sequencer -> RPC listener. SIGTERM/SIGINT: stop
// accepting, answer what is in flight, sync, exit 0. Bad configuration, an unopenable store or a
// failed bind: one clear error line and a non-zero exit.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "daemon/config.h"
#include "daemon/logging.h"
#include "daemon/version.h"
#include "rpc/dispatcher.h"
#include "rpc/server.h"
#include "scheduler/coordinator.h"
#include "scheduler/sequencer.h"
#include "storage/store.h"

namespace coordinated::daemon {
namespace {

constexpr int kExitConfig = 2;
constexpr int kExitStartup = 1;
constexpr int kExitFatal = 3;

void Die(int code, const std::string& what) {
  std::fprintf(stderr, "coordinated: %s\n", what.c_str());
  std::exit(code);
}

Status WriteReadyFile(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Status::IOError("cannot write " + tmp);
    out << content << "\n";
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IOError("cannot rename " + tmp);
  return Status::Ok();
}

int Run(int argc, char** argv) {
  CLI::App app{"coordinated: durable job coordination daemon (CBOR-RPC on port 5932)"};
  std::string config_path, host, data_dir, log_level, log_format, ready_file;
  int port = -1;
  bool print_config = false, check_config = false, test_hooks = false, no_sync = false;
  std::vector<std::string> sets;
  app.add_option("-c,--config", config_path, "YAML configuration file");
  app.add_option("--host", host, "listen address (default 127.0.0.1)");
  app.add_option("-p,--port", port, "listen port (default 5932; 0 = ephemeral)");
  app.add_option("--data-dir", data_dir, "data directory (default ./coordinate-data)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off");
  app.add_option("--log-format", log_format, "text or json");
  app.add_option("--ready-file", ready_file, "write HOST:PORT here once listening");
  app.add_option("--set", sets, "override one config key: PATH=VALUE (e.g. storage.sync=false)");
  app.add_flag("--no-sync", no_sync, "do not fsync before acknowledging (see storage.sync)");
  app.add_flag("--print-config", print_config, "print the effective configuration and exit");
  app.add_flag("--check-config", check_config, "validate the configuration and exit");
  app.add_flag("--enable-test-hooks", test_hooks, "enable test-only RPCs (never in production)");
  app.set_version_flag("--version", kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  Config cfg;
  if (!config_path.empty()) {
    Status s = LoadConfigFile(config_path, &cfg);
    if (!s.ok()) Die(kExitConfig, s.ToString());
  }
  if (Status s = ApplyEnvironment(&cfg); !s.ok()) Die(kExitConfig, s.ToString());
  for (const auto& set : sets) {
    auto eq = set.find('=');
    if (eq == std::string::npos) Die(kExitConfig, "--set needs PATH=VALUE, got '" + set + "'");
    Status s = ApplyOverride(set.substr(0, eq), set.substr(eq + 1), &cfg);
    if (!s.ok()) Die(kExitConfig, s.ToString());
  }
  if (!host.empty()) cfg.host = host;
  if (port >= 0) {
    if (port > 65535) Die(kExitConfig, "--port must be 0..65535");
    cfg.port = port;
  }
  if (!data_dir.empty()) cfg.data_dir = data_dir;
  if (!log_level.empty()) cfg.log_level = log_level;
  if (!log_format.empty()) cfg.log_format = log_format;
  if (!ready_file.empty()) cfg.ready_file = ready_file;
  if (no_sync) cfg.sync = false;
  if (test_hooks) cfg.test_hooks = true;
  if (print_config) {
    std::cout << RenderConfigYaml(cfg);
    return 0;
  }
  if (check_config) {
    std::cout << "configuration OK (" << cfg.source << ")\n";
    return 0;
  }
  if (Status s = SetUpLogging(cfg.log_level, cfg.log_format); !s.ok()) {
    Die(kExitConfig, s.ToString());
  }
  for (const auto& var : UnknownEnvironmentVariables()) {
    spdlog::warn("ignoring unknown environment variable {}", var);
  }

  // Store and coordinator.
  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) Die(kExitStartup, "cannot create data directory " + cfg.data_dir + ": " + ec.message());
  storage::StoreOptions so;
  so.path = cfg.data_dir;
  so.sync = cfg.sync;
  auto store = storage::Store::Open(so);
  if (!store.ok()) Die(kExitStartup, store.status().ToString());
  SystemClock clock;
  scheduler::CoordinatorOptions co;
  co.max_name_bytes = cfg.max_name_bytes;
  co.max_key_bytes = cfg.max_key_bytes;
  co.limit_completed_count = cfg.limit_completed_count;
  co.limit_completed_age = cfg.limit_completed_age;
  co.archive_period_seconds = cfg.archive_period_seconds;
  scheduler::Coordinator coordinator(store->get(), &clock, co);
  if (Status s = coordinator.Load(); !s.ok()) Die(kExitStartup, s.ToString());

  scheduler::Sequencer sequencer(
      [&] { return (*store)->Sync(); }, [&] { return coordinator.Tick(); },
      [](const Status& s) {
        spdlog::critical("cannot make writes durable, stopping without acknowledging more: {}",
                         s.ToString());
        spdlog::shutdown();
        std::_Exit(kExitFatal);
      });

  // RPC.
  Value client_config = ConfigForClients(cfg);
  rpc::CallContext ctx;
  ctx.coordinator = &coordinator;
  ctx.client_config = &client_config;
  ctx.clock = &clock;
  ctx.test_hooks = cfg.test_hooks;
  rpc::Dispatcher dispatcher(ctx, &sequencer);
  rpc::ServerLimits limits;
  limits.decode.max_bytes = cfg.max_frame_bytes;
  limits.decode.max_depth = cfg.max_depth;
  limits.decode.max_items = cfg.max_items;
  limits.max_connections = cfg.max_connections;
  limits.max_outstanding = cfg.max_outstanding;
  limits.idle_timeout_seconds = cfg.idle_timeout_seconds;
  limits.read_timeout_seconds = cfg.read_timeout_seconds;
  boost::asio::io_context io;
  rpc::Server server(io, &dispatcher, limits);
  if (Status s = server.Listen(cfg.host, cfg.port); !s.ok()) Die(kExitStartup, s.ToString());
  sequencer.Start();
  server.StartAccepting();
  const std::string bound = cfg.host + ":" + std::to_string(server.bound_port());
  spdlog::info("coordinated {} listening on {} (config: {}, data: {}, sync: {}, specs: {})",
               kVersion, bound, cfg.source, cfg.data_dir, cfg.sync ? "on" : "off",
               coordinator.specs().size());
  if (cfg.test_hooks) spdlog::warn("test hooks are enabled");
  if (!cfg.ready_file.empty()) {
    if (Status s = WriteReadyFile(cfg.ready_file, bound); !s.ok()) {
      Die(kExitStartup, s.ToString());
    }
  }

  // Shutdown on SIGTERM/SIGINT: stop accepting, drain, sync, exit 0.
  auto guard = boost::asio::make_work_guard(io);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::thread stopper;
  signals.async_wait([&](boost::system::error_code ec2, int sig) {
    if (ec2) return;
    spdlog::info("signal {}: draining and stopping", sig);
    server.Stop();
    stopper = std::thread([&] {
      sequencer.Stop();  // runs queued calls, syncs, releases their replies
      for (int i = 0; i < 100 && server.connections() > 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      guard.reset();
      io.stop();
    });
  });
  std::vector<std::thread> threads;
  for (int i = 1; i < cfg.threads; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  if (stopper.joinable()) stopper.join();
  sequencer.Stop();
  if (Status s = (*store)->Sync(); !s.ok()) {
    spdlog::error("final sync failed: {}", s.ToString());
    return kExitFatal;
  }
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace
}  // namespace coordinated::daemon

int main(int argc, char** argv) { return coordinated::daemon::Run(argc, argv); }
