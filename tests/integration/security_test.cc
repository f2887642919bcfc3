// Security through the real daemon: protected mode (a non-loopback listener without protection
// is refused at start-up, before anything is bound), the auth token file checks, the auth(token)
// handshake (refusals, wrong tokens, pipelines and batches, reconnects, coordinate-admin), and
// the token never showing up in get_config, the HTTP side port, dumps or the logs.
//
// 0.0.0.0 appears only in the refusal checks: the daemon must exit before binding anything
// (the data directory is not even created). Everything that serves listens on 127.0.0.1.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

using coordinate::ClientOptions;
using coordinated::Code;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  EXPECT_EQ(::chmod(path.c_str(), mode), 0) << path;
  return path;
}

struct RunResult {
  int code = -1;       // exit status; -1 when killed or it did not exit in time
  std::string output;  // stdout and stderr together
};

// Runs `argv` with stdout and stderr captured and `env` added to the environment. Waits up to
// 20 s; a process still running then is killed (by its pid) and reported as -1.
RunResult RunProcess(std::vector<std::string> argv,
                     const std::vector<std::pair<std::string, std::string>>& env = {}) {
  TempDir io;
  const std::string out_path = io.path() + "/out";
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int null_in = ::open("/dev/null", O_RDONLY);
    ::dup2(null_in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::unsetenv("COORDINATE_ADDR");
    ::unsetenv("COORDINATE_AUTH_TOKEN_FILE");
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::_Exit(127);
  }
  RunResult r;
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 2000 && !exited; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  } else if (WIFEXITED(status)) {
    r.code = WEXITSTATUS(status);
  }
  r.output = Slurp(out_path);
  return r;
}

std::string RandomToken() {
  std::random_device rd;
  std::string t = "tok-";
  for (int i = 0; i < 32; ++i) t += "0123456789abcdef"[rd() % 16];
  return t;
}

size_t Lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// ---- protected mode and the token file: refused at start-up -----------------------------------

class StartupRefusalTest : public testing::Test {
 protected:
  // The daemon with `args` after a data dir, ready file and ephemeral ports.
  RunResult RunDaemon(std::vector<std::string> args,
                      const std::vector<std::pair<std::string, std::string>>& env = {}) {
    std::vector<std::string> argv = {
        DaemonBinary(), "--port",       "0",         "--http-port", "0", "--data-dir",
        data_dir(),     "--ready-file", ready_file()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, env);
  }
  // Exit code 2, one line on stderr, and nothing was bound or opened.
  void ExpectRefused(const RunResult& r) {
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_EQ(Lines(r.output), 1u) << r.output;
    EXPECT_TRUE(StartsWith(r.output, "coordinated: ")) << r.output;
    EXPECT_FALSE(std::filesystem::exists(data_dir())) << "the store was opened";
    EXPECT_FALSE(std::filesystem::exists(ready_file())) << "the daemon became ready";
  }
  std::string data_dir() const { return dir_.path() + "/data"; }
  std::string ready_file() const { return dir_.path() + "/ready"; }
  std::string Token(const std::string& content, mode_t mode) {
    return WriteFile(dir_.path() + "/token", content, mode);
  }

  TempDir dir_;
};

TEST_F(StartupRefusalTest, DefaultHostsAreLoopback) {
  // The effective configuration with nothing set: both listeners on 127.0.0.1.
  RunResult r = RunProcess({DaemonBinary(), "--print-config"});
  EXPECT_EQ(r.code, 0) << r.output;
  // The value of the first `host:` key after a section header (host is each section's first key).
  auto host_of = [&](const std::string& section) -> std::string {
    size_t at = r.output.find("\n  " + section + ":\n");
    if (at == std::string::npos) return "(no section " + section + ")";
    at = r.output.find("\n    host: ", at);
    if (at == std::string::npos) return "(no host)";
    at += std::string("\n    host: ").size();
    return r.output.substr(at, r.output.find('\n', at) - at);
  };
  EXPECT_EQ(host_of("server"), "\"127.0.0.1\"") << r.output;
  EXPECT_EQ(host_of("http"), "\"127.0.0.1\"") << r.output;
}

