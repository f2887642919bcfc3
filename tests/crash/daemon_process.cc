#include "daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace crashtest {

double SteadyNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

DaemonProcess::DaemonProcess(DaemonConfig config) : config_(std::move(config)) {}

DaemonProcess::~DaemonProcess() { Kill(); }

Status DaemonProcess::Spawn(const std::string& crash_points, uint64_t crash_seed) {
  if (pid_ > 0) return Status::FailedPrecondition("the daemon is already running");
  const std::string ready = config_.work_dir + "/ready";
  std::error_code ec;
  std::filesystem::remove(ready, ec);
  log_offset_ =
      std::filesystem::exists(log_path(), ec) ? std::filesystem::file_size(log_path(), ec) : 0;
  // Everything the child needs is built before fork: it only calls async-signal-safe functions.
  std::vector<std::string> args = {
      config_.binary,   "--host",       "127.0.0.1", "--port",    "0",           "--data-dir",
      config_.data_dir, "--ready-file", ready,       "--no-http", "--log-level", "info"};
  if (!config_.sync) args.push_back("--no-sync");
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "COORDINATED_CRASH_", 18) != 0) env.emplace_back(*e);
  }
  if (!crash_points.empty()) {
    env.push_back("COORDINATED_CRASH_POINTS=" + crash_points);
    env.push_back("COORDINATED_CRASH_SEED=" + std::to_string(crash_seed));
  }
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string log = log_path();
  spawned_at_ = SteadyNow();
  pid_t pid = ::fork();
  if (pid < 0) return Status::IOError(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  pid_ = pid;
  return Status::Ok();
}

StatusOr<std::string> DaemonProcess::WaitReady(double timeout_seconds) {
  const std::string ready = config_.work_dir + "/ready";
  const double deadline = SteadyNow() + timeout_seconds;
  while (SteadyNow() < deadline) {
    {
      std::ifstream in(ready);
      std::string line;
      if (in && std::getline(in, line) && !line.empty()) return line;
    }
    if (Exited()) return Status::Unavailable("coordinated " + last_exit_ + " during start-up");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return Status::Unavailable("coordinated did not become ready in time");
}

void DaemonProcess::Reaped(int status) {
  pid_ = -1;
  last_sigkill_ = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (WIFSIGNALED(status)) {
    last_exit_ = "killed by signal " + std::to_string(WTERMSIG(status));
  } else {
    last_exit_ = "exited with status " + std::to_string(WEXITSTATUS(status));
  }
}

void DaemonProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  Reaped(status);
}

bool DaemonProcess::Terminate(double timeout_seconds) {
  if (pid_ <= 0) return false;
  ::kill(pid_, SIGTERM);
  const double deadline = SteadyNow() + timeout_seconds;
  while (SteadyNow() < deadline) {
    if (Exited()) return last_exit_ == "exited with status 0";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Kill();
  return false;
}

bool DaemonProcess::Exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  Reaped(status);
  return true;
}

std::string DaemonProcess::LogSinceSpawn() const {
  std::ifstream in(log_path());
  in.seekg(static_cast<std::streamoff>(log_offset_));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace crashtest
