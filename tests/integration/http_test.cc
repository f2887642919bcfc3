// The HTTP side port through the real daemon: /healthz, /readyz, /metrics (parsed as Prometheus
// text and checked against the work done over CBOR-RPC), the read-only JSON API, the actions
// (refused by default, working when enabled), bad URLs, malformed requests, --no-http, and the
// log file options (rotation set-up, SIGHUP reopen, JSON lines).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

using json = nlohmann::json;

struct HttpResult {
  int status = 0;                              // 0: no response (connection closed or failed)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int ConnectTo(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads until EOF or `timeout_ms` passes.
std::string ReadAll(int fd, int timeout_ms = 10000) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (::poll(&p, 1, std::max(left, 1)) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

HttpResult ParseResponse(const std::string& raw) {
  HttpResult r;
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.compare(0, 9, "HTTP/1.1 ") != 0) return r;
  r.status = std::atoi(raw.c_str() + 9);
  std::istringstream head(raw.substr(0, end));
  std::string line;
  std::getline(head, line);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value[0] == ' ') value.erase(0, 1);
    r.headers[Lower(line.substr(0, colon))] = value;
  }
  r.body = raw.substr(end + 4);
  return r;
}

// One request on a fresh connection (Connection: close), the whole response.
HttpResult Http(int port, const std::string& method, const std::string& target,
                const std::vector<std::string>& extra_headers = {}, const std::string& body = "") {
  int fd = ConnectTo(port);
  if (fd < 0) return {};
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : extra_headers) req += h + "\r\n";
  if (!body.empty() || method == "POST")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  SendAll(fd, req);
  std::string raw = ReadAll(fd);
  ::close(fd);
  return ParseResponse(raw);
}

HttpResult Get(int port, const std::string& target) { return Http(port, "GET", target); }

json GetJson(int port, const std::string& target, int expected_status = 200) {
  HttpResult r = Get(port, target);
  EXPECT_EQ(r.status, expected_status) << target << ": " << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/json; charset=utf-8") << target;
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << target << ": not JSON: " << r.body;
  return j;
}

// ---- Prometheus text format ------------------------------------------------------------------

struct Exposition {
  std::map<std::string, std::string> types;  // family -> type
  std::map<std::string, double> samples;     // "name{labels as written}" -> value
  std::vector<std::string> errors;
};

// Parses the text format strictly: every line is "# HELP name text", "# TYPE name type", or
// "name{label="value",...} value"; names and label names are valid; label values are properly
// escaped; values are numbers (or +Inf/-Inf/NaN); every sample belongs to a declared family.
Exposition ParseExposition(const std::string& text) {
  Exposition e;
  static const std::regex kHelp(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$)");
  static const std::regex kType(
      R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\\\|\\"|\\n)*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\\\|\\"|\\n)*")*\})? (\S+)$)");
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::smatch m;
    if (line.rfind("#", 0) == 0) {
      if (std::regex_match(line, m, kType)) {
        e.types[m[1]] = m[2];
      } else if (!std::regex_match(line, kHelp)) {
        e.errors.push_back("line " + std::to_string(n) + ": bad comment: " + line);
      }
      continue;
    }
    if (!std::regex_match(line, m, kSample)) {
      e.errors.push_back("line " + std::to_string(n) + ": not a sample: " + line);
      continue;
    }
    const std::string name = m[1];
    const std::string value = m[m.size() - 1];
    double v = 0;
    if (value == "+Inf") {
      v = INFINITY;
    } else if (value == "-Inf") {
      v = -INFINITY;
    } else if (value == "NaN") {
      v = NAN;
    } else {
      char* end = nullptr;
      v = std::strtod(value.c_str(), &end);
      if (end != value.c_str() + value.size()) {
        e.errors.push_back("line " + std::to_string(n) + ": bad value: " + line);
      }
    }
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (!e.types.count(family) && family.size() > s.size() &&
          family.compare(family.size() - s.size(), s.size(), s) == 0) {
        family = family.substr(0, family.size() - s.size());
      }
    }
    if (!e.types.count(family)) {
      e.errors.push_back("line " + std::to_string(n) + ": sample of undeclared family: " + line);
    }
    e.samples[line.substr(0, line.rfind(' '))] = v;
  }
  if (!text.empty() && text.back() != '\n') e.errors.push_back("missing final newline");
  return e;
}

// ---- the fixture -------------------------------------------------------------------------------

class HttpTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (daemon_) daemon_->Kill();
    std::error_code ec;
    std::filesystem::remove(dir_.path() + ".ready.http", ec);
  }

  // Starts the daemon with `extra` flags and reads the HTTP port from the ready file.
  void Start(std::vector<std::string> extra = {}) {
    DaemonOptions o;
    o.extra_args = std::move(extra);
    daemon_ = std::make_unique<Daemon>(dir_.path(), o);
    std::error_code ec;
    std::filesystem::remove(dir_.path() + ".ready.http", ec);
    ASSERT_TRUE(daemon_->Start().ok()) << daemon_->Log();
    std::ifstream in(dir_.path() + ".ready.http");
    std::string line;
    ASSERT_TRUE(in && std::getline(in, line)) << "no .http ready file: " << daemon_->Log();
    ASSERT_EQ(line.rfind("127.0.0.1:", 0), 0u) << line;
    http_port_ = std::stoi(line.substr(line.rfind(':') + 1));
    ASSERT_GT(http_port_, 0);
    ASSERT_NE(http_port_, 5980) << "test daemons must use an ephemeral HTTP port";
    client_ = daemon_->NewClient();
  }

  Client& c() { return *client_; }

  // ws: 3 units; u1 finished, u2 failed with a traceback, u3 available; worker w1 holds nothing.
  void LoadSample() {
    Call(c(), "set_work_spec", A({M({{"name", B("ws")}})}));
    Call(c(), "add_work_units",
         A({B("ws"), A({Tup({B("u1"), M({{"n", I(1)}})}), Tup({B("u2"), M({{"n", I(2)}})}),
                        Tup({B("u3"), M({{"n", I(3)}})})})}));
    Call(c(), "worker_heartbeat", A({B("w1"), B("RUN"), I(600), M({{"host", B("h1")}}), Null()}));
    Value r = Call(c(), "get_work", A({B("w1"), M({{"max_jobs", I(2)}, {"lease_time", I(600)}})}));
    ASSERT_TRUE(r.is_tuple()) << r.ToDiagnostic();
    ASSERT_EQ(r.items()[0].items().size(), 2u) << r.ToDiagnostic();
    // Units are handed out in key order at equal priority.
    Call(c(), "update_work_unit", A({B("ws"), B("u1"), M({{"status", I(4)}})}));
    Call(c(), "update_work_unit",
         A({B("ws"), B("u2"),
            M({{"status", I(5)}, {"data", M({{"traceback", B("Traceback: boom \"x\"")}})}})}));
  }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<Client> client_;
  int http_port_ = 0;
};

// ---- tests -------------------------------------------------------------------------------------

