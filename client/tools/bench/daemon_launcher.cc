#include "daemon_launcher.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "coordinate/client.h"
#include "stats.h"

namespace coordinate::bench {

using coordinated::Status;
using coordinated::StatusOr;
namespace fs = std::filesystem;

DaemonProcess::DaemonProcess(DaemonConfig config) : config_(std::move(config)) {
  std::string tmpl = (fs::temp_directory_path() / "coordinate-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
  data_dir_ = dir_ + "/data";
  ready_file_ = dir_ + "/ready";
  log_file_ = dir_ + "/daemon.log";
}

DaemonProcess::~DaemonProcess() {
  Kill();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

Status DaemonProcess::Start() {
  if (dir_.empty()) return Status::IOError("cannot create a temporary directory");
  if (pid_ > 0) return Status::FailedPrecondition("the daemon already runs");
  if (::access(config_.binary.c_str(), X_OK) != 0) {
    return Status::NotFound("no coordinated at " + config_.binary + " (use --daemon or --addr)");
  }
  COORD_RETURN_IF_ERROR(Spawn());
  return WaitReady(120);
}

Status DaemonProcess::Spawn() {
  std::error_code ec;
  fs::remove(ready_file_, ec);
  std::vector<std::string> args = {
      config_.binary, "--host",       "127.0.0.1", "--port",      "0",    "--data-dir",
      data_dir_,      "--ready-file", ready_file_, "--log-level", "warn", "--no-http"};
  if (!config_.sync) args.push_back("--no-sync");
  for (const auto& a : config_.extra_args) args.push_back(a);
  pid_t pid = ::fork();
  if (pid < 0) return Status::IOError("fork failed");
  if (pid == 0) {
    // The daemon must not outlive an interrupted bench (the fork happens on the main thread).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  pid_ = pid;
  return Status::Ok();
}

Status DaemonProcess::WaitReady(double timeout_seconds) {
  const auto start = Clock::now();
  while (SecondsSince(start) < timeout_seconds) {
    std::ifstream in(ready_file_);
    std::string line;
    if (in && std::getline(in, line) && !line.empty()) {
      address_ = line;
      return Status::Ok();
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::Unavailable("coordinated exited during start-up:\n" + LogTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  Kill();
  return Status::Unavailable("coordinated was not ready within " +
                             std::to_string(static_cast<int>(timeout_seconds)) + " s:\n" +
                             LogTail());
}

void DaemonProcess::Kill() {
  const pid_t pid = pid_.load();
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid_ = -1;
}

StatusOr<double> DaemonProcess::KillAndRestart(const std::string& probe_spec) {
  if (pid_ <= 0) return Status::FailedPrecondition("the daemon does not run");
  Kill();
  const auto start = Clock::now();
  COORD_RETURN_IF_ERROR(Spawn());
  COORD_RETURN_IF_ERROR(WaitReady(120));
  ClientOptions options;
  options.address = address_;
  options.retries = 0;
  options.timeout_seconds = 120;
  Client client(options);
  auto r = client.Call("count_work_units", coordinate::A({coordinate::B(probe_spec)}));
  if (!r.ok()) return r.status();
  return SecondsSince(start);
}

std::string DaemonProcess::LogTail() const {
  std::ifstream in(log_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > 2000) s = "..." + s.substr(s.size() - 2000);
  return s;
}

std::optional<uint64_t> ResidentBytes(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;  // "VmRSS:   1234 kB"
    }
  }
  return std::nullopt;
}

RssSampler::RssSampler(const DaemonProcess* daemon, double period_seconds) : daemon_(daemon) {
  thread_ = std::thread([this, period_seconds] {
    while (!stop_.load()) {
      if (auto rss = ResidentBytes(daemon_->pid()); rss && *rss > max_.load()) max_ = *rss;
      std::this_thread::sleep_for(std::chrono::duration<double>(period_seconds));
    }
  });
}

RssSampler::~RssSampler() { Stop(); }

void RssSampler::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::optional<double> CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // "pid (comm) state ..." where comm may hold spaces: fields count from after the ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  if (!fields) return std::nullopt;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

coordinated::StatusOr<double> WaitUntilIdle(const DaemonProcess& daemon, double max_seconds) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  int quiet = 0;
  auto last = CpuSeconds(daemon.pid());
  while (quiet < 2) {
    if (!last) return coordinated::Status::Unavailable("the daemon is gone");
    if (elapsed() >= max_seconds) {
      return coordinated::Status::Unavailable(
          fmt::format("the daemon was still busy after {:.0f} s", max_seconds));
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto now = CpuSeconds(daemon.pid());
    quiet = now && *now - *last < 0.02 ? quiet + 1 : 0;
    last = now;
  }
  return elapsed();
}

uint64_t DiskUsageBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      total += static_cast<uint64_t>(st.st_blocks) * 512;
    }
  }
  return total;
}

}  // namespace coordinate::bench
