#include "harness.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace coordtest {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "coordtest-XXXXXX").string();
  char* p = ::mkdtemp(tmpl.data());
  if (!p) std::abort();
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string DaemonBinary() { return COORDINATED_BIN; }

Daemon::Daemon(std::string data_dir, DaemonOptions options)
    : data_dir_(std::move(data_dir)), options_(std::move(options)) {
  log_path_ = data_dir_ + ".log";
}

Daemon::~Daemon() {
  if (pid_ > 0) Kill();
  std::error_code ec;
  std::filesystem::remove(log_path_, ec);
  std::filesystem::remove(data_dir_ + ".ready", ec);
  std::filesystem::remove(data_dir_ + ".ready.http", ec);
}

Status Daemon::Start() {
  if (pid_ > 0) return Status::FailedPrecondition("already running");
  const std::string ready = data_dir_ + ".ready";
  std::error_code ec;
  std::filesystem::remove(ready, ec);
  std::vector<std::string> args = {
      DaemonBinary(), "--host", "127.0.0.1",   "--port",          "0", "--data-dir", data_dir_,
      "--ready-file", ready,    "--log-level", options_.log_level};
  if (!options_.sync) args.push_back("--no-sync");
  if (options_.test_hooks) args.push_back("--enable-test-hooks");
  if (!options_.config_file.empty()) {
    args.push_back("--config");
    args.push_back(options_.config_file);
  }
  for (const auto& a : options_.extra_args) args.push_back(a);
  // The daemon's environment: ours, with options_.env set on top (built before fork).
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('=') + 1);
    bool replaced = false;
    for (const auto& o : options_.env) replaced = replaced || o.rfind(name, 0) == 0;
    if (!replaced) env.push_back(entry);
  }
  for (const auto& o : options_.env) env.push_back(o);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Status::IOError("fork failed");
  if (pid == 0) {
    FILE* log = std::fopen(log_path_.c_str(), "a");
    if (log) {
      ::dup2(::fileno(log), 2);
      ::dup2(::fileno(log), 1);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    std::_Exit(127);
  }
  pid_ = pid;
  for (int i = 0; i < 2000; ++i) {
    std::ifstream in(ready);
    std::string line;
    if (in && std::getline(in, line) && !line.empty()) {
      port_ = std::stoi(line.substr(line.rfind(':') + 1));
      return Status::Ok();
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::Unavailable("coordinated exited during start-up: " + Log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
  return Status::Unavailable("coordinated did not become ready: " + Log());
}

void Daemon::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int Daemon::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 3000; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
  return -1;
}

std::unique_ptr<Client> Daemon::NewClient(double timeout_seconds) const {
  coordinate::ClientOptions o;
  o.address = address();
  o.retries = 0;
  o.timeout_seconds = timeout_seconds;
  return std::make_unique<Client>(o);
}

std::string Daemon::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double AdvanceClock(Client& c, double seconds) {
  auto r = c.Call("_test_advance_clock", A({D(seconds)}));
  if (!r.ok() || !r->is_double()) std::abort();
  return r->as_double();
}

}  // namespace coordtest
