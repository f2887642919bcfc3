#include "runner.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>

#include "backlog.h"
#include "daemon_launcher.h"
#include "floor_server.h"

namespace coordinate::bench {

using coordinated::Status;

namespace {
// The longest a settled run waits for the daemon to go idle after its pre-load. A 10-million-unit
// load leaves about a minute of compaction on the 2-core reference machine.
constexpr double kMaxSettleSeconds = 600;
}  // namespace

double RunResult::rt_per_second() const {
  return work.seconds > 0 ? static_cast<double>(work.round_trips) / work.seconds : 0;
}

std::optional<double> RunResult::ratio_to_floor() const {
  if (!floor_rt_per_second || *floor_rt_per_second <= 0) return std::nullopt;
  return rt_per_second() / *floor_rt_per_second;
}

Runner::Runner(Environment env, std::function<void(const RunResult&)> emit)
    : env_(std::move(env)), emit_(std::move(emit)) {}

RunResult Runner::Run(const RunConfig& config) {
  if (config.workload == Workload::kFloor) {
    RunResult r = RunFloor(config);
    if (r.status.ok()) floors_[config.workers] = r.rt_per_second();
    emit_(r);
    return r;
  }
  RunResult r = RunAgainstDaemon(config);
  if (config.workload == Workload::kDo && r.work.seconds > 0) {
    double& fastest = fastest_[config.batch > 1 ? 1 : 0];
    fastest = std::max(fastest, static_cast<double>(r.work.units) / r.work.seconds);
  }
  emit_(r);
  return r;
}

std::optional<double> Runner::FloorFor(int workers, double duration) {
  if (!env_.floors) return std::nullopt;
  if (auto it = floors_.find(workers); it != floors_.end()) return it->second;
  RunConfig floor;
  floor.workload = Workload::kFloor;
  floor.workers = workers;
  floor.duration = duration > 0 ? duration : 5;
  RunResult r = Run(floor);
  if (!r.status.ok()) return std::nullopt;
  return r.rt_per_second();
}

RunResult Runner::RunFloor(const RunConfig& config) {
  RunResult r;
  r.config = config;
  r.label = Label(config);
  FloorServer server(env_.floor_threads);
  r.status = server.Start();
  if (!r.status.ok()) return r;
  r.work = bench::RunFloor(config, server.address());
  server.Stop();
  if (r.work.errors > 0) r.status = Status::Unavailable("floor: " + r.work.first_error);
  return r;
}

uint64_t Runner::Reserve(const RunConfig& config) const {
  if (config.workload != Workload::kDo) return 0;  // add creates, mixed adds what it consumes
  double rate = env_.reserve_rate;
  if (rate <= 0) {
    // A guess, raised to 1.5 x the fastest consumption seen so far with the same kind of K.
    const bool batched = config.batch > 1;
    rate = std::max(batched ? 60000.0 : 30000.0, 1.5 * fastest_[batched ? 1 : 0]);
  }
  // At most about 256 MiB of unit data, so large payloads do not pre-load gigabytes; the top-up
  // covers a run that consumes more.
  const double cap = 256.0 * (1 << 20) / static_cast<double>(config.payload + 16);
  return static_cast<uint64_t>(std::min(rate * config.duration, cap));
}

RunResult Runner::RunAgainstDaemon(const RunConfig& config) {
  RunResult r;
  r.config = config;
  if (config.workload != Workload::kRestart) {
    r.floor_rt_per_second = FloorFor(config.workers, config.duration);
  }
  const bool launched = env_.external_address.empty();
  if (!launched) r.config.sync = SyncMode::kExternal;
  r.label = Label(r.config);
  if (!launched && (config.workload == Workload::kRestart || config.measure_restart)) {
    r.status = Status::InvalidArgument("restart needs a launched daemon (omit --addr)");
    return r;
  }
  if (!launched && config.settle) {
    r.status = Status::InvalidArgument("settle needs a launched daemon (omit --addr)");
    return r;
  }

  // The daemon.
  std::unique_ptr<DaemonProcess> daemon;
  std::unique_ptr<RssSampler> rss;
  std::string address = env_.external_address;
  if (launched) {
    DaemonConfig dc;
    dc.binary = env_.daemon_binary;
    dc.sync = config.sync != SyncMode::kOff;
    dc.extra_args = env_.daemon_args;
    daemon = std::make_unique<DaemonProcess>(dc);
    r.status = daemon->Start();
    if (!r.status.ok()) return r;
    address = daemon->address();
    rss = std::make_unique<RssSampler>(daemon.get());
  }

  // Specs and the backlog.
  // With no backlog, a do run against an external daemon uses the units already queued there
  // and leaves the spec definition alone.
  Backlog backlog(config, address);
  const bool fills = config.backlog > 0 || config.workload != Workload::kDo;
  if (fills) r.status = backlog.CreateSpecs();
  if (r.status.ok() && fills) {
    r.status = backlog.Fill(config.backlog + Reserve(config), env_.loaders);
  }
  r.preloaded = backlog.added();
  if (!r.status.ok()) return r;
  if (config.settle) {
    auto waited = WaitUntilIdle(*daemon, kMaxSettleSeconds);
    if (!waited.ok()) {
      r.status = waited.status();
      return r;
    }
    r.settle_seconds = *waited;
  }

  // Idle connections: each answers one call, then stays open and silent.
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < config.idle && r.status.ok(); ++i) {
    idle.push_back(std::make_unique<Client>(backlog.client_options()));
    auto now = idle.back()->Call("now");
    if (!now.ok()) r.status = now.status();
  }
  if (!r.status.ok()) return r;

  // The measurement. A do run tops the queue up if it consumes more than was reserved.
  std::atomic<uint64_t> consumed{0};
  std::atomic<bool> done{false};
  std::thread top_up;
  if (config.workload == Workload::kDo && fills) {
    top_up = std::thread([&] {
      const uint64_t low = std::max<uint64_t>(config.backlog, 1000);
      const uint64_t step = std::min<uint64_t>(low, 10000);
      while (!done.load()) {
        const uint64_t added = backlog.added();
        if (added - std::min(added, consumed.load()) < low) {
          const uint64_t before = backlog.added();
          if (!backlog.Fill(step, 1).ok()) break;
          r.topped_up += backlog.added() - before;
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
    });
  }
  WorkloadContext ctx;
  ctx.config = &config;
  ctx.backlog = &backlog;
  ctx.consumed = &consumed;
  switch (config.workload) {
    case Workload::kAdd:
      r.work = RunAdd(ctx);
      break;
    case Workload::kDo:
      r.work = RunDo(ctx);
      break;
    case Workload::kMixed:
      r.work = RunMixed(ctx);
      break;
    case Workload::kFloor:
    case Workload::kRestart:
      break;
  }
  done = true;
  if (top_up.joinable()) top_up.join();
  idle.clear();
  r.raw_bytes = backlog.raw_bytes();
  if (r.work.errors > 0) {
    r.status = Status::Unavailable(std::to_string(r.work.errors) +
                                   " calls failed, the first: " + r.work.first_error);
  }

  if (launched) {
    r.disk_bytes = DiskUsageBytes(daemon->data_dir());
    rss->Stop();
    r.rss_max_bytes = rss->max_bytes();
    if (config.workload == Workload::kRestart || config.measure_restart) {
      auto t = daemon->KillAndRestart(backlog.spec_name(0));
      if (t.ok()) {
        r.restart_seconds = *t;
      } else if (r.status.ok()) {
        r.status = t.status();
      }
    }
  }
  return r;
}

}  // namespace coordinate::bench