TEST_F(StartupRefusalTest, NonLoopbackRpcHostWithoutTokenRefused) {
  // The same refusal whichever way the host is set: flag, --set, environment.
  const std::vector<
      std::pair<std::vector<std::string>, std::vector<std::pair<std::string, std::string>>>>
      ways = {{{"--host", "0.0.0.0"}, {}},
              {{"--set", "server.host=0.0.0.0"}, {}},
              {{}, {{"COORDINATED_SERVER_HOST", "0.0.0.0"}}}};
  for (const auto& [args, env] : ways) {
    RunResult r = RunDaemon(args, env);
    ExpectRefused(r);
    EXPECT_NE(r.output.find("refusing to listen on non-loopback host '0.0.0.0'"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("--auth-token-file"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--allow-insecure-remote"), std::string::npos) << r.output;
  }
}

TEST_F(StartupRefusalTest, NonLoopbackHttpHostRefusedEvenWithToken) {
  RunResult r = RunDaemon({"--host", "127.0.0.1", "--http-host", "0.0.0.0", "--auth-token-file",
                           Token("s3cret\n", 0600)});
  ExpectRefused(r);
  EXPECT_NE(r.output.find("HTTP side port on non-loopback host '0.0.0.0'"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("--allow-insecure-remote"), std::string::npos) << r.output;
}

TEST_F(StartupRefusalTest, TokenFileReadableByOthersRefused) {
  const std::string token = RandomToken();
  RunResult r = RunDaemon({"--auth-token-file", Token(token + "\n", 0644)});
  ExpectRefused(r);
  EXPECT_NE(r.output.find("mode 0644"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("chmod 600"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(token), std::string::npos) << r.output;
  // Group access alone is refused too.
  ExpectRefused(RunDaemon({"--auth-token-file", Token(token, 0640)}));
}

TEST_F(StartupRefusalTest, EmptyOrMissingTokenFileRefused) {
  for (const char* content : {"", "\n", " \t\n"}) {
    RunResult r = RunDaemon({"--auth-token-file", Token(content, 0600)});
    ExpectRefused(r);
    EXPECT_NE(r.output.find("is empty"), std::string::npos) << r.output;
  }
  RunResult r = RunDaemon({"--auth-token-file", dir_.path() + "/absent"});
  ExpectRefused(r);
  EXPECT_NE(r.output.find(dir_.path() + "/absent"), std::string::npos) << r.output;
  // The configuration key and its environment variable go through the same checks.
  Token("", 0600);
  ExpectRefused(RunDaemon({"--set", "server.auth_token_file=" + dir_.path() + "/token"}));
  ExpectRefused(RunDaemon({}, {{"COORDINATED_SERVER_AUTH_TOKEN_FILE", dir_.path() + "/token"}}));
}

// ---- a daemon with a token --------------------------------------------------------------------

class AuthTest : public DaemonTest {
 protected:
  void SetUp() override {
    token_ = RandomToken();
    token_file_ = WriteFile(files_.path() + "/token", token_ + "\n", 0600);
    log_file_ = files_.path() + "/daemon.log";
    DaemonOptions o;
    o.log_level = "debug";
    o.extra_args = {"--auth-token-file", token_file_, "--log-file", log_file_};
    Start(o);
    c_ = NewClient(token_);  // TearDown's consistency check needs an authenticated client
  }

  std::unique_ptr<Client> NewClient(const std::string& token, int retries = 0) const {
    ClientOptions o;
    o.address = d_->address();
    o.retries = retries;
    o.base_retry_seconds = 0.01;
    o.timeout_seconds = 30;
    o.auth_token = token;
    return std::make_unique<Client>(o);
  }

  int HttpPort() const {
    std::string line = Slurp(dir_.path() + ".ready.http");
    return std::stoi(line.substr(line.rfind(':') + 1));
  }

  TempDir files_;
  std::string token_;
  std::string token_file_;
  std::string log_file_;
};

void ExpectUnauthenticated(const StatusOr<Value>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what << " was served: " << r->ToDiagnostic();
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << what << ": " << r.status().ToString();
}

TEST_F(AuthTest, UnauthenticatedCallsRefusedWithoutTouchingTheStore) {
  auto plain = NewClient("");
  auto r = plain->Call("set_work_spec", A({SpecDef("s")}));
  ExpectUnauthenticated(r, "set_work_spec");
  EXPECT_EQ(r.status().message(), "call auth(token) first; 'set_work_spec' refused");
  ExpectUnauthenticated(plain->Call("add_work_units", A({B("s"), A({Tup({B("k"), M({})})})})),
                        "add_work_units");
  for (const char* m : {"now", "get_config", "list_work_specs", "no_such_method", "_test_check"}) {
    ExpectUnauthenticated(plain->Call(m), m);
  }
  // Refusals keep the connection open; nothing reached the store.
  EXPECT_TRUE(plain->connected());
  EXPECT_TRUE(Same(Call(c(), "get_work_spec", A({B("s")})), Null()));
  EXPECT_TRUE(Same(Call(c(), "list_work_specs", A({M({})})), Pair(A(), Null())));
}

TEST_F(AuthTest, WrongTokenRefusedThenRightTokenOnTheSameConnection) {
  auto plain = NewClient("");
  auto r = plain->Call("auth", A({B("not-" + token_)}));
  ExpectUnauthenticated(r, "auth with a wrong token");
  EXPECT_EQ(r.status().message(), "wrong token");
  ExpectUnauthenticated(plain->Call("auth", A({B(token_.substr(0, token_.size() - 1))})),
                        "auth with a prefix of the token");
  ExpectUnauthenticated(plain->Call("now"), "now after wrong tokens");
  // A text string works as well as a byte string.
  EXPECT_TRUE(Same(Call(*plain, "auth", A({T(token_)})), OkPair()));
  EXPECT_TRUE(Call(*plain, "now").is_double());
  SetSpec(*plain, SpecDef("s"));
  EXPECT_TRUE(Same(Call(c(), "get_work_spec", A({B("s")})), SpecDef("s")));
}

TEST_F(AuthTest, ConnectionClosedAfterThreeWrongTokens) {
  auto plain = NewClient("");
  for (int i = 0; i < 3; ++i) {
    ExpectUnauthenticated(plain->Call("auth", A({B("wrong")})), "wrong token");
  }
  auto r = plain->Call("auth", A({B(token_)}));
  ASSERT_FALSE(r.ok()) << "the connection stayed open after three wrong tokens";
  EXPECT_EQ(r.status().code(), Code::kIOError) << r.status().ToString();
  // A new connection may try again.
  auto again = NewClient(token_);
  EXPECT_TRUE(Call(*again, "now").is_double());
}

TEST_F(AuthTest, ClientWithWrongTokenFailsWithoutRetrying) {
  auto bad = NewClient("wrong", /*retries=*/3);
  Status s = bad->Connect();
  EXPECT_EQ(s.code(), Code::kUnauthenticated) << s.ToString();
  EXPECT_FALSE(bad->connected());
  auto r = bad->Call("now");
  ExpectUnauthenticated(r, "now through a client with a wrong token");
}

TEST_F(AuthTest, RightTokenAcceptedAndReconnectAuthenticatesAgain) {
  SetSpec(c(), SpecDef("s"));
  AddUnits(c(), "s", {Tup({B("k"), M({})})});
  auto work = c().GetWork(B("w"), 1);
  ASSERT_TRUE(work.ok()) << work.status().ToString();
  ASSERT_EQ(work->size(), 1u);
  c().Close();  // the next call opens a new connection, which must authenticate again
  ASSERT_FALSE(c().connected());
  Status s = c().UpdateWorkUnit(B("s"), B("k"), M({{"status", I(kFinished)}}));
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(c().connected());
  Value finished = Value::Map();
  finished.AppendEntry(Value::UInt(kFinished), Value::UInt(1));
  EXPECT_TRUE(Same(Call(c(), "count_work_units", A({B("s")})), Pair(finished, Null())));
}

TEST_F(AuthTest, PipelinedAndBatchedCallsBeforeAuthRefused) {
  const std::vector<std::pair<std::string, Value>> calls = {
      {"set_work_spec", A({SpecDef("p")})},
      {"get_work_spec", A({B("p")})},
      {"auth", A({B(token_)})},
      {"get_work_spec", A({B("p")})},
      {"now", A()},
  };
  auto check = [&](const std::vector<StatusOr<Value>>& r, const char* how) {
    SCOPED_TRACE(how);
    ASSERT_EQ(r.size(), 5u);
    ExpectUnauthenticated(r[0], "set_work_spec before auth");
    ExpectUnauthenticated(r[1], "get_work_spec before auth");
    ASSERT_TRUE(r[2].ok()) << r[2].status().ToString();
    EXPECT_TRUE(Same(*r[2], OkPair()));
    ASSERT_TRUE(r[3].ok()) << r[3].status().ToString();
    EXPECT_TRUE(Same(*r[3], Null())) << "the refused set_work_spec created the spec";
    ASSERT_TRUE(r[4].ok()) << r[4].status().ToString();
    EXPECT_TRUE(r[4]->is_double());
  };
  check(NewClient("")->Pipeline(calls), "pipeline");
  check(NewClient("")->Batch(calls), "batch");
}

TEST_F(AuthTest, TokenNeverServedDumpedOrLogged) {
  // Give every path a chance to see the token: right and wrong auth calls, work, dumps.
  auto plain = NewClient("");
  ExpectUnauthenticated(plain->Call("auth", A({B(token_ + "x")})), "wrong token");
  EXPECT_TRUE(Same(Call(*plain, "auth", A({B(token_)})), OkPair()));
  SetSpec(c(), SpecDef("s"));
  AddUnits(c(), "s", {Tup({B("k"), M({{"d", I(1)}})})});

  const std::string config = coordinated::EncodeCbor(Call(c(), "get_config"));
  EXPECT_FALSE(config.empty());
  EXPECT_EQ(config.find(token_), std::string::npos) << "get_config serves the token";

  const int port = HttpPort();
  for (const char* target : {"/api/summary", "/api/specs", "/metrics", "/", "/api/workers"}) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const std::string req =
        std::string("GET ") + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
    std::string resp;
    char buf[65536];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 10000) > 0) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      resp.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    EXPECT_TRUE(StartsWith(resp, "HTTP/1.1 200")) << target << ": " << resp.substr(0, 200);
    EXPECT_EQ(resp.find(token_), std::string::npos) << target << " serves the token";
  }

  RunResult dump = RunProcess(
      {COORDINATE_ADMIN_BIN, "--addr", d_->address(), "--auth-token-file", token_file_, "dump"});
  EXPECT_EQ(dump.code, 0) << dump.output;
  EXPECT_NE(dump.output.find("\"s\""), std::string::npos) << dump.output;
  EXPECT_EQ(dump.output.find(token_), std::string::npos) << "the dump holds the token";

  RunResult printed =
      RunProcess({DaemonBinary(), "--auth-token-file", token_file_, "--print-config"});
  EXPECT_EQ(printed.code, 0) << printed.output;
  EXPECT_NE(printed.output.find(token_file_), std::string::npos) << printed.output;
  EXPECT_EQ(printed.output.find(token_), std::string::npos) << "--print-config shows the token";

  const std::string log = Slurp(log_file_);
  EXPECT_NE(log.find("must authenticate"), std::string::npos) << log;
  EXPECT_NE(log.find("wrong token"), std::string::npos) << log;
  EXPECT_NE(log.find("rpc auth"), std::string::npos) << "debug request lines missing: " << log;
  EXPECT_EQ(log.find(token_), std::string::npos) << "the log file holds the token";
  EXPECT_EQ(d_->Log().find(token_), std::string::npos) << "stderr holds the token";
}

TEST_F(AuthTest, AdminSendsTokenFromFile) {
  SetSpec(c(), SpecDef("s"));
  RunResult ok = RunProcess({COORDINATE_ADMIN_BIN, "--addr", d_->address(), "--auth-token-file",
                             token_file_, "-o", "json", "summary"});
  EXPECT_EQ(ok.code, 0) << ok.output;
  EXPECT_NE(ok.output.find("\"s\""), std::string::npos) << ok.output;

  // Also from the environment.
  RunResult env =
      RunProcess({COORDINATE_ADMIN_BIN, "--addr", d_->address(), "-o", "json", "summary"},
                 {{"COORDINATE_AUTH_TOKEN_FILE", token_file_}});
  EXPECT_EQ(env.code, 0) << env.output;

  RunResult none = RunProcess({COORDINATE_ADMIN_BIN, "--addr", d_->address(), "summary"});
  EXPECT_EQ(none.code, 1) << none.output;
  EXPECT_NE(none.output.find("Unauthenticated"), std::string::npos) << none.output;

  const std::string wrong = WriteFile(files_.path() + "/wrong", "wrong\n", 0600);
  RunResult bad = RunProcess(
      {COORDINATE_ADMIN_BIN, "--addr", d_->address(), "--auth-token-file", wrong, "summary"});
  EXPECT_EQ(bad.code, 1) << bad.output;
  EXPECT_NE(bad.output.find("refused the auth token"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace coordtest
