// coordinated: the durable job-coordination daemon.
//
// Start-up: flags -> config (file, environment, flags) -> logging -> HTTP side port (answers
// /healthz at once and /readyz with 503 until ready) -> store (migrations) -> coordinator (loads
// spec summaries) -> sequencer -> RPC listener -> ready. SIGTERM/SIGINT: /readyz turns 503, stop
// accepting, answer what is in flight, sync, exit 0. SIGHUP: reopen the log file. Bad
// configuration, an unopenable store or a failed bind: one clear error line and a non-zero exit.
// Protected mode (listen_policy.h) and a bad auth token file are configuration errors (exit 2),
// checked before anything is bound.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "daemon/auth_token_file.h"
#include "daemon/config.h"
#include "daemon/http_api.h"
#include "daemon/http_server.h"
#include "daemon/listen_policy.h"
#include "daemon/logging.h"
#include "daemon/metrics.h"
#include "daemon/version.h"
#include "rpc/dispatcher.h"
#include "rpc/method_table.h"
#include "rpc/server.h"
#include "scheduler/coordinator.h"
#include "scheduler/sequencer.h"
#include "storage/disk_space.h"
#include "storage/idle_flush.h"
#include "storage/store.h"

namespace coordinated::daemon {
namespace {

constexpr int kExitConfig = 2;
constexpr int kExitStartup = 1;
constexpr int kExitFatal = 3;

#ifndef COORD_GIT_SHA
#define COORD_GIT_SHA "unknown"
#endif
#ifndef COORD_ALLOCATOR
#define COORD_ALLOCATOR "system"
#endif

// Io threads may already run (the HTTP side port starts first), so no static destructors: flush
// and leave at once. The store is crash-safe, and nothing was acknowledged yet.
[[noreturn]] void Die(int code, const std::string& what) {
  std::fprintf(stderr, "coordinated: %s\n", what.c_str());
  std::fflush(stderr);
  spdlog::shutdown();
  std::_Exit(code);
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

// Re-reads the free space (io thread, once a second) and logs each change: new work refused,
// accepted again, and a failing check (once until it works again).
void RefreshDiskSpace(storage::DiskSpaceGuard& guard, std::string* last_error) {
  const bool was_low = guard.low();
  const bool had_reserve = guard.reserve_held();
  Status s = guard.Refresh();
  if (!s.ok() && s.ToString() != *last_error) spdlog::error("disk space check: {}", s.ToString());
  *last_error = s.ok() ? std::string() : s.ToString();
  if (!was_low && guard.low()) {
    spdlog::error("{}{}", guard.CheckCanGrow().message(),
                  had_reserve && !guard.reserve_held() ? " (reserve file released)" : "");
  } else if (was_low && !guard.low()) {
    spdlog::info("disk space recovered ({} free): new work is accepted again",
                 storage::FormatBytes(guard.free_bytes()));
  }
}

int Run(int argc, char** argv) {
  CLI::App app{"coordinated: durable job coordination daemon (CBOR-RPC on port 5932)"};
  std::string config_path, host, data_dir, log_level, log_format, ready_file, http_host, log_file;
  std::string auth_token_file;
  bool allow_insecure_remote = false;
  int port = -1, http_port = -1;
  bool print_config = false, check_config = false, test_hooks = false, no_sync = false;
  bool no_http = false;
  std::vector<std::string> sets;
  app.add_option("-c,--config", config_path, "YAML configuration file");
  app.add_option("--host", host, "listen address (default 127.0.0.1)");
  app.add_option("-p,--port", port, "listen port (default 5932; 0 = ephemeral)");
  app.add_option("--auth-token-file", auth_token_file,
                 "clients must call auth(token) with the token in this file (mode 0600)");
  app.add_flag("--allow-insecure-remote", allow_insecure_remote,
               "allow a non-loopback --host without a token, or a non-loopback --http-host");
  app.add_option("--data-dir", data_dir, "data directory (default ./coordinate-data)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off");
  app.add_option("--log-format", log_format, "text or json");
  app.add_option("--log-file", log_file,
                 "log to this file (rotated by size; SIGHUP reopens it) instead of stderr");
  app.add_option("--http-host", http_host, "HTTP side port address (default 127.0.0.1)");
  app.add_option("--http-port", http_port,
                 "HTTP side port (status page, /metrics, /healthz; default 5980; 0 = ephemeral)");
  app.add_flag("--no-http", no_http, "do not serve the HTTP side port");
  app.add_option("--ready-file", ready_file,
                 "write HOST:PORT here once listening (and the HTTP address to FILE.http)");
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
  if (!auth_token_file.empty()) cfg.auth_token_file = auth_token_file;
  if (allow_insecure_remote) cfg.allow_insecure_remote = true;
  if (port >= 0) {
    if (port > 65535) Die(kExitConfig, "--port must be 0..65535");
    cfg.port = port;
  }
  if (!data_dir.empty()) cfg.data_dir = data_dir;
  if (!log_level.empty()) cfg.log_level = log_level;
  if (!log_format.empty()) cfg.log_format = log_format;
  if (!ready_file.empty()) cfg.ready_file = ready_file;
  if (!log_file.empty()) cfg.log_file = log_file;
  if (!http_host.empty()) cfg.http_host = http_host;
  if (http_port >= 0) {
    if (http_port > 65535) Die(kExitConfig, "--http-port must be 0..65535");
    cfg.http_port = http_port;
  } else if (cfg.port == 0 && cfg.http_port == Config{}.http_port) {
    // A daemon on an ephemeral RPC port (tests) must not collide with its neighbours on 5980.
    cfg.http_port = 0;
  }
  if (no_http) cfg.http_enabled = false;
  if (no_sync) cfg.sync = false;
  if (test_hooks) cfg.test_hooks = true;
  if (print_config) {
    std::cout << RenderConfigYaml(cfg);
    return 0;
  }
  // Protected mode and the auth token: refused before anything is bound or opened.
  ListenPolicyInput listen_policy;
  listen_policy.rpc_host = cfg.host;
  listen_policy.http_host = cfg.http_host;
  listen_policy.http_enabled = cfg.http_enabled;
  listen_policy.auth_token_configured = !cfg.auth_token_file.empty();
  listen_policy.allow_insecure_remote = cfg.allow_insecure_remote;
  if (Status s = CheckListenPolicy(listen_policy); !s.ok()) Die(kExitConfig, s.message());
  std::string auth_token;
  if (!cfg.auth_token_file.empty()) {
    auto token = ReadAuthTokenFile(cfg.auth_token_file);
    if (!token.ok()) Die(kExitConfig, token.status().message());
    auth_token = std::move(token).value();
  }
  if (check_config) {
    std::cout << "configuration OK (" << cfg.source << ")\n";
    return 0;
  }
  LogOptions log_options;
  log_options.level = cfg.log_level;
  log_options.format = cfg.log_format;
  log_options.file = cfg.log_file;
  log_options.max_size_bytes = cfg.log_max_size_mb << 20;
  log_options.max_files = cfg.log_max_files;
  if (Status s = SetUpLogging(log_options); !s.ok()) {
    Die(s.code() == Code::kIOError ? kExitStartup : kExitConfig, s.ToString());
  }
  for (const auto& var : UnknownEnvironmentVariables()) {
    spdlog::warn("ignoring unknown environment variable {}", var);
  }

  // The HTTP side port comes up first, on the io_context the RPC listener will share, so
  // /healthz answers and /readyz says "starting" while the store opens.
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::string_view> method_names;
  for (const auto& m : rpc::MethodTable()) method_names.push_back(m.name);
  MetricsRegistry metrics(method_names);
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  HttpApiOptions api_options;
  api_options.allow_actions = cfg.http_allow_actions;
  api_options.git_sha = COORD_GIT_SHA;
  api_options.started = started;
  HttpApi http_api(api_options, &metrics);
  HttpServer http(io, &http_api, HttpLimits(), &metrics);
  std::string http_bound;
  if (cfg.http_enabled) {
    if (Status s = http.Listen(cfg.http_host, cfg.http_port); !s.ok()) {
      Die(kExitStartup, s.ToString());
    }
    http.StartAccepting();
    http_bound = cfg.http_host + ":" + std::to_string(http.bound_port());
  }
  // SIGHUP reopens the log file (after an external rotation); caught from here on.
  boost::asio::signal_set hup(io, SIGHUP);
  std::function<void()> arm_hup = [&] {
    hup.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      if (Status s = ReopenLogFile(); !s.ok()) {
        spdlog::error("SIGHUP: {}", s.ToString());
      } else if (!cfg.log_file.empty()) {
        spdlog::info("SIGHUP: reopened log file {}", cfg.log_file);
      }
      arm_hup();
    });
  };
  arm_hup();
  std::vector<std::thread> threads;
  for (int i = 0; i < cfg.threads; ++i) threads.emplace_back([&] { io.run(); });

