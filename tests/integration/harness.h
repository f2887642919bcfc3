// Integration-test harness: runs the real coordinated binary on 127.0.0.1 with an ephemeral
// port and a temporary data directory, and talks to it with the C++ client library.
//
//   TempDir dir;                        // removed when it goes out of scope
//   Daemon d(dir.path());               // DaemonOptions for --no-sync, extra flags, ...
//   ASSERT_TRUE(d.Start().ok());        // waits until the daemon listens
//   auto c = d.NewClient();
//   auto r = c->Call("now");
//   d.Kill();                           // SIGKILL, like a crash
//   ASSERT_TRUE(d.Start().ok());        // restart on the same data directory
//
// Test hooks are enabled by default, so `AdvanceClock(c, seconds)` moves the daemon's clock
// forward (for lease expiry and intervals) without sleeping.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "coordinate/client.h"

namespace coordtest {

using coordinate::Client;
using coordinated::Status;
using coordinated::StatusOr;
using coordinated::Value;

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct DaemonOptions {
  bool sync = true;
  bool test_hooks = true;
  std::vector<std::string> extra_args;  // e.g. {"--set", "limits.idle_timeout_seconds=1"}
  std::string config_file;              // optional --config
  std::string log_level = "info";       // --log-level
  // NAME=VALUE entries set in the daemon's environment (replacing inherited ones of that name).
  std::vector<std::string> env;
};

class Daemon {
 public:
  explicit Daemon(std::string data_dir, DaemonOptions options = DaemonOptions());
  ~Daemon();  // kills the daemon if it still runs

  // Starts the binary and waits (up to 20 s) until it listens. Fails if it exits first.
  Status Start();
  // SIGKILL and reap.
  void Kill();
  // SIGTERM and wait; returns the exit status (or -1 on a signal death / timeout).
  int Stop();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // A client for this daemon (no retries: tests want to see failures).
  std::unique_ptr<Client> NewClient(double timeout_seconds = 30) const;
  // Everything the daemon wrote to stderr so far.
  std::string Log() const;

 private:
  std::string data_dir_;
  DaemonOptions options_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

// Path of the coordinated binary under test.
std::string DaemonBinary();

// Moves the daemon's clock forward (test hooks). Returns the daemon's new now().
double AdvanceClock(Client& c, double seconds);

// Shorthands for building values.
using coordinate::A;
using coordinate::B;
using coordinate::I;
using coordinate::M;
using coordinate::T;
using coordinate::Tup;
inline Value Null() { return Value::Null(); }
inline Value Bool(bool b) { return Value::Bool(b); }
inline Value D(double d) { return Value::Double(d); }
// The (True, None) reply.
inline Value OkPair() { return Tup({Bool(true), Null()}); }

}  // namespace coordtest
