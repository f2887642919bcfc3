#include "runner.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "snapshot.h"

namespace crashtest {

namespace {

using coordinate::B;

void SleepSeconds(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

coordinate::ClientOptions ClientFor(const std::string& address) {
  coordinate::ClientOptions o;
  o.address = address;
  o.retries = 0;
  o.timeout_seconds = 30;
  return o;
}

std::string Tail(const std::string& s, size_t n = 2000) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// `coordinate-admin --data-dir D check` on a stopped daemon's store: its problems (empty: ok).
std::vector<std::string> OfflineCheck(const std::string& admin, const std::string& data_dir) {
  const std::string cmd = Quote(admin) + " --data-dir " + Quote(data_dir) + " check 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {"cannot run " + cmd};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return {fmt::format("{} -> {}: {}", cmd, status, Tail(out))};
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

class Run {
 public:
  explicit Run(RunOptions o)
      : o_(std::move(o)),
        daemon_(DaemonConfig{o_.daemon, o_.work_dir + "/data", o_.work_dir, o_.sync}),
        workload_(o_.workload, &history_),
        plan_(o_.crash_points, o_.seed),
        rng_(o_.seed) {}

  int Main();

 private:
  bool IsRuntimePoint(const std::string& p) const {
    return !p.empty() && p != CrashPlan::kStartupPoint;
  }
  // Spawns the daemon (arming `arm`) and waits until it is ready; sets address_.
  bool Start(const std::string& arm);
  // Kill / crash-point death of one round; fills fig. False on an unexpected death.
  bool Crash(int round, const std::string& point, RoundFigures* fig);
  // Restart, read back, check. False when the round failed.
  bool RestartAndCheck(int round, const std::string& point, RoundFigures* fig,
                       std::vector<std::string> offline_problems);
  bool SetUpSpecs();
  void Fail(const std::string& what) {
    std::cerr << "coordinate-crash: FAILED: " << what << "\n";
    failed_ = true;
  }

  RunOptions o_;
  History history_;
  DaemonProcess daemon_;
  Workload workload_;
  CrashPlan plan_;
  Figures figures_;
  std::mt19937_64 rng_;
  std::string address_;
  std::map<std::string, uint64_t> violations_;
  std::map<std::string, uint64_t> coverage_;
  bool failed_ = false;
};

bool Run::Start(const std::string& arm) {
  Status s = daemon_.Spawn(arm, rng_());
  if (!s.ok()) {
    Fail(s.ToString());
    return false;
  }
  auto ready = daemon_.WaitReady(60);
  if (!ready.ok()) {
    Fail("restart: " + ready.status().ToString() + "\n" + Tail(daemon_.LogSinceSpawn()));
    return false;
  }
  address_ = *ready;
  return true;
}

bool Run::SetUpSpecs() {
  coordinate::Client client(ClientFor(address_));
  coordinate::Api api(client);
  for (const auto& spec : WorkloadSpecs()) {
    Status s = api.SetWorkSpec(SpecDefinition(spec));
    if (!s.ok()) {
      Fail("set_work_spec " + spec + ": " + s.ToString());
      return false;
    }
  }
  return true;
}

bool Run::Crash(int round, const std::string& point, RoundFigures* fig) {
  const size_t first_op = history_.ops().size();
  workload_.Start(address_, round);
  const double t0 = SteadyNow();
  const bool runtime = IsRuntimePoint(point);
  const double run = runtime ? o_.point_run
                             : o_.min_run + std::uniform_real_distribution<double>(
                                                0, std::max(0.0, o_.max_run - o_.min_run))(rng_);
  bool died_alone = false;
  while (SteadyNow() - t0 < run) {
    if (daemon_.Exited()) {
      died_alone = true;
      break;
    }
    SleepSeconds(0.002);
  }
  if (!died_alone) daemon_.Kill();
  fig->run_seconds = SteadyNow() - t0;
  const double death = WallNow();
  workload_.Stop();
  history_.SettlePending(death);
  for (size_t i = first_op; i < history_.ops().size(); ++i) {
    if (history_.ops()[i].ok()) ++fig->acked_ops;
  }
  if (runtime) {
    const bool logged =
        daemon_.LogSinceSpawn().find("crash point fired: " + point + "\n") != std::string::npos;
    fig->fired = died_alone && daemon_.last_died_by_sigkill() && logged;
    plan_.Record(point, fig->fired);
    if (died_alone && !fig->fired) {
      Fail(fmt::format("round {}: the daemon {} while waiting for crash point {}:\n{}", round,
                       daemon_.last_exit(), point, Tail(daemon_.LogSinceSpawn())));
      return false;
    }
  } else if (died_alone) {
    Fail(fmt::format("round {}: the daemon {} on its own:\n{}", round, daemon_.last_exit(),
                     Tail(daemon_.LogSinceSpawn())));
    return false;
  }
  return true;
}

bool Run::RestartAndCheck(int round, const std::string& point, RoundFigures* fig,
                          std::vector<std::string> offline_problems) {
  if (point == CrashPlan::kStartupPoint) {
    // Die during start-up recovery, then restart again below.
    const std::string arm = plan_.ArmSpec(point);
    if (!daemon_.Spawn(arm, rng_()).ok()) return false;
    auto ready = daemon_.WaitReady(60);
    const bool logged =
        daemon_.LogSinceSpawn().find("crash point fired: " + point + "\n") != std::string::npos;
    fig->fired = !ready.ok() && daemon_.last_died_by_sigkill() && logged;
    if (ready.ok()) daemon_.Kill();
    if (!ready.ok() && !fig->fired) {
      Fail(fmt::format("round {}: start-up with {} armed: {}\n{}", round, arm,
                       ready.status().ToString(), Tail(daemon_.LogSinceSpawn())));
      return false;
    }
    plan_.Record(point, fig->fired);
  }
  if (!Start("")) return false;
  fig->ready_seconds = SteadyNow() - daemon_.spawned_at();
  coordinate::Client client(ClientFor(address_));
  coordinate::Api api(client);
  Status first = Status::Unavailable("not tried");
  while (SteadyNow() - daemon_.spawned_at() < 60) {
    first = api.CountWorkUnits(B(kMainSpec)).status();
    if (first.ok()) break;
    SleepSeconds(0.001);
  }
  if (!first.ok()) {
    Fail(fmt::format("round {}: no call served after the restart: {}", round, first.ToString()));
    return false;
  }
  fig->recovery_seconds = SteadyNow() - daemon_.spawned_at();
  auto snap = TakeSnapshot(api);
  if (!snap.ok()) {
    Fail(fmt::format("round {}: reading the state back: {}", round, snap.status().ToString()));
    return false;
  }
  fig->units = snap->units.size();
  CheckResult result = CheckHistory(history_.ops(), *snap, o_.check);
  for (const auto& p : offline_problems) result.Add("offline_check", p, {});
  violations_ = result.counts;
  for (const auto& [k, n] : result.coverage) {
    // Live locks are counted per read-back; the others over the whole history.
    coverage_[k] = k == "live_locks_read_back" ? coverage_[k] + n : n;
  }
  const std::string what =
      point.empty() ? "kill" : fmt::format("{} {}", point, fig->fired ? "fired" : "not reached");
  std::cout << fmt::format(
                   "round {:>3} [{}]: ran {:.2f} s, {} acked ({:.0f}/s), ready {:.0f} ms, "
                   "served {:.0f} ms, {} units, {} violations",
                   round, what, fig->run_seconds, fig->acked_ops,
                   fig->run_seconds > 0 ? static_cast<double>(fig->acked_ops) / fig->run_seconds
                                        : 0.0,
                   fig->ready_seconds * 1000, fig->recovery_seconds * 1000, fig->units,
                   result.violations.size())
            << std::endl;
  if (!result.violations.empty()) {
    for (const auto& v : result.violations) {
      std::cout << "VIOLATION " << v.cls << ": " << v.detail << "\n";
      for (uint64_t i : v.ops) std::cout << "    " << history_.ops()[i].Describe() << "\n";
    }
    Fail(fmt::format("round {}: {} violations", round, result.violations.size()));
    return false;
  }
  // The next round's runtime crash point is armed in a fresh daemon (armed earlier, the
  // read-back above would count towards its passes).
  const std::string next = round < o_.iterations ? plan_.PointFor(round + 1) : "";
  if (IsRuntimePoint(next)) {
    if (!daemon_.Terminate(30)) {
      Fail(fmt::format("round {}: clean shutdown failed: {}\n{}", round, daemon_.last_exit(),
                       Tail(daemon_.LogSinceSpawn())));
      return false;
    }
    if (!Start(plan_.ArmSpec(next))) return false;
  }
  return true;
}

int Run::Main() {
  std::cout << fmt::format(
                   "coordinate-crash: seed {}, {} iterations, sync {}, crash points {}, work dir "
                   "{}\n  reproduce: coordinate-crash --daemon {} --seed {} --iterations {} "
                   "--min-run {} --max-run {}{}{}",
                   o_.seed, o_.iterations, o_.sync ? "on" : "off", o_.crash_points ? "on" : "off",
                   o_.work_dir, o_.daemon, o_.seed, o_.iterations, o_.min_run, o_.max_run,
                   o_.sync ? "" : " --sync off", o_.crash_points ? " --crash-points" : "")
            << std::endl;
  if (!Start("") || !SetUpSpecs()) return 1;
  for (int round = 1; round <= o_.iterations && !failed_; ++round) {
    const std::string point = plan_.PointFor(round);
    RoundFigures fig;
    fig.round = round;
    fig.point = point;
    if (!Crash(round, point, &fig)) break;
    std::vector<std::string> offline;
    if (!o_.admin.empty() &&
        (round == 1 || (o_.offline_check_every > 0 && round % o_.offline_check_every == 0))) {
      offline = OfflineCheck(o_.admin, o_.work_dir + "/data");
    }
    const bool ok = RestartAndCheck(round, point, &fig, std::move(offline));
    figures_.AddRound(fig);
    if (!ok) break;
  }
  if (!failed_ && !daemon_.Terminate(30)) {
    Fail("final clean shutdown: " + daemon_.last_exit() + "\n" + Tail(daemon_.LogSinceSpawn()));
  }
  daemon_.Kill();
  if (o_.crash_points && o_.require_all_points && !failed_) {
    for (const auto& p : plan_.NeverFired()) Fail("crash point " + p + " never fired");
  }
  const uint64_t bytes = DirBytes(o_.work_dir + "/data");
  std::cout << figures_.Render(history_.ops(), violations_, coverage_, plan_, bytes);
  if (!o_.report.empty()) {
    std::ofstream(o_.report) << figures_.Json(history_.ops(), violations_, coverage_, plan_, bytes,
                                              o_.seed, o_.sync)
                             << "\n";
  }
  if (failed_) {
    history_.WriteTo(o_.work_dir + "/history.log");
    std::cout << fmt::format(
        "coordinate-crash: FAILED (seed {}); history, data dir and daemon "
        "log kept in {}\n",
        o_.seed, o_.work_dir);
    return 1;
  }
  std::cout << fmt::format("coordinate-crash: {} iterations passed, 0 failed\n",
                           figures_.rounds().size());
  if (!o_.keep) {
    std::error_code ec;
    std::filesystem::remove_all(o_.work_dir, ec);
  }
  return 0;
}

}  // namespace

int RunCrashTest(RunOptions options) {
  if (options.work_dir.empty()) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "coordinate-crash-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      std::cerr << "coordinate-crash: cannot create a work directory\n";
      return 1;
    }
    options.work_dir = tmpl;
  } else {
    std::error_code ec;
    if (std::filesystem::exists(options.work_dir + "/data", ec)) {
      std::cerr << "coordinate-crash: " << options.work_dir
                << "/data exists; the history must start from an empty store\n";
      return 1;
    }
    std::filesystem::create_directories(options.work_dir, ec);
  }
  options.work_dir = std::filesystem::absolute(options.work_dir).string();
  return Run(std::move(options)).Main();
}

}  // namespace crashtest