  // Store and coordinator.
  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) Die(kExitStartup, "cannot create data directory " + cfg.data_dir + ": " + ec.message());
  // The free-space guard starts before the store opens: on a full disk it releases the reserve
  // left by the last run first, so the store finds room to open.
  storage::DiskSpaceOptions dso;
  dso.dir = cfg.data_dir;
  dso.min_free_bytes = cfg.min_free_bytes;
  dso.reserve_bytes = cfg.reserve_bytes;
  storage::DiskSpaceGuard disk_space(dso);
  if (Status s = disk_space.Init(); !s.ok()) spdlog::error("disk space check: {}", s.ToString());
  if (disk_space.low()) spdlog::error("{}", disk_space.CheckCanGrow().message());
  storage::StoreOptions so;
  so.path = cfg.data_dir;
  so.sync = cfg.sync;
  so.block_cache_bytes = cfg.block_cache_bytes;
  so.memtable_bytes = cfg.memtable_bytes;
  so.write_cache_bytes = cfg.write_cache_bytes;
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

  // A synced group's replies go to the network threads as one handler: one wake-up per group
  // instead of one per reply (each reply then moves to its connection's strand from there).
  sequencer.SetDeliver([&io](scheduler::Sequencer::Group&& group) {
    boost::asio::post(io, [group = std::move(group)]() mutable { group.Run(); });
  });