TEST_F(HttpTest, HealthzAndReadyz) {
  Start();
  HttpResult h = Get(http_port_, "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "ok\n");
  HttpResult r = Get(http_port_, "/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ready\n");
  EXPECT_EQ(Http(http_port_, "POST", "/healthz").status, 405);
  EXPECT_EQ(Http(http_port_, "POST", "/healthz").headers["allow"], "GET");
}

TEST_F(HttpTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Start();
  int fd = ConnectTo(http_port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd,
                      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /api/summary HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string raw = ReadAll(fd);
  ::close(fd);
  size_t count = 0;
  for (size_t pos = 0; (pos = raw.find("HTTP/1.1 200 OK", pos)) != std::string::npos; ++pos)
    ++count;
  EXPECT_EQ(count, 3u) << raw;
}

TEST_F(HttpTest, MetricsReflectWorkAndParse) {
  Start();
  LoadSample();
  Call(c(), "count_work_units", A({B("ws")}));
  EXPECT_FALSE(c().Call("no_such_method_at_all").ok());  // an error reply, counted as "unknown"
  HttpResult r = Get(http_port_, "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  Exposition e = ParseExposition(r.body);
  for (const auto& err : e.errors) ADD_FAILURE() << err;
  auto at = [&](const std::string& series) -> double {
    auto it = e.samples.find(series);
    if (it == e.samples.end()) {
      ADD_FAILURE() << "missing series " << series << "\n" << r.body;
      return -1;
    }
    return it->second;
  };
  EXPECT_EQ(at(R"(coordinated_work_units{work_spec="ws",status="available"})"), 1);
  EXPECT_EQ(at(R"(coordinated_work_units{work_spec="ws",status="pending"})"), 0);
  EXPECT_EQ(at(R"(coordinated_work_units{work_spec="ws",status="finished"})"), 1);
  EXPECT_EQ(at(R"(coordinated_work_units{work_spec="ws",status="failed"})"), 1);
  EXPECT_EQ(at(R"(coordinated_work_spec_paused{work_spec="ws"})"), 0);
  EXPECT_EQ(at("coordinated_work_specs"), 1);
  EXPECT_EQ(at("coordinated_work_units_created_total"), 3);
  EXPECT_EQ(at("coordinated_work_units_granted_total"), 2);
  EXPECT_EQ(at("coordinated_work_units_finished_total"), 1);
  EXPECT_EQ(at("coordinated_work_units_failed_total"), 1);
  EXPECT_EQ(at("coordinated_work_units_retried_total"), 0);
  EXPECT_EQ(at("coordinated_work_units_lease_expired_total"), 0);
  EXPECT_EQ(at("coordinated_leases_active"), 0);
  EXPECT_EQ(at("coordinated_workers_active"), 1);
  EXPECT_EQ(at("coordinated_ready"), 1);
  EXPECT_EQ(at(R"(coordinated_mode{mode="RUN"})"), 1);
  EXPECT_EQ(at(R"(coordinated_rpc_requests_total{method="add_work_units",code="ok"})"), 1);
  EXPECT_EQ(at(R"(coordinated_rpc_requests_total{method="update_work_unit",code="ok"})"), 2);
  EXPECT_EQ(at(R"(coordinated_rpc_requests_total{method="unknown",code="error"})"), 1);
  EXPECT_EQ(at(R"(coordinated_rpc_request_duration_seconds_count{method="update_work_unit"})"), 2);
  EXPECT_EQ(
      at(R"(coordinated_rpc_request_duration_seconds_bucket{method="update_work_unit",le="+Inf"})"),
      2);
  EXPECT_GT(at(R"(coordinated_rpc_request_duration_seconds_sum{method="update_work_unit"})"), 0);
  EXPECT_EQ(at("coordinated_rpc_connections"), 1);
  EXPECT_GE(at("coordinated_rpc_connections_total"), 1);
  EXPECT_GT(at("coordinated_storage_syncs_total"), 0);
  EXPECT_GE(at("coordinated_storage_sync_seconds_total"), 0);
  EXPECT_GE(at("coordinated_storage_bytes"), 0);
  EXPECT_GT(at("coordinated_commit_groups_total"), 0);
  // Every request above went through the sequencer; each took some time to apply and to sync.
  EXPECT_GE(at("coordinated_sequenced_requests_total"), 4);
  EXPECT_GT(at(R"(coordinated_sequencer_stage_seconds_total{stage="apply"})"), 0);
  EXPECT_GT(at(R"(coordinated_sequencer_stage_seconds_total{stage="sync"})"), 0);
  for (const char* stage : {"queue", "commit_wait", "handoff"}) {
    EXPECT_GE(
        at(std::string(R"(coordinated_sequencer_stage_seconds_total{stage=")") + stage + "\"}"), 0)
        << stage;
  }
  EXPECT_GT(at("process_resident_memory_bytes"), 1e6);
  EXPECT_GT(at("process_open_fds"), 3);
  EXPECT_GT(at("process_max_fds"), 0);
  EXPECT_GT(at("process_threads"), 1);
  EXPECT_GE(at("process_cpu_seconds_total"), 0);
  EXPECT_GT(at("process_start_time_seconds"), 1.5e9);
  EXPECT_EQ(e.types["coordinated_rpc_request_duration_seconds"], "histogram");
  EXPECT_EQ(e.types["coordinated_work_units_created_total"], "counter");
  // The histogram's buckets are cumulative and end at its count.
  std::vector<double> buckets;
  for (const char* le : {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
                         "0.05", "0.1", "0.25", "0.5", "1", "2.5", "10", "+Inf"}) {
    buckets.push_back(
        at(std::string(
               R"(coordinated_rpc_request_duration_seconds_bucket{method="add_work_units",le=")") +
           le + "\"}"));
  }
  for (size_t i = 1; i < buckets.size(); ++i) EXPECT_LE(buckets[i - 1], buckets[i]);
  EXPECT_EQ(buckets.back(), 1);
  // No unit keys or worker ids as label values.
  EXPECT_EQ(r.body.find("\"u1\""), std::string::npos);
  EXPECT_EQ(r.body.find("\"w1\""), std::string::npos);
  EXPECT_NE(r.body.find(R"(coordinated_build_info{version=")"), std::string::npos);
}

// How long the oldest available unit of each spec has waited: metric, /api/summary (the
// largest), /api/specs (per spec). The daemon's clock is moved, so the ages are exact up to the
// real time the test itself takes.
TEST_F(HttpTest, OldestAvailableAgeInMetricsAndApi) {
  Start();
  Call(c(), "set_work_spec", A({M({{"name", B("old")}})}));
  Call(c(), "set_work_spec", A({M({{"name", B("idle")}})}));
  Call(c(), "add_work_units", A({B("old"), A({Tup({B("a"), M({})}), Tup({B("b"), M({})})})}));
  AdvanceClock(c(), 120);
  auto metric = [&](const std::string& spec) {
    HttpResult r = Get(http_port_, "/metrics");
    EXPECT_EQ(r.status, 200);
    Exposition e = ParseExposition(r.body);
    for (const auto& err : e.errors) ADD_FAILURE() << err;
    auto it =
        e.samples.find("coordinated_oldest_available_age_seconds{work_spec=\"" + spec + "\"}");
    if (it == e.samples.end()) {
      ADD_FAILURE() << "no age series for " << spec << "\n" << r.body;
      return -1.0;
    }
    return it->second;
  };
  EXPECT_GE(metric("old"), 120);
  EXPECT_LT(metric("old"), 150);
  EXPECT_EQ(metric("idle"), 0) << "nothing waiting";
  json s = GetJson(http_port_, "/api/summary");
  EXPECT_GE(s["oldest_available_age_seconds"].get<double>(), 120);
  json specs = GetJson(http_port_, "/api/specs");
  ASSERT_EQ(specs["work_specs"].size(), 2u);
  for (const json& ws : specs["work_specs"]) {
    if (ws["name"] == "old") {
      EXPECT_GE(ws["oldest_available_age_seconds"].get<double>(), 120);
    } else {
      EXPECT_EQ(ws["oldest_available_age_seconds"].get<double>(), 0);
    }
  }
  // Both units handed out: nothing waits any more.
  Call(c(), "get_work", A({B("w"), M({{"max_jobs", I(2)}})}));
  EXPECT_EQ(metric("old"), 0);
  EXPECT_EQ(GetJson(http_port_, "/api/summary")["oldest_available_age_seconds"].get<double>(), 0);
}

TEST_F(HttpTest, MetricsEscapeOddSpecNames) {
  Start();
  const std::string odd = std::string("we\"ird\\name\n\xff", 13);
  Call(c(), "set_work_spec", A({M({{"name", B(odd)}})}));
  HttpResult r = Get(http_port_, "/metrics");
  ASSERT_EQ(r.status, 200);
  Exposition e = ParseExposition(r.body);
  for (const auto& err : e.errors) ADD_FAILURE() << err;
  EXPECT_EQ(e.samples.count(R"(coordinated_work_spec_paused{work_spec="we\"ird\\name\n\\xff"})"),
            1u)
      << r.body;
}

TEST_F(HttpTest, ApiSummarySpecsAndUnits) {
  Start();
  LoadSample();
  json s = GetJson(http_port_, "/api/summary");
  EXPECT_EQ(s["version"], "0.1.0");
  EXPECT_EQ(s["work_specs"], 1);
  EXPECT_EQ(s["units"]["finished"], 1);
  EXPECT_EQ(s["units"]["failed"], 1);
  EXPECT_EQ(s["units"]["available"], 1);
  EXPECT_EQ(s["workers_active"], 1);
  EXPECT_EQ(s["counters"]["created"], 3);
  EXPECT_EQ(s["allow_actions"], false);
  EXPECT_EQ(s["mode"], "RUN");
  EXPECT_TRUE(s["ready"].get<bool>());
  EXPECT_GE(s["uptime_seconds"].get<double>(), 0);
  EXPECT_GT(s["storage"]["syncs"].get<int>(), 0);

  json specs = GetJson(http_port_, "/api/specs");
  ASSERT_EQ(specs["work_specs"].size(), 1u);
  const json& ws = specs["work_specs"][0];
  EXPECT_EQ(ws["name"], "ws");
  EXPECT_EQ(ws["name_url"], "ws");
  EXPECT_EQ(ws["paused"], false);
  EXPECT_EQ(
      ws["counts"],
      json({{"available", 1}, {"blocked", 0}, {"pending", 0}, {"finished", 1}, {"failed", 1}}));

  json one = GetJson(http_port_, "/api/specs/ws");
  EXPECT_EQ(one["definition"]["name"], "ws");
  EXPECT_EQ(one["meta"]["status"], 1);

  json units = GetJson(http_port_, "/api/specs/ws/units");
  ASSERT_EQ(units["units"].size(), 3u);
  EXPECT_EQ(units["units"][0]["key"], "u1");
  EXPECT_EQ(units["units"][0]["status_name"], "finished");
  EXPECT_EQ(units["units"][1]["traceback"], "Traceback: boom \"x\"");
  EXPECT_EQ(units["units"][2]["status"], 1);
  EXPECT_TRUE(units["next"].is_null());

  json failed = GetJson(http_port_, "/api/specs/ws/units?status=failed");
  ASSERT_EQ(failed["units"].size(), 1u);
  EXPECT_EQ(failed["units"][0]["key"], "u2");
  EXPECT_EQ(GetJson(http_port_, "/api/specs/ws/units?status=5")["units"], failed["units"]);

  json unit = GetJson(http_port_, "/api/specs/ws/units/u1");
  EXPECT_EQ(unit["key"], "u1");
  EXPECT_EQ(unit["status"], 4);
  EXPECT_EQ(unit["data"], json({{"n", 1}}));
  EXPECT_EQ(unit["worker_id"], "w1");
  ASSERT_EQ(unit["attempt_history"].size(), 1u);
  EXPECT_EQ(unit["attempt_history"][0]["worker_id"], "w1");
  EXPECT_EQ(unit["attempt_history"][0]["status"], "finished");

  json failures = GetJson(http_port_, "/api/failures?limit=20");
  ASSERT_EQ(failures["failures"].size(), 1u);
  EXPECT_EQ(failures["failures"][0]["work_spec"], "ws");
  EXPECT_EQ(failures["failures"][0]["key"], "u2");
  EXPECT_EQ(failures["failures"][0]["traceback"], "Traceback: boom \"x\"");
  EXPECT_GT(failures["failures"][0]["completed"].get<double>(), 1.5e9);
}

TEST_F(HttpTest, ApiUnitPaging) {
  Start();
  Call(c(), "set_work_spec", A({M({{"name", B("p")}})}));
  std::vector<Value> items;
  for (int i = 0; i < 7; ++i) {
    // Priorities differ, so the status index order (priority first) is not the key order.
    items.push_back(Tup({B("k" + std::to_string(i)), M({}), M({{"priority", I(i % 3)}})}));
  }
  Call(c(), "add_work_units", A({B("p"), A(items)}));
  auto collect = [&](const std::string& base) {
    std::vector<std::string> keys;
    std::string target = base;
    for (int page = 0; page < 10; ++page) {
      json j = GetJson(http_port_, target);
      EXPECT_LE(j["units"].size(), 3u);
      for (const auto& u : j["units"]) keys.push_back(u["key"]);
      if (j["next"].is_null()) break;
      target = base + "&start=" + j["next"].get<std::string>();
    }
    return keys;
  };
  EXPECT_EQ(collect("/api/specs/p/units?limit=3"),
            (std::vector<std::string>{"k0", "k1", "k2", "k3", "k4", "k5", "k6"}));
  // Available units by priority (2, 1, 0), then key, as get_work_units orders them.
  EXPECT_EQ(collect("/api/specs/p/units?status=available&limit=3"),
            (std::vector<std::string>{"k2", "k5", "k1", "k4", "k0", "k3", "k6"}));
  // A key start without a status is inclusive.
  json from = GetJson(http_port_, "/api/specs/p/units?start=k4");
  ASSERT_EQ(from["units"].size(), 3u);
  EXPECT_EQ(from["units"][0]["key"], "k4");
  GetJson(http_port_, "/api/specs/p/units?status=available&start=zzz", 400);
  GetJson(http_port_, "/api/specs/p/units?limit=0", 400);
  GetJson(http_port_, "/api/specs/p/units?limit=abc", 400);
  GetJson(http_port_, "/api/specs/p/units?status=bogus", 400);
}

TEST_F(HttpTest, ApiNamesAndKeysArePercentEncodedBytes) {
  Start();
  const std::string name = std::string("sp/ace \xff", 8);
  const std::string key = std::string("a/b?c#\x80", 7);
  Call(c(), "set_work_spec", A({M({{"name", B(name)}})}));
  Call(c(), "add_work_units", A({B(name), A({Tup({B(key), M({{"x", B("\xfe")}})})})}));
  json specs = GetJson(http_port_, "/api/specs");
  ASSERT_EQ(specs["work_specs"].size(), 1u);
  EXPECT_EQ(specs["work_specs"][0]["name"], "sp/ace \\xff");
  const std::string name_url = specs["work_specs"][0]["name_url"];
  EXPECT_EQ(name_url, "sp%2Face%20%FF");
  json units = GetJson(http_port_, "/api/specs/" + name_url + "/units");
  ASSERT_EQ(units["units"].size(), 1u);
  EXPECT_EQ(units["units"][0]["key"], "a/b?c#\\x80");
  const std::string key_url = units["units"][0]["key_url"];
  EXPECT_EQ(key_url, "a%2Fb%3Fc%23%80");
  json unit = GetJson(http_port_, "/api/specs/" + name_url + "/units/" + key_url);
  EXPECT_EQ(unit["data"]["x"], "\\xfe");
  // A text key with non-ASCII UTF-8 shows as is.
  Call(c(), "add_work_units", A({B(name), A({Tup({T("ключ"), M({})})})}));
  json again = GetJson(http_port_, "/api/specs/" + name_url + "/units/%D0%BA%D0%BB%D1%8E%D1%87");
  EXPECT_EQ(again["key"], "ключ");
}

TEST_F(HttpTest, ApiWorkersAndLocks) {
  Start();
  Call(c(), "set_work_spec", A({M({{"name", B("ws")}})}));
  Call(c(), "add_work_units", A({B("ws"), A({Tup({B("a"), M({})}), Tup({B("b"), M({})})})}));
  Call(c(), "worker_heartbeat", A({B("w1"), B("RUN"), I(600), M({{"pid", I(42)}}), Null()}));
  Call(c(), "worker_heartbeat", A({B("w2"), B("IDLE"), I(600), M({}), Null()}));
  Call(c(), "get_work", A({B("w1"), M({{"lease_time", I(300)}})}));
  Call(c(), "lock", A({B("w1"), I(60), A({A({B("ns"), B("res")})})}));
  json w = GetJson(http_port_, "/api/workers");
  ASSERT_EQ(w["workers"].size(), 2u);
  EXPECT_EQ(w["total"], 2);
  const json& w1 = w["workers"][0];
  EXPECT_EQ(w1["id"], "w1");
  EXPECT_EQ(w1["mode"], "RUN");
  EXPECT_EQ(w1["data"]["pid"], 42);
  ASSERT_EQ(w1["leases"].size(), 1u);
  EXPECT_EQ(w1["leases"][0]["work_spec"], "ws");
  EXPECT_EQ(w1["leases"][0]["key"], "a");
  EXPECT_GT(w1["leases"][0]["expiration"].get<double>(), w1["last_heartbeat"].get<double>());
  EXPECT_EQ(w["workers"][1]["leases"].size(), 0u);
  json locks = GetJson(http_port_, "/api/locks");
  ASSERT_EQ(locks["locks"].size(), 1u);
  EXPECT_EQ(locks["locks"][0]["owner"], "w1");
  EXPECT_EQ(locks["locks"][0]["path"], json({"ns", "res"}));
  json s = GetJson(http_port_, "/api/summary");
  EXPECT_EQ(s["leases_active"], 1);
}

TEST_F(HttpTest, ActionsRefusedByDefault) {
  Start();
  LoadSample();
  const std::vector<std::string> hdr = {"X-Requested-By: test"};
  for (const char* target : {"/api/specs/ws/pause", "/api/specs/ws/resume",
                             "/api/specs/ws/units/u2/retry", "/api/specs/ws/retry_failed"}) {
    HttpResult r = Http(http_port_, "POST", target, hdr);
    EXPECT_EQ(r.status, 403) << target << ": " << r.body;
  }
  EXPECT_EQ(GetJson(http_port_, "/api/specs/ws")["paused"], false);
  EXPECT_EQ(GetJson(http_port_, "/api/specs/ws/units/u2")["status"], 5);
  EXPECT_EQ(GetJson(http_port_, "/api/summary")["allow_actions"], false);
}

TEST_F(HttpTest, ActionsWorkWhenEnabled) {
  Start({"--set", "http.allow_actions=true"});
  LoadSample();
  EXPECT_EQ(GetJson(http_port_, "/api/summary")["allow_actions"], true);
  // A cross-site form cannot add headers: without X-Requested-By the action is refused.
  EXPECT_EQ(Http(http_port_, "POST", "/api/specs/ws/pause").status, 403);
  EXPECT_EQ(Http(http_port_, "GET", "/api/specs/ws/pause").status, 405);
  const std::vector<std::string> hdr = {"X-Requested-By: test"};
  HttpResult r = Http(http_port_, "POST", "/api/specs/ws/pause", hdr);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(GetJson(http_port_, "/api/specs/ws")["paused"], true);
  Value meta = Call(c(), "get_work_spec_meta", A({B("ws")}));
  ASSERT_TRUE(meta.is_tuple());
  EXPECT_EQ(*meta.items()[0].FindKey("status"), I(2)) << meta.ToDiagnostic();
  // Paused: no work handed out.
  Value none = Call(c(), "get_work", A({B("w1"), M({})}));
  EXPECT_TRUE(none.items()[0].items()[0].is_null()) << none.ToDiagnostic();
  EXPECT_EQ(Http(http_port_, "POST", "/api/specs/ws/resume", hdr).status, 200);
  EXPECT_EQ(GetJson(http_port_, "/api/specs/ws")["paused"], false);

  // Retry one failed unit; an available one cannot be retried.
  r = Http(http_port_, "POST", "/api/specs/ws/units/u2/retry", hdr);
  EXPECT_EQ(r.status, 200) << r.body;
  Value st = Call(c(), "get_work_unit_status", A({B("ws"), A({B("u2")})}));
  EXPECT_EQ(*st.items()[0].items()[0].FindKey("status"), I(1)) << st.ToDiagnostic();
  EXPECT_EQ(Http(http_port_, "POST", "/api/specs/ws/units/u3/retry", hdr).status, 409);
  EXPECT_EQ(Http(http_port_, "POST", "/api/specs/ws/units/nope/retry", hdr).status, 404);
  EXPECT_EQ(Http(http_port_, "POST", "/api/specs/nope/pause", hdr).status, 404);

  // retry_failed sends every failed unit back.
  Call(c(), "update_work_unit", A({B("ws"), B("u1"), M({{"status", I(5)}})}));  // FINISHED stays
  Call(c(), "update_work_unit", A({B("ws"), B("u3"), M({{"status", I(5)}})}));
  r = Http(http_port_, "POST", "/api/specs/ws/retry_failed", hdr);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["retried"], 1);
  EXPECT_EQ(j["more"], false);
  EXPECT_EQ(GetJson(http_port_, "/api/specs/ws")["counts"]["failed"], 0);
  // Actions are metered like everything else.
  EXPECT_NE(Get(http_port_, "/metrics").body.find("coordinated_work_units_retried_total 2"),
            std::string::npos);
}

TEST_F(HttpTest, BadUrlsAnd404s) {
  Start();
  LoadSample();
  EXPECT_EQ(Get(http_port_, "/nope").status, 404);
  EXPECT_EQ(Get(http_port_, "/healthz/extra").status, 404);
  GetJson(http_port_, "/api", 404);
  GetJson(http_port_, "/api/nope", 404);
  GetJson(http_port_, "/api/specs/nope", 404);
  GetJson(http_port_, "/api/specs/nope/units", 404);
  GetJson(http_port_, "/api/specs/ws/units/nope", 404);
  GetJson(http_port_, "/api/specs/ws/bogus", 404);
  GetJson(http_port_, "/api/specs/ws/units/u1/bogus", 404);
  EXPECT_EQ(Get(http_port_, "/api/specs/%zz").status, 400);
  EXPECT_EQ(Get(http_port_, "/api/specs/ws/units?limit=%4").status, 400);
  EXPECT_EQ(Get(http_port_, "no-slash").status, 400);
  EXPECT_EQ(Http(http_port_, "DELETE", "/api/specs").status, 405);
  EXPECT_EQ(Http(http_port_, "PUT", "/metrics").status, 405);
  // The status page.
  HttpResult page = Get(http_port_, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<title>coordinated status</title>"), std::string::npos);
  EXPECT_EQ(page.body.find("http://"), page.body.find("http://www.w3.org/2000/svg"))
      << "the page must not load external assets";
  EXPECT_NE(page.headers["content-security-policy"].find("default-src 'none'"), std::string::npos);
}

TEST_F(HttpTest, MalformedRequestsDoNotHurtTheDaemon) {
  Start();
  auto raw = [&](const std::string& bytes) {
    int fd = ConnectTo(http_port_);
    EXPECT_GE(fd, 0);
    SendAll(fd, bytes);
    std::string out = ReadAll(fd, 5000);
    ::close(fd);
    return ParseResponse(out);
  };
  EXPECT_EQ(raw("GARBAGE\r\n\r\n").status, 400);
  EXPECT_EQ(raw("GET / HTTP/9.9\r\n\r\n").status, 400);
  EXPECT_EQ(raw("GET /healthz HTTP/1.1\r\nBad Header Line\r\n\r\n").status, 400);
  EXPECT_EQ(raw("POST /api/summary HTTP/1.1\r\nContent-Length: -5\r\n\r\n").status, 400);
  EXPECT_EQ(
      raw("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n").status,
      431);
  EXPECT_EQ(raw("POST /api/specs/x/pause HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n" +
                std::string(100 * 1024, 'b'))
                .status,
            413);
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary += static_cast<char>((i * 131) & 0xff);
  raw(binary);
  // A request cut off midway, and a connection opened and closed at once.
  {
    int fd = ConnectTo(http_port_);
    SendAll(fd, "GET /api/summ");
    ::close(fd);
    fd = ConnectTo(http_port_);
    ::close(fd);
  }
  // Many connections at once.
  std::vector<int> fds;
  for (int i = 0; i < 50; ++i) fds.push_back(ConnectTo(http_port_));
  for (int fd : fds) SendAll(fd, "GET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n");
  for (int fd : fds) {
    EXPECT_EQ(ParseResponse(ReadAll(fd, 5000)).status, 200);
    ::close(fd);
  }
  EXPECT_EQ(Get(http_port_, "/healthz").status, 200);
  EXPECT_TRUE(c().Call("now").ok());
  EXPECT_TRUE(daemon_->running());
  EXPECT_EQ(daemon_->Stop(), 0) << daemon_->Log();
}

TEST_F(HttpTest, NoHttpFlag) {
  DaemonOptions o;
  o.extra_args = {"--no-http"};
  daemon_ = std::make_unique<Daemon>(dir_.path(), o);
  std::error_code ec;
  std::filesystem::remove(dir_.path() + ".ready.http", ec);
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->Log();
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + ".ready.http"));
  EXPECT_NE(daemon_->Log().find("http: off"), std::string::npos) << daemon_->Log();
  EXPECT_TRUE(daemon_->NewClient()->Call("now").ok());
}

TEST_F(HttpTest, ExplicitHttpPortIsUsed) {
  // Find a free port, then ask for it.
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(probe);
  Start({"--http-port", std::to_string(port), "--http-host", "127.0.0.1"});
  EXPECT_EQ(http_port_, port);
  EXPECT_EQ(Get(port, "/healthz").status, 200);
}

TEST_F(HttpTest, HttpPortInUseFailsStartup) {
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(probe, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len);
  DaemonOptions o;
  o.extra_args = {"--http-port", std::to_string(ntohs(addr.sin_port))};
  Daemon d(dir_.path(), o);
  Status s = d.Start();
  ::close(probe);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(d.Log().find("cannot listen for HTTP"), std::string::npos) << d.Log();
}

TEST_F(HttpTest, LogFileRotationSetupAndSighupReopen) {
  const std::string log = dir_.path() + "-daemon.log";
  Start({"--log-file", log, "--log-format", "json"});
  std::error_code ec;
  ASSERT_TRUE(std::filesystem::exists(log)) << daemon_->Log();
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  std::string first = slurp(log);
  EXPECT_NE(first.find("listening on"), std::string::npos) << first;
  // Every line is one JSON object.
  std::istringstream lines(first);
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line, nullptr, false);
    EXPECT_TRUE(j.is_object()) << line;
    if (j.is_object()) {
      EXPECT_TRUE(j.contains("msg") && j.contains("level") && j.contains("time")) << line;
    }
  }
  // An external rotation: move the file away, SIGHUP, the daemon writes a new file.
  const std::string rotated = log + ".old";
  std::filesystem::rename(log, rotated, ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(::kill(daemon_->pid(), SIGHUP), 0);
  bool reopened = false;
  for (int i = 0; i < 200 && !reopened; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    reopened = slurp(log).find("reopened log file") != std::string::npos;
  }
  EXPECT_TRUE(reopened) << slurp(rotated);
  EXPECT_TRUE(daemon_->running());
  EXPECT_EQ(daemon_->Stop(), 0);
  EXPECT_NE(slurp(log).find("stopped cleanly"), std::string::npos) << slurp(log);
  EXPECT_EQ(slurp(rotated).find("stopped cleanly"), std::string::npos);
  std::filesystem::remove(log, ec);
  std::filesystem::remove(rotated, ec);
}

