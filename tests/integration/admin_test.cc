// coordinate-admin against a real daemon (through RPC) and offline (--data-dir): every
// subcommand, exit codes, output formats, dump/restore round trips over every value kind and
// status, check and check --repair, backup.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

using Json = nlohmann::ordered_json;

struct AdminRun {
  int code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs coordinate-admin with `args`, `input` on its standard input, COORDINATE_ADDR unset
// unless `env_addr` is given.
AdminRun Admin(const std::vector<std::string>& args, const std::string& input = "",
               const std::string& env_addr = "") {
  TempDir io;
  const std::string in_path = io.path() + "/in", out_path = io.path() + "/out",
                    err_path = io.path() + "/err";
  {
    std::ofstream in(in_path, std::ios::binary);
    in << input;
  }
  std::vector<std::string> argv_s = {COORDINATE_ADMIN_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open(in_path.c_str(), O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (env_addr.empty()) {
      ::unsetenv("COORDINATE_ADDR");
    } else {
      ::setenv("COORDINATE_ADDR", env_addr.c_str(), 1);
    }
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  AdminRun r;
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  return r;
}

std::string Show(const AdminRun& r) {
  return "exit " + std::to_string(r.code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

Json ParseJson(const AdminRun& r) {
  Json j = Json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << Show(r);
  return j;
}

std::vector<Json> ParseJsonl(const std::string& text) {
  std::vector<Json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    out.push_back(Json::parse(line, nullptr, false));
    EXPECT_FALSE(out.back().is_discarded()) << line;
  }
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/data";
    daemon_ = std::make_unique<Daemon>(data_);
    Status s = daemon_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    client_ = daemon_->NewClient();
  }

  // Through the daemon.
  AdminRun Online(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--addr", daemon_->address()});
    return Admin(args, input);
  }
  // On a data directory.
  AdminRun Offline(const std::string& dir, std::vector<std::string> args,
                   const std::string& input = "") {
    args.insert(args.begin(), {"--data-dir", dir});
    return Admin(args, input);
  }

  void Spec(const Value& name,
            std::initializer_list<std::pair<std::string_view, Value>> extra = {}) {
    Value d = M({{"name", name}});
    for (const auto& [k, v] : extra) d.Set(B(k), v);
    EXPECT_VEQ(Call(*client_, "set_work_spec", A({d})), OkPair());
  }
  void Add(const Value& spec, std::vector<Value> items) {
    EXPECT_VEQ(Call(*client_, "add_work_units", A({spec, A(std::move(items))})), OkPair());
  }
  Value Work(const Value& worker, const Value& spec, double lease = 300) {
    return Call(*client_, "get_work",
                A({worker, M({{"work_spec_names", A({spec})}, {"lease_time", D(lease)}})}));
  }
  Value UnitStatus(const Value& spec, const Value& key) {
    Value r = Call(*client_, "get_work_unit_status", A({spec, A({key})}));
    return r.items()[0].items()[0];
  }
  int StatusOf(const Value& spec, const Value& key) {
    Value s = UnitStatus(spec, key);
    if (!s.is_map()) return 0;
    return static_cast<int>(s.FindKey("status")->raw_num());
  }

  TempDir dir_;
  std::string data_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<Client> client_;
};

// ---- help, usage and connection errors ------------------------------------------------------

TEST(AdminCliTest, EveryCommandHasHelpWithExamplesAndExitCodes) {
  const std::vector<std::vector<std::string>> commands = {
      {},
      {"summary"},
      {"spec"},
      {"spec", "ls"},
      {"spec", "show"},
      {"spec", "load"},
      {"spec", "pause"},
      {"spec", "resume"},
      {"spec", "rm"},
      {"flow", "load"},
      {"unit"},
      {"unit", "ls"},
      {"unit", "show"},
      {"unit", "add"},
      {"unit", "retry"},
      {"unit", "prioritize"},
      {"unit", "rm"},
      {"worker", "ls"},
      {"worker", "show"},
      {"lock", "ls"},
      {"dump"},
      {"restore"},
      {"check"},
      {"backup"},
  };
  for (auto args : commands) {
    args.push_back("--help");
    AdminRun r = Admin(args);
    std::string what;
    for (const auto& a : args) what += a + " ";
    EXPECT_EQ(r.code, 0) << what << Show(r);
    EXPECT_NE(r.out.find("Examples:"), std::string::npos) << what << Show(r);
    EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << what << Show(r);
  }
}

TEST(AdminCliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Admin({}).code, 2);
  EXPECT_EQ(Admin({"nonsense"}).code, 2);
  EXPECT_EQ(Admin({"spec"}).code, 2);
  EXPECT_EQ(Admin({"summary", "--bogus"}).code, 2);
  EXPECT_EQ(Admin({"-o", "xml", "summary"}).code, 2);
  EXPECT_EQ(Admin({"--addr", "127.0.0.1:1", "--data-dir", "/tmp", "summary"}).code, 2);
  EXPECT_EQ(Admin({"--addr", "127.0.0.1:1", "unit", "ls", "--status", "sleeping"}).code, 2);
  EXPECT_EQ(Admin({"--addr", "127.0.0.1:1", "unit", "rm", "s", "--all"}).code, 2);  // no --yes
  EXPECT_EQ(Admin({"--addr", "127.0.0.1:1", "spec", "rm", "s"}).code, 2);           // no --yes
  EXPECT_EQ(Admin({"--addr", "127.0.0.1:1", "restore"}).code, 2);                   // offline only
  EXPECT_EQ(Admin({"--addr", "127.0.0.1:1", "check", "--repair"}).code, 2);
  EXPECT_EQ(Admin({"--data-dir", "/nonexistent", "spec", "pause", "s"}).code, 2);
  EXPECT_EQ(Admin({"--data-dir", "/nonexistent", "backup", "/tmp/x"}).code, 2);
  EXPECT_EQ(Admin({"--addr", "10.1.2.3:5932", "dump"}).code, 2);  // not on this host
}

TEST(AdminCliTest, CannotConnectOrOpenExitsThree) {
  AdminRun r = Admin({"--addr", "127.0.0.1:1", "summary"});
  EXPECT_EQ(r.code, 3) << Show(r);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos);
  EXPECT_EQ(Admin({"summary"}, "", "127.0.0.1:1").code, 3);  // $COORDINATE_ADDR
  TempDir d;
  r = Admin({"--data-dir", d.path() + "/missing", "summary"});
  EXPECT_EQ(r.code, 3) << Show(r);
  r = Admin({"--data-dir", d.path() + "/missing", "check"});
  EXPECT_EQ(r.code, 3) << Show(r);
}

// ---- specs and flows ------------------------------------------------------------------------

TEST_F(AdminTest, SpecLoadLsShowPauseResumeRm) {
  const std::string file = dir_.path() + "/spec.yaml";
  WriteFile(file,
            "name: crawl\nmin_gb: 1\nweight: 5\npriority: 2\nthen: parse\nratio: 0.5\n"
            "flag: yes\nquoted: 'yes'\n");
  AdminRun r = Online({"spec", "load", file});
  ASSERT_EQ(r.code, 0) << Show(r);
  Value def = Call(*client_, "get_work_spec", A({B("crawl")}));
  ASSERT_TRUE(def.is_map()) << def.ToDiagnostic();
  EXPECT_VEQ(*def.FindKey("weight"), I(5));
  EXPECT_VEQ(*def.FindKey("ratio"), D(0.5));
  EXPECT_VEQ(*def.FindKey("flag"), Bool(true));
  EXPECT_VEQ(*def.FindKey("quoted"), T("yes"));
  // A list of specs from standard input, as byte strings.
  r = Online({"spec", "load", "-", "--bytes"},
             "- {name: parse, min_gb: 1}\n- {name: other, min_gb: 2}\n");
  ASSERT_EQ(r.code, 0) << Show(r);
  Value parse = Call(*client_, "get_work_spec", A({B("parse")}));
  EXPECT_VEQ(*parse.FindKey("name"), B("parse"));

  r = Online({"-o", "json", "spec", "ls"});
  ASSERT_EQ(r.code, 0) << Show(r);
  Json list = ParseJson(r);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["name"], "crawl");
  EXPECT_EQ(list[0]["weight"], 5);
  EXPECT_EQ(list[0]["priority"], 2);
  EXPECT_EQ(list[0]["then"], "parse");
  r = Online({"spec", "ls"});
  EXPECT_NE(r.out.find("NAME"), std::string::npos);
  EXPECT_NE(r.out.find("crawl"), std::string::npos);