  // RPC.
  Value client_config = ConfigForClients(cfg);
  rpc::CallContext ctx;
  ctx.coordinator = &coordinator;
  ctx.client_config = &client_config;
  ctx.clock = &clock;
  ctx.test_hooks = cfg.test_hooks;
  ctx.disk_space = &disk_space;
  ctx.auth_token = &auth_token;
  rpc::Dispatcher dispatcher(ctx, &sequencer);
  dispatcher.SetObserver([&metrics](std::string_view method, double seconds, bool ok) {
    metrics.RecordRpc(method, seconds, ok);
  });
  rpc::ServerLimits limits;
  limits.decode.max_bytes = cfg.max_frame_bytes;
  limits.decode.max_depth = cfg.max_depth;
  limits.decode.max_items = cfg.max_items;
  limits.max_connections = cfg.max_connections;
  limits.max_outstanding = cfg.max_outstanding;
  limits.idle_timeout_seconds = cfg.idle_timeout_seconds;
  limits.read_timeout_seconds = cfg.read_timeout_seconds;
  rpc::Server server(io, &dispatcher, limits);
  if (Status s = server.Listen(cfg.host, cfg.port); !s.ok()) Die(kExitStartup, s.ToString());
  {
    // get_config reports the port actually bound (port 0 picks one).
    Config served = cfg;
    served.port = server.bound_port();
    client_config = ConfigForClients(served);
  }
  sequencer.Start();
  server.StartAccepting();
  boost::asio::steady_timer disk_timer(io);
  std::string disk_error;
  std::function<void()> arm_disk_timer = [&] {
    disk_timer.expires_after(std::chrono::seconds(1));
    disk_timer.async_wait([&](boost::system::error_code ec2) {
      if (ec2) return;
      RefreshDiskSpace(disk_space, &disk_error);
      arm_disk_timer();
    });
  };
  if (cfg.min_free_bytes > 0) arm_disk_timer();
  // Flushes the memtables once the store has gone quiet (storage/idle_flush.h).
  boost::asio::steady_timer flush_timer(io);
  storage::IdleFlushPolicy idle_flush(cfg.idle_flush_seconds);
  const auto flush_period =
      std::chrono::duration<double>(std::clamp(cfg.idle_flush_seconds / 2, 0.05, 1.0));
  std::function<void()> arm_flush_timer = [&] {
    flush_timer.expires_after(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(flush_period));
    flush_timer.async_wait([&](boost::system::error_code ec2) {
      if (ec2) return;
      const double now =
          std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
              .count();
      if (idle_flush.ShouldFlush((*store)->writes(), now)) {
        auto n = (*store)->FlushMemtables(storage::kIdleFlushMinEntries, /*wait=*/false);
        if (!n.ok()) {
          spdlog::warn("idle flush: {}", n.status().ToString());
        } else if (*n > 0) {
          spdlog::debug("idle flush: {} column families", *n);
        }
      }
      arm_flush_timer();
    });
  };
  if (cfg.idle_flush_seconds > 0) arm_flush_timer();
  http_api.SetBackend(&coordinator, &sequencer, &server);
  const std::string bound = cfg.host + ":" + std::to_string(server.bound_port());
  spdlog::info(
      "coordinated {} listening on {} (http: {}, config: {}, data: {}, sync: {}, "
      "specs: {}, allocator: {})",
      kVersion, bound, cfg.http_enabled ? http_bound : "off", cfg.source, cfg.data_dir,
      cfg.sync ? "on" : "off", coordinator.specs().size(), COORD_ALLOCATOR);
  if (cfg.test_hooks) spdlog::warn("test hooks are enabled");
  if (!auth_token.empty()) {
    spdlog::info("RPC clients must authenticate (token from {})", cfg.auth_token_file);
  }
  if (ListensInsecurelyOnRemote(listen_policy)) {
    spdlog::warn(
        "--allow-insecure-remote: serving without authentication beyond loopback "
        "(rpc: {}{}, http: {})",
        bound, auth_token.empty() ? "" : " [token required]",
        cfg.http_enabled ? http_bound : "off");
  }
  if (cfg.http_enabled && cfg.http_allow_actions) {
    spdlog::warn("HTTP actions are enabled: anyone who reaches {} can pause specs and retry units",
                 http_bound);
  }
  if (!cfg.ready_file.empty()) {
    // The HTTP address first: whoever waits for the ready file finds both.
    if (cfg.http_enabled) {
      if (Status s = WriteReadyFile(cfg.ready_file + ".http", http_bound); !s.ok()) {
        Die(kExitStartup, s.ToString());
      }
    } else {
      std::remove((cfg.ready_file + ".http").c_str());  // a stale one from an earlier run
    }
    if (Status s = WriteReadyFile(cfg.ready_file, bound); !s.ok()) {
      Die(kExitStartup, s.ToString());
    }
  }

  // Shutdown on SIGTERM/SIGINT: not ready any more, stop accepting, drain, sync, exit 0.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::thread stopper;
  signals.async_wait([&](boost::system::error_code ec2, int sig) {
    if (ec2) return;
    spdlog::info("signal {}: draining and stopping", sig);
    http_api.SetDraining();
    stopper = std::thread([&] {
      server.Stop();     // every connection stops reading; what it read is dispatched
      sequencer.Stop();  // runs queued calls, syncs, releases their replies
      for (int i = 0; i < 100 && server.connections() > 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      http.Stop();
      guard.reset();
      io.stop();
    });
  });
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