TEST_F(HttpTest, LogFileRotatesBySize) {
  const std::string log = dir_.path() + "-rot.log";
  Start({"--log-file", log, "--set", "log.max_size_mb=1", "--set", "log.max_files=2", "--set",
         "http.allow_actions=true"});
  // Each retry through the HTTP API logs one info line naming the unit: 10 KB keys fill 1 MiB
  // quickly.
  Call(c(), "set_work_spec", A({M({{"name", B("ws")}})}));
  std::vector<Value> items;
  std::vector<std::string> keys;
  for (int i = 0; i < 150; ++i) {
    keys.push_back(std::to_string(1000 + i) + std::string(10000, 'k'));
    items.push_back(Tup({B(keys.back()), M({})}));
  }
  Call(c(), "add_work_units", A({B("ws"), A(items)}));
  for (const auto& k : keys) {
    Call(c(), "update_work_unit", A({B("ws"), B(k), M({{"status", I(5)}})}));
    EXPECT_EQ(
        Http(http_port_, "POST", "/api/specs/ws/units/" + k + "/retry", {"X-Requested-By: test"})
            .status,
        200);
  }
  EXPECT_EQ(daemon_->Stop(), 0);
  const std::string rotated = dir_.path() + "-rot.1.log";
  EXPECT_TRUE(std::filesystem::exists(rotated));
  EXPECT_LE(std::filesystem::file_size(log), 1u << 20);
  EXPECT_LE(std::filesystem::file_size(rotated), 1u << 20);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "-rot.3.log"));
  std::error_code ec;
  std::filesystem::remove(log, ec);
  std::filesystem::remove(rotated, ec);
  std::filesystem::remove(dir_.path() + "-rot.2.log", ec);
}

}  // namespace
}  // namespace coordtest