  r = Online({"spec", "pause", "crawl"});
  ASSERT_EQ(r.code, 0) << Show(r);
  Value meta = Call(*client_, "get_work_spec_meta", A({B("crawl")}));
  EXPECT_VEQ(*meta.items()[0].FindKey("status"), I(2));
  r = Online({"-o", "json", "spec", "show", "crawl"});
  ASSERT_EQ(r.code, 0) << Show(r);
  Json show = ParseJson(r);
  EXPECT_EQ(show["paused"], true);
  EXPECT_EQ(show["definition"]["weight"], 5);
  EXPECT_EQ(show["meta"]["status"], 2);
  r = Online({"spec", "resume", "crawl"});
  ASSERT_EQ(r.code, 0) << Show(r);
  meta = Call(*client_, "get_work_spec_meta", A({B("crawl")}));
  EXPECT_VEQ(*meta.items()[0].FindKey("status"), I(1));
  r = Online({"spec", "show", "crawl"});
  EXPECT_NE(r.out.find("paused:"), std::string::npos) << Show(r);

  EXPECT_EQ(Online({"spec", "show", "nope"}).code, 1);
  EXPECT_EQ(Online({"spec", "pause", "nope"}).code, 1);
  EXPECT_EQ(Online({"spec", "rm", "other"}).code, 2);
  r = Online({"spec", "rm", "other", "--yes"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_VEQ(Call(*client_, "get_work_spec", A({B("other")})), Null());
  EXPECT_EQ(Online({"spec", "rm", "other", "--yes"}).code, 1);
  // Offline reads see the same specs.
  r = Offline(data_, {"-o", "json", "spec", "ls"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_EQ(ParseJson(r).size(), 2u);
}

TEST_F(AdminTest, FlowLoad) {
  Spec(B("existing"));
  const std::string bad = dir_.path() + "/bad.yaml";
  WriteFile(bad, "flows:\n  a: {min_gb: 1, then: missing}\n  b: {min_gb: 1}\n");
  AdminRun r = Online({"flow", "load", bad});
  EXPECT_EQ(r.code, 1) << Show(r);
  EXPECT_NE(r.err.find("missing"), std::string::npos);
  EXPECT_VEQ(Call(*client_, "get_work_spec", A({B("b")})), Null());  // nothing set

  const std::string good = dir_.path() + "/flow.yaml";
  WriteFile(good,
            "flows:\n"
            "  ingest:\n"
            "    fetch: {min_gb: 1, module: m, run_function: f, then: ingest.parse}\n"
            "    parse:\n"
            "      min_gb: 2\n"
            "      then: existing\n"
            "      config: {db: {host: h2, port: null}, extra: 1}\n"
            "  top: {min_gb: 1}\n");
  const std::string config = dir_.path() + "/config.yaml";
  WriteFile(config, "db: {host: h1, port: 5}\nshared: true\n");
  r = Online({"flow", "load", good, "--config", config, "--dry-run"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_VEQ(Call(*client_, "get_work_spec", A({B("top")})), Null());
  r = Online({"flow", "load", good, "--config", config});
  ASSERT_EQ(r.code, 0) << Show(r);
  Value fetch = Call(*client_, "get_work_spec", A({B("ingest.fetch")}));
  ASSERT_TRUE(fetch.is_map()) << fetch.ToDiagnostic();
  EXPECT_VEQ(*fetch.FindKey("name"), T("ingest.fetch"));
  EXPECT_VEQ(*fetch.FindKey("then"), T("ingest.parse"));
  Value parse = Call(*client_, "get_work_spec", A({B("ingest.parse")}));
  ASSERT_TRUE(parse.is_map());
  const Value* cfg = parse.FindKey("config");
  ASSERT_TRUE(cfg && cfg->is_map());
  // Overlay: maps merge, null deletes, the base's other keys stay.
  EXPECT_VEQ(*cfg->FindKey("db")->FindKey("host"), T("h2"));
  EXPECT_EQ(cfg->FindKey("db")->FindKey("port"), nullptr);
  EXPECT_VEQ(*cfg->FindKey("shared"), Bool(true));
  EXPECT_VEQ(*cfg->FindKey("extra"), I(1));
  EXPECT_TRUE(Call(*client_, "get_work_spec", A({B("top")})).is_map());
  // Chaining works end to end.
  Add(B("ingest.fetch"), {Tup({B("u"), M({{"output", A({B("next")})}})})});
  Value g = Work(B("w"), B("ingest.fetch"));
  EXPECT_VEQ(
      Call(*client_, "update_work_unit", A({B("ingest.fetch"), B("u"), M({{"status", I(4)}})})),
      OkPair());
  EXPECT_EQ(StatusOf(B("ingest.parse"), B("next")), 1);
}

// ---- units ----------------------------------------------------------------------------------

TEST_F(AdminTest, UnitAddLsShowRetryPrioritizeRm) {
  Spec(B("s"), {{"max_retries", I(0)}});
  Spec(T("t\xc3\xa9xt"));
  // JSON lines: several units per line, data in the value encoding, bytes keys.
  AdminRun r = Online({"unit", "add", "s", "--bytes"},
                      "{\"a1\": {\"n\": 1}, \"a2\": {\"b\": {\"$bytes\": \"raw\"}}}\n"
                      "\n"
                      "{\"b1\": {\"$tuple\": [1, 2.0]}}\n");
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_NE(r.out.find("added 3 units"), std::string::npos);
  Value units = Call(*client_, "get_work_units", A({B("s")}));
  ASSERT_EQ(units.items()[0].items().size(), 3u);
  EXPECT_VEQ(units.items()[0].items()[0], Pair(B("a1"), M({{"n", I(1)}})));
  EXPECT_VEQ(units.items()[0].items()[2], Pair(B("b1"), Tup({I(1), D(2.0)})));
  // From a file, text keys, with priority and delay.
  const std::string file = dir_.path() + "/units.jsonl";
  WriteFile(file, "{\"z\": {}}\n");
  r = Online({"unit", "add", "s", "--file", file, "--priority", "7"});
  ASSERT_EQ(r.code, 0) << Show(r);
  r = Online({"unit", "add", "s"}, "{\"later\": {}}\n");
  ASSERT_EQ(r.code, 0) << Show(r);
  // A malformed line adds nothing.
  r = Online({"unit", "add", "s"}, "{\"ok\": {}}\nnot json\n");
  EXPECT_EQ(r.code, 1) << Show(r);
  EXPECT_VEQ(Call(*client_, "get_work_units", A({B("s"), M({{"work_unit_keys", A({B("ok")})}})})),
             Pair(A({Pair(B("ok"), Null())}), Null()));
  EXPECT_EQ(Online({"unit", "add", "nope"}, "{\"k\": {}}\n").code, 1);

  // The highest priority unit (z) goes to w1; fail a2.
  Value g = Work(B("w1"), B("s"));
  EXPECT_VEQ(g.items()[0].items()[1], T("z"));
  EXPECT_VEQ(Call(*client_, "update_work_unit",
                  A({B("s"), B("a2"),
                     M({{"status", I(5)}, {"data", M({{"traceback", B("boom\nline 2")}})}})})),
             OkPair());
  EXPECT_VEQ(Call(*client_, "worker_heartbeat",
                  A({B("w1"), B("RUN"), I(600), M({{"host", B("h")}}), Null()})),
             OkPair());

  r = Online({"-o", "json", "unit", "ls", "--spec", "s"});
  ASSERT_EQ(r.code, 0) << Show(r);
  Json list = ParseJson(r);
  ASSERT_EQ(list.size(), 5u) << r.out;
  std::map<std::string, std::string> status;
  for (const auto& u : list) status[u["key"]] = u["status"];
  EXPECT_EQ(status["z"], "pending");
  EXPECT_EQ(status["a2"], "failed");
  EXPECT_EQ(status["a1"], "available");
  r = Online(
      {"-o", "json", "unit", "ls", "--spec", "s", "--status", "failed,pending", "--details"});
  list = ParseJson(r);
  ASSERT_EQ(list.size(), 2u) << r.out;
  r = Online({"-o", "jsonl", "unit", "ls", "--spec", "s", "--status", "failed", "--details"});
  auto rows = ParseJsonl(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["traceback"], "boom\nline 2");
  EXPECT_EQ(rows[0]["data"]["$bmap"]["traceback"]["$bytes"], "boom\nline 2");
  r = Online({"-o", "json", "unit", "ls", "--spec", "s", "--prefix", "a"});
  EXPECT_EQ(ParseJson(r).size(), 2u) << r.out;
  r = Online({"-o", "json", "unit", "ls", "--spec", "s", "--limit", "2"});
  EXPECT_EQ(ParseJson(r).size(), 2u) << r.out;
  r = Online({"-o", "json", "unit", "ls"});  // every spec
  EXPECT_EQ(ParseJson(r).size(), 5u) << r.out;
  r = Online({"unit", "ls", "--spec", "s", "--details"});
  EXPECT_NE(r.out.find("boom\\nline 2"), std::string::npos) << r.out;  // escaped in tables
  EXPECT_EQ(Online({"unit", "ls", "--spec", "nope"}).code, 1);

  // unit show: lease, worker, attempts.
  r = Online({"-o", "json", "unit", "show", "s", "z"});
  ASSERT_EQ(r.code, 0) << Show(r);
  Json z = ParseJson(r);
  EXPECT_EQ(z["status"], "pending");
  EXPECT_TRUE(z["expiration"].is_number());
  EXPECT_EQ(z["worker"]["id"], "w1");
  EXPECT_EQ(z["worker"]["alive"], true);
  ASSERT_EQ(z["attempt_log"].size(), 1u);
  EXPECT_EQ(z["attempt_log"][0]["status"], "pending");
  r = Online({"unit", "show", "s", "a2"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_NE(r.out.find("traceback:"), std::string::npos);
  EXPECT_EQ(Online({"unit", "show", "s", "missing"}).code, 1);
  EXPECT_EQ(Online({"unit", "show", "nope", "x"}).code, 1);

  // retry: a failed unit becomes available; --failed takes every failed one.
  r = Online({"unit", "retry", "s", "a2"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_EQ(StatusOf(B("s"), B("a2")), 1);
  EXPECT_VEQ(Call(*client_, "update_work_unit", A({B("s"), B("a1"), M({{"status", I(5)}})})),
             OkPair());
  EXPECT_VEQ(Call(*client_, "update_work_unit", A({B("s"), B("b1"), M({{"status", I(5)}})})),
             OkPair());
  r = Online({"unit", "retry", "s", "--failed"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_NE(r.out.find("retried 2 units"), std::string::npos) << r.out;
  EXPECT_EQ(StatusOf(B("s"), B("a1")), 1);
  EXPECT_EQ(StatusOf(B("s"), B("b1")), 1);
  EXPECT_EQ(Online({"unit", "retry", "s", "missing"}).code, 1);
  EXPECT_EQ(Online({"unit", "retry", "s"}).code, 2);

  // prioritize: b1 jumps ahead of the others.
  r = Online({"unit", "prioritize", "s", "b1", "--priority", "100"});
  ASSERT_EQ(r.code, 0) << Show(r);
  g = Work(B("w2"), B("s"));
  EXPECT_VEQ(g.items()[0].items()[1], B("b1"));
  r = Online({"unit", "prioritize", "s", "a1", "--adjust", "50"});
  ASSERT_EQ(r.code, 0) << Show(r);
  g = Work(B("w2"), B("s"));
  EXPECT_VEQ(g.items()[0].items()[1], B("a1"));
  EXPECT_EQ(Online({"unit", "prioritize", "s", "a1"}).code, 2);

  // rm: by key, by status (with --yes), all.
  r = Online({"unit", "rm", "s", "a2"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_NE(r.out.find("deleted 1 units"), std::string::npos);
  EXPECT_EQ(StatusOf(B("s"), B("a2")), 0);
  EXPECT_EQ(Online({"unit", "rm", "s", "--status", "pending"}).code, 2);
  r = Online({"unit", "rm", "s", "--status", "pending", "--yes"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_NE(r.out.find("deleted 3 units"), std::string::npos) << r.out;
  r = Online({"unit", "rm", "s", "--all", "--yes"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_VEQ(Call(*client_, "get_work_units", A({B("s")})), Pair(A(), Null()));
}

TEST_F(AdminTest, KeysThatAreNotUtf8AreEscaped) {
  Spec(B("s"));
  const std::string key("\xff\x1b[2Jbad\x7f\xc2\x9b", 11);
  Add(B("s"), {Tup({B(key), M({{"k", B("\x1b]0;title\x07")}})})});
  for (const auto& format : {"table", "json", "jsonl"}) {
    AdminRun r = Online({"-o", format, "unit", "ls", "--spec", "s", "--details"});
    ASSERT_EQ(r.code, 0) << Show(r);
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << format << ": " << r.out;
    EXPECT_EQ(r.out.find('\x7f'), std::string::npos) << format;
    EXPECT_EQ(r.out.find('\x07'), std::string::npos) << format;
    EXPECT_EQ(r.out.find("\xc2\x9b"), std::string::npos) << format;
  }
  AdminRun r = Online({"unit", "ls", "--spec", "s"});
  EXPECT_NE(r.out.find("\\xff\\x1b[2Jbad\\x7f\\u{9b}"), std::string::npos) << r.out;
  // The escaped form names the unit again.
  r = Online({"-o", "json", "unit", "show", "s", "\\xff\\x1b[2Jbad\\x7f\\u{9b}", "--escaped"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_TRUE(ParseJson(r)["key"].contains("$base64")) << r.out;
}

// ---- summary, workers, locks ----------------------------------------------------------------

TEST_F(AdminTest, SummaryOnlineOfflineAndWatch) {
  Spec(B("a"));
  Spec(B("b"));
  Add(B("a"), {Tup({B("1"), M({})}), Tup({B("2"), M({})}), Tup({B("3"), M({})})});
  Work(B("w"), B("a"));
  EXPECT_VEQ(Call(*client_, "update_work_unit", A({B("a"), B("2"), M({{"status", I(4)}})})),
             OkPair());
  EXPECT_VEQ(Call(*client_, "control_work_spec", A({B("b"), M({{"status", I(2)}})})), OkPair());
  auto check = [&](const AdminRun& r) {
    ASSERT_EQ(r.code, 0) << Show(r);
    Json rows = ParseJson(r);
    ASSERT_EQ(rows.size(), 2u) << r.out;
    EXPECT_EQ(rows[0]["spec"], "a");
    EXPECT_EQ(rows[0]["available"], 1);
    EXPECT_EQ(rows[0]["pending"], 1);
    EXPECT_EQ(rows[0]["finished"], 1);
    EXPECT_EQ(rows[0]["total"], 3);
    EXPECT_EQ(rows[1]["paused"], true);
  };
  check(Online({"-o", "json", "summary"}));
  check(Offline(data_, {"-o", "json", "summary"}));  // read-only, daemon running
  AdminRun r = Online({"summary"});
  EXPECT_NE(r.out.find("AVAILABLE"), std::string::npos);
  r = Admin({"-o", "json", "summary"}, "", daemon_->address());  // $COORDINATE_ADDR
  check(r);
  r = Online({"-o", "jsonl", "summary", "--watch", "0.1", "--iterations", "3"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_EQ(ParseJsonl(r.out).size(), 6u);
  EXPECT_EQ(Offline(data_, {"summary", "--watch", "1"}).code, 2);
}

TEST_F(AdminTest, WorkersAndLocks) {
  Spec(B("s"));
  Add(B("s"), {Tup({B("u"), M({})})});
  EXPECT_VEQ(Call(*client_, "worker_heartbeat",
                  A({B("parent"), B("RUN"), I(600), M({{"host", B("h1")}}), Null()})),
             OkPair());
  EXPECT_VEQ(
      Call(*client_, "worker_heartbeat", A({B("kid"), B("IDLE"), I(600), M({}), B("parent")})),
      OkPair());
  Work(B("kid"), B("s"));
  EXPECT_VEQ(Call(*client_, "lock", A({B("locker"), I(60), A({A({B("ns"), B("a")})})})),
             A({Bool(true), Null()}));

  AdminRun r = Online({"-o", "json", "worker", "ls"});
  ASSERT_EQ(r.code, 0) << Show(r);
  Json ws = ParseJson(r);
  ASSERT_EQ(ws.size(), 2u) << r.out;
  EXPECT_EQ(ws[0]["id"], "kid");
  EXPECT_EQ(ws[1]["mode"], "RUN");
  r = Online({"-o", "json", "worker", "show", "parent"});
  ASSERT_EQ(r.code, 0) << Show(r);
  Json p = ParseJson(r);
  EXPECT_EQ(p["children"][0], "kid");
  EXPECT_EQ(p["data"]["$bmap"]["host"]["$bytes"], "h1");
  EXPECT_EQ(Online({"worker", "show", "nobody"}).code, 1);
  r = Online({"worker", "ls"});
  EXPECT_NE(r.out.find("parent"), std::string::npos) << r.out;

  r = Online({"-o", "json", "lock", "ls"});
  ASSERT_EQ(r.code, 0) << Show(r);
  Json locks = ParseJson(r);
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_EQ(locks[0]["path"], Json::array({"ns", "a"}));
  EXPECT_EQ(locks[0]["owner"], "locker");
  EXPECT_EQ(locks[0]["expired"], false);

  // Offline: heartbeats, parents and current units come from the records.
  daemon_->Stop();
  r = Offline(data_, {"-o", "json", "worker", "ls"});
  ASSERT_EQ(r.code, 0) << Show(r);
  ws = ParseJson(r);
  ASSERT_EQ(ws.size(), 2u);
  EXPECT_EQ(ws[0]["id"], "kid");
  EXPECT_EQ(ws[0]["parent"], "parent");
  EXPECT_EQ(ws[0]["units"], 1);
  EXPECT_TRUE(ws[0]["last_heard"].is_number());
  r = Offline(data_, {"-o", "json", "worker", "show", "kid"});
  ASSERT_EQ(r.code, 0) << Show(r);
  Json kid = ParseJson(r);
  EXPECT_EQ(kid["current_units"][0]["spec"], "s");
  EXPECT_EQ(kid["current_units"][0]["key"], "u");
  r = Offline(data_, {"-o", "json", "unit", "show", "s", "u"});
  ASSERT_EQ(r.code, 0) << Show(r);
  Json u = ParseJson(r);
  EXPECT_EQ(u["status"], "pending");
  EXPECT_TRUE(u["worker"]["last_heard"].is_number()) << r.out;
  EXPECT_EQ(u["attempts"], 1);
  r = Offline(data_, {"-o", "json", "lock", "ls"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_EQ(ParseJson(r).size(), 1u);
  r = Offline(data_, {"-o", "json", "unit", "ls", "--status", "pending"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_EQ(ParseJson(r).size(), 1u);
}

// ---- dump, restore, backup, check ------------------------------------------------------------

class AdminDumpTest : public AdminTest {
 protected:
  // Every value kind and every status.
  void Populate() {
    Spec(B("bytes"), {{"max_retries", I(3)}});
    Spec(T("t\xc3\xa9xt \xe2\x98\x83"));
    const Value uuid = Value::Uuid(
        std::string("\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16));
    Value odd_keys = Value::Map();
    odd_keys.AppendEntry(I(1), T("int key"));
    odd_keys.AppendEntry(Tup({I(1), I(2)}), B("tuple key"));
    odd_keys.AppendEntry(B("$bytes"), D(-0.0));
    odd_keys.AppendEntry(T("dup"), I(1));
    odd_keys.AppendEntry(T("dup"), I(2));
    Add(B("bytes"),
        {Tup({B("plain"), M({{"f", D(1.0)},
                             {"i", I(1)},
                             {"big", Value::NegIntArg(std::numeric_limits<uint64_t>::max())}})}),
         Tup({T("caf\xc3\xa9"),
              M({{"uuid", uuid}, {"t", Tup({B("a"), T("\xe2\x82\xac"), A({D(1e300), D(0.1)})})}}),
              M({{"priority", D(5)}})}),
         Tup({B(std::string("\x00\xff\x01", 3)), odd_keys}),
         Tup({B("delayed"), M({}), M({{"delay", I(100)}})}), Tup({B("pending"), T("just text")}),
         Tup({B("done"), M({{"output", Null()}})}), Tup({B("failed"), M({})}),
         Tup({B("prereq"), M({})})});
    // pending: leased by w1 (highest priority first: café, then the rest by key).
    EXPECT_VEQ(Call(*client_, "update_work_unit",
                    A({B("bytes"), B("pending"),
                       M({{"status", I(3)}, {"worker_id", B("w1")}, {"lease_time", I(600)}})})),
               OkPair());
    EXPECT_VEQ(
        Call(*client_, "update_work_unit", A({B("bytes"), B("done"), M({{"status", I(4)}})})),
        OkPair());
    EXPECT_VEQ(Call(*client_, "update_work_unit",
                    A({B("bytes"), B("failed"),
                       M({{"status", I(5)}, {"data", M({{"traceback", B("oops")}})}})})),
               OkPair());
    // blocked: waits for prereq.
    EXPECT_VEQ(Call(*client_, "add_dependent_work_units",
                    A({Tup({T("t\xc3\xa9xt \xe2\x98\x83"), T("blocked \xf0\x9f\x94\x92"),
                            M({{"x", I(1)}})}),
                       Tup({B("bytes"), B("prereq"), Null()})})),
               OkPair());
    EXPECT_VEQ(Call(*client_, "worker_heartbeat",
                    A({B("w1"), B("RUN"), I(900), M({{"pid", I(42)}}), Null()})),
               OkPair());
    EXPECT_VEQ(Call(*client_, "lock", A({B("locker"), I(60), A({A({B("ns"), T("x"), I(3)})})})),
               A({Bool(true), Null()}));
    EXPECT_VEQ(Call(*client_, "set_mode", A({B("IDLE")})), OkPair());
    EXPECT_VEQ(Call(*client_, "check"), A());
  }

  static std::vector<std::string> WithoutHeader(const std::string& dump) {
    auto lines = Lines(dump);
    if (!lines.empty()) lines.erase(lines.begin());
    return lines;
  }
};

TEST_F(AdminDumpTest, DumpRestoreRoundTripIsExact) {
  Populate();
  const std::string online = dir_.path() + "/online.jsonl";
  AdminRun r = Online({"dump", "--out", online});
  ASSERT_EQ(r.code, 0) << Show(r);
  const std::string first = Slurp(online);
  auto lines = ParseJsonl(first);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines.front()["type"], "header");
  EXPECT_EQ(lines.front()["format_version"], 1);
  EXPECT_TRUE(lines.front()["daemon_version"].is_string());
  EXPECT_EQ(lines.back()["type"], "trailer");
  EXPECT_EQ(lines.back()["counts"]["units"], 9);
  EXPECT_EQ(lines.back()["counts"]["deps"], 1);
  std::map<std::string, int> statuses;
  for (const auto& l : lines) {
    if (l["type"] == "unit") ++statuses[l["status"].get<std::string>()];
  }
  EXPECT_EQ(statuses["available"], 5);  // plain, café, \0\xff\x01, delayed, prereq
  EXPECT_EQ(statuses["blocked"], 1);
  EXPECT_EQ(statuses["pending"], 1);
  EXPECT_EQ(statuses["finished"], 1);
  EXPECT_EQ(statuses["failed"], 1);
  // Another dump later with nothing changed: the same lines (the header's time aside).
  const std::string stdout_dump = Online({"dump"}).out;
  EXPECT_EQ(WithoutHeader(stdout_dump), WithoutHeader(first));

  // Offline on the stopped daemon's directory gives the same dump.
  ASSERT_EQ(daemon_->Stop(), 0);
  r = Offline(data_, {"dump"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_EQ(WithoutHeader(r.out), WithoutHeader(first));

  // Restore into a new directory (created), from standard input; dump it again: identical.
  const std::string restored = dir_.path() + "/restored/db";
  r = Offline(restored, {"restore"}, first);
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_NE(r.out.find("9 units"), std::string::npos) << r.out;
  r = Offline(restored, {"dump"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_EQ(WithoutHeader(r.out), WithoutHeader(first));
  r = Offline(restored, {"check"});
  EXPECT_EQ(r.code, 0) << Show(r);

  // A non-empty target is refused unless --force.
  r = Offline(restored, {"restore", "--in", online});
  EXPECT_EQ(r.code, 1) << Show(r);
  EXPECT_NE(r.err.find("--force"), std::string::npos);
  r = Offline(restored, {"restore", "--in", online, "--force"});
  ASSERT_EQ(r.code, 0) << Show(r);
  // Restore needs the data directory, never the daemon.
  EXPECT_EQ(Admin({"--addr", "127.0.0.1:1", "restore", "--in", online}).code, 2);
  // A truncated dump is an error.
  auto all = Lines(first);
  std::string truncated;
  for (size_t i = 0; i + 1 < all.size(); ++i) truncated += all[i] + "\n";
  r = Offline(dir_.path() + "/truncated", {"restore"}, truncated);
  EXPECT_EQ(r.code, 1) << Show(r);

  // A daemon on the restored directory serves the same units.
  Daemon again(restored);
  ASSERT_TRUE(again.Start().ok());
  auto c = again.NewClient();
  EXPECT_VEQ(Call(*c, "check"), A());
  EXPECT_VEQ(Call(*c, "get_mode"), B("IDLE"));
  Value units =
      Call(*c, "get_work_units",
           A({B("bytes"),
              M({{"work_unit_keys", A({B(std::string("\x00\xff\x01", 3)), B("caf\xc3\xa9")})}})}));
  const Value& got = units.items()[0];
  ASSERT_EQ(got.items().size(), 2u);
  Value odd = got.items()[0].items()[1];
  ASSERT_TRUE(odd.is_map());
  EXPECT_EQ(odd.map_size(), 5u);
  EXPECT_VEQ(odd.key_at(1), Tup({I(1), I(2)}));
  EXPECT_VEQ(got.items()[1].items()[0], T("caf\xc3\xa9"));  // the key's kind survived
  Value st = Call(*c, "get_work_unit_status",
                  A({T("t\xc3\xa9xt \xe2\x98\x83"), A({T("blocked \xf0\x9f\x94\x92")})}));
  EXPECT_VEQ(*st.items()[0].items()[0].FindKey("status"), I(2));
  st = Call(*c, "get_work_unit_status", A({B("bytes"), A({B("pending")})}));
  EXPECT_VEQ(*st.items()[0].items()[0].FindKey("status"), I(3));
  EXPECT_VEQ(*st.items()[0].items()[0].FindKey("worker_id"), B("w1"));
  // Finishing the prerequisite releases the blocked unit, as in the original store.
  EXPECT_VEQ(Call(*c, "update_work_unit", A({B("bytes"), B("prereq"), M({{"status", I(4)}})})),
             OkPair());
  st = Call(*c, "get_work_unit_status",
            A({T("t\xc3\xa9xt \xe2\x98\x83"), A({T("blocked \xf0\x9f\x94\x92")})}));
  EXPECT_VEQ(*st.items()[0].items()[0].FindKey("status"), I(1));
}

TEST_F(AdminDumpTest, CheckFindsCorruptionAndRepairFixesIt) {
  Populate();
  AdminRun r = Online({"check"});
  EXPECT_EQ(r.code, 0) << Show(r);
  EXPECT_NE(r.out.find("no problems"), std::string::npos);
  r = Offline(data_, {"check"});  // read-only while the daemon runs
  EXPECT_EQ(r.code, 0) << Show(r);
  r = Online({"dump"});
  ASSERT_EQ(r.code, 0) << Show(r);
  ASSERT_EQ(daemon_->Stop(), 0);

  // Corrupt a copy: "plain" claims a prerequisite it has no edge for (BLOCKED, blockers 1),
  // without the checksum (restore checks it only when present).
  std::string corrupted;
  for (const auto& line : Lines(r.out)) {
    Json j = Json::parse(line);
    if (j["type"] == "unit" && j["key"] == Json{{"$bytes", "plain"}}) {
      j["status"] = "blocked";
      j["blockers"] = 1;
    }
    if (j["type"] == "trailer") j.erase("checksum");
    corrupted += j.dump() + "\n";
  }
  const std::string bad = dir_.path() + "/bad";
  r = Offline(bad, {"restore"}, corrupted);
  ASSERT_EQ(r.code, 0) << Show(r);
  r = Offline(bad, {"check"});
  EXPECT_EQ(r.code, 1) << Show(r);
  EXPECT_NE(r.out.find("blockers"), std::string::npos) << r.out;
  r = Offline(bad, {"-o", "json", "check"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(ParseJson(r)["ok"], false);

  // A daemon on it would never hand "plain" out; repair fixes it.
  r = Offline(bad, {"check", "--repair"});
  EXPECT_EQ(r.code, 0) << Show(r);
  EXPECT_NE(r.out.find("blocker counts fixed"), std::string::npos) << r.out;
  r = Offline(bad, {"check"});
  EXPECT_EQ(r.code, 0) << Show(r);
  Daemon d(bad);
  ASSERT_TRUE(d.Start().ok());
  auto c = d.NewClient();
  EXPECT_VEQ(Call(*c, "set_mode", A({B("RUN")})), OkPair());
  Value g = Call(*c, "get_work",
                 A({B("w9"), M({{"work_spec_names", A({B("bytes")})}, {"max_jobs", I(10)}})}));
  bool plain = false;
  for (const Value& grant : g.items()[0].items()) plain |= grant.items()[1] == B("plain");
  EXPECT_TRUE(plain) << g.ToDiagnostic();
  EXPECT_VEQ(Call(*c, "check"), A());
  d.Stop();

  // Repair needs the data directory and no daemon on it.
  EXPECT_EQ(Online({"check", "--repair"}).code, 2);
  ASSERT_TRUE(daemon_->Start().ok());
  r = Offline(data_, {"check", "--repair"});
  EXPECT_EQ(r.code, 3) << Show(r);
}

TEST_F(AdminDumpTest, BackupIsOpenableByTheDaemon) {
  Populate();
  const std::string backup = dir_.path() + "/backup";
  AdminRun r = Online({"backup", backup});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_EQ(Online({"backup", backup}).code, 1);  // exists already
  r = Offline(backup, {"-o", "json", "summary"});
  ASSERT_EQ(r.code, 0) << Show(r);
  EXPECT_EQ(ParseJson(r).size(), 2u);
  Daemon d(backup);
  ASSERT_TRUE(d.Start().ok());
  auto c = d.NewClient();
  EXPECT_VEQ(Call(*c, "check"), A());
  Value st = Call(*c, "get_work_unit_status", A({B("bytes"), A({B("done")})}));
  EXPECT_VEQ(*st.items()[0].items()[0].FindKey("status"), I(4));
}

}  // namespace
}  // namespace coordtest
