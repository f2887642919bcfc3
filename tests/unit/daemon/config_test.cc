// Tests of the configuration registry, loader, environment overrides, renderer and client view.
#include "daemon/config.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace coordinated::daemon {
namespace {

using ::testing::HasSubstr;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "config_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    for (const auto& name : env_set_) unsetenv(name.c_str());
  }

  // Writes `text` to a file in the temp dir and returns its path.
  std::string Write(const std::string& text, const std::string& name = "c.yaml") {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // Loads `text`; on failure returns the status (and leaves *cfg as it was).
  Status Load(const std::string& text, Config* cfg) { return LoadConfigFile(Write(text), cfg); }

  void SetEnv(const std::string& name, const std::string& value) {
    setenv(name.c_str(), value.c_str(), 1);
    env_set_.insert(name);
  }

  std::string dir_;
  std::set<std::string> env_set_;
};

// Every registered field of two configs is equal.
void ExpectSameSettings(const Config& a, const Config& b) {
  for (const auto& row : ConfigRows()) {
    if (!row.get) continue;
    EXPECT_EQ(row.get(a), row.get(b))
        << row.key.path << ": " << row.get(a).ToDiagnostic() << " vs " << row.get(b).ToDiagnostic();
  }
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(ConfigTest, Defaults) {
  Config cfg;
  EXPECT_EQ(cfg.host, "127.0.0.1");
  EXPECT_EQ(cfg.port, 5932);
  EXPECT_EQ(cfg.threads, 2);
  EXPECT_TRUE(cfg.sync);
  EXPECT_EQ(cfg.max_frame_bytes, 64ull << 20);
  EXPECT_EQ(cfg.max_depth, 64u);
  EXPECT_FALSE(cfg.limit_completed_count.has_value());
  EXPECT_FALSE(cfg.limit_completed_age.has_value());
  EXPECT_EQ(cfg.log_level, "info");
  EXPECT_FALSE(cfg.test_hooks);
  EXPECT_EQ(cfg.source, "defaults");
  EXPECT_TRUE(cfg.file_tree.is_null());
}

TEST_F(ConfigTest, PythonLayoutLoads) {
  Config cfg;
  std::string path = Write("coordinate:\n  server:\n    host: 0.0.0.0\n    port: 7000\n");
  ASSERT_TRUE(LoadConfigFile(path, &cfg).ok());
  EXPECT_EQ(cfg.host, "0.0.0.0");
  EXPECT_EQ(cfg.port, 7000);
  EXPECT_EQ(cfg.threads, 2);
  EXPECT_EQ(cfg.source, path);
  Value server = MapOf({{"host", Value::Bytes("0.0.0.0")}, {"port", Value::Int(7000)}});
  EXPECT_EQ(cfg.file_tree, MapOf({{"coordinate", MapOf({{"server", server}})}}))
      << cfg.file_tree.ToDiagnostic();
}

TEST_F(ConfigTest, EveryKeyLoads) {
  Config cfg;
  Status st = Load(R"(
coordinate:
  server: {host: "::1", port: 0, threads: 8}
  storage: {data_dir: /var/lib/coordinated, sync: no}
  limits:
    max_frame_bytes: 1_048_576
    max_depth: 32
    max_items: 1000
    max_connections: 10
    max_outstanding: 4
    idle_timeout_seconds: 0
    read_timeout_seconds: 2.5
    max_name_bytes: 100
    max_key_bytes: 200
  limit_completed_count: 0
  limit_completed_age: 86400
  archive_period_seconds: 1.5
  log: {level: debug, format: json}
  testing: {hooks: true, ready_file: /tmp/ready}
)",
                   &cfg);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(cfg.host, "::1");
  EXPECT_EQ(cfg.port, 0);
  EXPECT_EQ(cfg.threads, 8);
  EXPECT_EQ(cfg.data_dir, "/var/lib/coordinated");
  EXPECT_FALSE(cfg.sync);
  EXPECT_EQ(cfg.max_frame_bytes, 1048576u);
  EXPECT_EQ(cfg.max_depth, 32u);
  EXPECT_EQ(cfg.max_items, 1000u);
  EXPECT_EQ(cfg.max_connections, 10u);
  EXPECT_EQ(cfg.max_outstanding, 4u);
  EXPECT_EQ(cfg.idle_timeout_seconds, 0);
  EXPECT_EQ(cfg.read_timeout_seconds, 2.5);
  EXPECT_EQ(cfg.max_name_bytes, 100u);
  EXPECT_EQ(cfg.max_key_bytes, 200u);
  EXPECT_EQ(cfg.limit_completed_count, 0);
  EXPECT_EQ(cfg.limit_completed_age, 86400.0);
  EXPECT_EQ(cfg.archive_period_seconds, 1.5);
  EXPECT_EQ(cfg.log_level, "debug");
  EXPECT_EQ(cfg.log_format, "json");
  EXPECT_TRUE(cfg.test_hooks);
  EXPECT_EQ(cfg.ready_file, "/tmp/ready");
}

TEST_F(ConfigTest, EmptyFileAndEmptySectionsKeepDefaults) {
  Config cfg;
  ASSERT_TRUE(Load("# only a comment\n", &cfg).ok());
  ExpectSameSettings(cfg, Config{});
  EXPECT_TRUE(cfg.file_tree.is_map());
  EXPECT_EQ(cfg.file_tree.map_size(), 0u);
  ASSERT_TRUE(Load("coordinate:\n  server:\nother: 1\n", &cfg).ok());
  ExpectSameSettings(cfg, Config{});
}

TEST_F(ConfigTest, LegacyKeysAcceptedAndIgnored) {
  Config cfg;
  Status st = Load(R"(
coordinate:
  address: "localhost:5932"
  addresses: ["a:5932", "b:5932"]
  retries: 5
  base_retry_seconds: 0.5
  default_lifetime: 900
  namespace: ns
  snapshot_path_format: /tmp/snap-%Y
  snapshot_period_seconds: 3600
  delete_snapshots_beyond: 5
  do_recover: true
  server:
    port: 7001
    modules:
      - {module: coordinate.job_server, class: JobQueue}
  rpclog: true
  fork_worker:
    num_workers: 8
    heartbeat_interval: 15
    nested: {anything: [1, 2, {deeper: yes}]}
  registry_addresses: [r1]
  app_name: myapp
)",
                   &cfg);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(cfg.port, 7001);
  Config expected;
  expected.port = 7001;
  ExpectSameSettings(cfg, expected);
  // Legacy keys are still part of the served tree.
  const Value* coord = cfg.file_tree.FindKey("coordinate");
  ASSERT_NE(coord, nullptr);
  ASSERT_NE(coord->FindKey("fork_worker"), nullptr);
  EXPECT_EQ(*coord->FindKey("retries"), Value::Int(5));
}

TEST_F(ConfigTest, UnknownKeyNamesKeyAndLine) {
  Config cfg;
  std::string path = Write("coordinate:\n  server:\n    host: x\n    bar: 1\n");
  Status st = LoadConfigFile(path, &cfg);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_THAT(st.message(),
              HasSubstr("unknown config key 'coordinate.server.bar' at " + path + ":4"));

  path = Write("other: 1\ncoordinate:\n  foo:\n    bar: 1\n", "d.yaml");
  st = LoadConfigFile(path, &cfg);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "unknown config key 'coordinate.foo.bar' at " + path + ":4");

  st = Load("coordinate:\n  sever_port: 1\n", &cfg);
  EXPECT_THAT(st.message(), HasSubstr("'coordinate.sever_port' at"));
  EXPECT_THAT(st.message(), HasSubstr(":2"));
  // A legacy key below a real section is only legacy at its exact path.
  st = Load("coordinate:\n  limits:\n    modules: 1\n", &cfg);
  EXPECT_THAT(st.message(), HasSubstr("'coordinate.limits.modules'"));
  // Nothing was applied by the failed loads.
  ExpectSameSettings(cfg, Config{});
  EXPECT_EQ(cfg.source, "defaults");
}

TEST_F(ConfigTest, WrongTypeNamesKeyLineAndType) {
  Config cfg;
  std::string path = Write("coordinate:\n  server:\n    port: abc\n");
  Status st = LoadConfigFile(path, &cfg);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "config key 'coordinate.server.port' at " + path +
                              ":3: expected an integer, got string 'abc'");

  st = Load("coordinate:\n  storage:\n    sync: maybe\n", &cfg);
  EXPECT_THAT(st.message(), HasSubstr("'coordinate.storage.sync'"));
  EXPECT_THAT(st.message(), HasSubstr("expected a boolean"));

  st = Load("coordinate:\n  server:\n    host: [a, b]\n", &cfg);
  EXPECT_THAT(st.message(), HasSubstr("expected a string, got a sequence"));

  st = Load("coordinate:\n  limits:\n    read_timeout_seconds: soon\n", &cfg);
  EXPECT_THAT(st.message(), HasSubstr("expected a number"));

  st = Load("coordinate:\n  server: 5932\n", &cfg);
  EXPECT_THAT(st.message(), HasSubstr("'coordinate.server' at"));
  EXPECT_THAT(st.message(), HasSubstr("expected a map"));

  st = Load("coordinate: [1, 2]\n", &cfg);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);

  st = Load("- just\n- a list\n", &cfg);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);

  // A quoted number is a string, as in PyYAML.
  st = Load("coordinate:\n  server:\n    port: \"7000\"\n", &cfg);
  EXPECT_THAT(st.message(), HasSubstr("got string '7000'"));
}

TEST_F(ConfigTest, OutOfRangeValues) {
  struct Case {
    const char* yaml;
    const char* key;
  };
  const Case cases[] = {
      {"server: {port: 70000}", "server.port"},
      {"server: {port: -1}", "server.port"},
      {"server: {threads: 0}", "server.threads"},
      {"server: {host: ''}", "server.host"},
      {"storage: {data_dir: ''}", "storage.data_dir"},
      {"limits: {max_frame_bytes: 0}", "limits.max_frame_bytes"},
      {"limits: {max_depth: 0}", "limits.max_depth"},
      {"limits: {max_depth: 100000}", "limits.max_depth"},
      {"limits: {max_items: 0}", "limits.max_items"},
      {"limits: {max_connections: 0}", "limits.max_connections"},
      {"limits: {max_outstanding: -5}", "limits.max_outstanding"},
      {"limits: {max_name_bytes: 0}", "limits.max_name_bytes"},
      {"limits: {max_key_bytes: 18446744073709551615}", "limits.max_key_bytes"},
      {"limits: {idle_timeout_seconds: -1}", "limits.idle_timeout_seconds"},
      {"limits: {read_timeout_seconds: 0}", "limits.read_timeout_seconds"},
      {"limits: {read_timeout_seconds: .inf}", "limits.read_timeout_seconds"},
      {"limit_completed_count: -1", "limit_completed_count"},
      {"limit_completed_age: -0.5", "limit_completed_age"},
      {"archive_period_seconds: 0", "archive_period_seconds"},
      {"log: {level: verbose}", "log.level"},
      {"log: {format: xml}", "log.format"},
  };
  for (const auto& c : cases) {
    Config cfg;
    Status st = Load(std::string("coordinate:\n  ") + c.yaml + "\n", &cfg);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << c.yaml;
    EXPECT_THAT(st.message(), HasSubstr(std::string("'coordinate.") + c.key + "' at ")) << c.yaml;
  }
  Config cfg;
  Status st = Load("coordinate:\n  server:\n    port: 65536\n", &cfg);
  EXPECT_THAT(st.message(), HasSubstr("must be in 0..65535, got 65536"));
  st = Load("coordinate:\n  log:\n    level: verbose\n", &cfg);
  EXPECT_THAT(st.message(), HasSubstr("trace, debug, info, warn, error, off"));
  // The edges are accepted.
  ASSERT_TRUE(Load("coordinate: {server: {port: 65535}, limit_completed_count: ~}\n", &cfg).ok());
  EXPECT_EQ(cfg.port, 65535);
}

TEST_F(ConfigTest, FileErrors) {
  Config cfg;
  std::string missing = dir_ + "/nope.yaml";
  Status st = LoadConfigFile(missing, &cfg);
  EXPECT_EQ(st.code(), Code::kIOError);
  EXPECT_THAT(st.message(), HasSubstr(missing));

  st = LoadConfigFile(dir_, &cfg);
  EXPECT_EQ(st.code(), Code::kIOError);

  std::string bad = Write("coordinate:\n  server: {host: x\n  port: [\n", "bad.yaml");
  st = LoadConfigFile(bad, &cfg);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("invalid YAML in " + bad + ":"));

  st = Load("coordinate:\n  server:\n    port: 1\n    port: 2\n", &cfg);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("duplicate config key 'coordinate.server.port'"));
  EXPECT_EQ(cfg.source, "defaults");
}

TEST_F(ConfigTest, OtherSectionsKeptAndServed) {
  Config cfg;
  ASSERT_TRUE(Load(R"(
kvlayer:
  app_name: diffeo
  storage_addresses: [redis1, redis2]
  settings: {retries: 3, ratio: 0.25, flag: on, nothing: ~, quoted: "12", unicode: "héllo"}
coordinate:
  server: {host: 0.0.0.0, port: 7000}
  fork_worker: {num_workers: 4}
logging:
  root: {level: INFO}
)",
                   &cfg)
                  .ok());
  ASSERT_TRUE(cfg.file_tree.is_map());
  ASSERT_EQ(cfg.file_tree.map_size(), 3u);
  // Order is kept, keys are byte strings.
  EXPECT_EQ(cfg.file_tree.key_at(0), Value::Bytes("kvlayer"));
  EXPECT_EQ(cfg.file_tree.key_at(1), Value::Bytes("coordinate"));
  EXPECT_EQ(cfg.file_tree.key_at(2), Value::Bytes("logging"));
  const Value* kv = cfg.file_tree.FindKey("kvlayer");
  ASSERT_NE(kv, nullptr);
  EXPECT_EQ(*kv->FindKey("storage_addresses"),
            Value::Array({Value::Bytes("redis1"), Value::Bytes("redis2")}));
  Value settings = MapOf({{"retries", Value::Int(3)},
                          {"ratio", Value::Double(0.25)},
                          {"flag", Value::Bool(true)},
                          {"nothing", Value::Null()},
                          {"quoted", Value::Bytes("12")},
                          {"unicode", Value::Text("h\xc3\xa9llo")}});
  EXPECT_EQ(*kv->FindKey("settings"), settings) << kv->FindKey("settings")->ToDiagnostic();

  // The client view overlays the effective host and port, e.g. from the environment.
  SetEnv("COORDINATED_SERVER_PORT", "7100");
  ASSERT_TRUE(ApplyEnvironment(&cfg).ok());
  Value view = ConfigForClients(cfg);
  ASSERT_EQ(view.map_size(), 3u);
  EXPECT_EQ(*view.FindKey("kvlayer"), *cfg.file_tree.FindKey("kvlayer"));
  EXPECT_EQ(*view.FindKey("logging"), *cfg.file_tree.FindKey("logging"));
  const Value* coord = view.FindKey("coordinate");
  ASSERT_NE(coord, nullptr);
  EXPECT_NE(coord->FindKey("fork_worker"), nullptr);
  EXPECT_EQ(*coord->FindKey("server"),
            MapOf({{"host", Value::Bytes("0.0.0.0")}, {"port", Value::Int(7100)}}));
}

TEST_F(ConfigTest, ClientViewWithoutFile) {
  Config cfg;
  cfg.port = 6000;
  Value server = MapOf({{"host", Value::Bytes("127.0.0.1")}, {"port", Value::Int(6000)}});
  EXPECT_EQ(ConfigForClients(cfg), MapOf({{"coordinate", MapOf({{"server", server}})}}));

  // A file without a coordinate section gets one.
  ASSERT_TRUE(Load("other: {a: 1}\n", &cfg).ok());
  Value view = ConfigForClients(cfg);
  ASSERT_EQ(view.map_size(), 2u);
  EXPECT_EQ(view.key_at(0), Value::Bytes("other"));
  EXPECT_EQ(*view.FindKey("coordinate"), MapOf({{"server", server}}));
}

TEST_F(ConfigTest, SecretsDropped) {
  Config cfg;
  ASSERT_TRUE(Load(R"(
db:
  user: me
  password: hunter2
  DB_PASSWORD_FILE: /x
  api_Token: abc
  nested:
    - {client_secret: s, keep: 1}
    - [ {tokens: 2, fine: 3} ]
coordinate:
  server: {port: 7000}
)",
                   &cfg)
                  .ok());
  Value expected_db = MapOf({
      {"user", Value::Bytes("me")},
      {"nested", Value::Array({MapOf({{"keep", Value::Int(1)}}),
                               Value::Array({MapOf({{"fine", Value::Int(3)}})})})},
  });
  EXPECT_EQ(*cfg.file_tree.FindKey("db"), expected_db)
      << cfg.file_tree.FindKey("db")->ToDiagnostic();
  EXPECT_EQ(*ConfigForClients(cfg).FindKey("db"), expected_db);
}

TEST_F(ConfigTest, ScalarResolution) {
  EXPECT_TRUE(ResolveYamlScalar("").is_null());
  EXPECT_TRUE(ResolveYamlScalar("~").is_null());
  EXPECT_TRUE(ResolveYamlScalar("NULL").is_null());
  for (const char* t : {"true", "True", "TRUE", "yes", "Yes", "on", "ON"}) {
    EXPECT_EQ(ResolveYamlScalar(t), Value::Bool(true)) << t;
  }
  for (const char* f : {"false", "no", "NO", "off", "Off"}) {
    EXPECT_EQ(ResolveYamlScalar(f), Value::Bool(false)) << f;
  }
  EXPECT_EQ(ResolveYamlScalar("42"), Value::Int(42));
  EXPECT_EQ(ResolveYamlScalar("-7"), Value::Int(-7));
  EXPECT_EQ(ResolveYamlScalar("+7"), Value::Int(7));
  EXPECT_EQ(ResolveYamlScalar("1_000"), Value::Int(1000));
  EXPECT_EQ(ResolveYamlScalar("0x1F"), Value::Int(31));
  EXPECT_EQ(ResolveYamlScalar("017"), Value::Int(15));
  EXPECT_EQ(ResolveYamlScalar("0o17"), Value::Int(15));
  EXPECT_EQ(ResolveYamlScalar("0b101"), Value::Int(5));
  EXPECT_EQ(ResolveYamlScalar("1:30"), Value::Int(90));
  EXPECT_EQ(ResolveYamlScalar("18446744073709551615"), Value::UInt(UINT64_MAX));
  EXPECT_EQ(ResolveYamlScalar("-18446744073709551615"), Value::NegIntArg(UINT64_MAX - 1));
  EXPECT_EQ(ResolveYamlScalar("18446744073709551616"), Value::Bytes("18446744073709551616"));
  EXPECT_EQ(ResolveYamlScalar("1.5"), Value::Double(1.5));
  EXPECT_EQ(ResolveYamlScalar("-.5"), Value::Double(-0.5));
  EXPECT_EQ(ResolveYamlScalar("1."), Value::Double(1.0));
  EXPECT_EQ(ResolveYamlScalar("1e3"), Value::Double(1000.0));
  EXPECT_EQ(ResolveYamlScalar("2.5E-1"), Value::Double(0.25));
  EXPECT_EQ(ResolveYamlScalar("-.inf"), Value::Double(-std::numeric_limits<double>::infinity()));
  EXPECT_TRUE(std::isnan(ResolveYamlScalar(".nan").as_double()));
  EXPECT_EQ(ResolveYamlScalar("08"), Value::Bytes("08"));
  EXPECT_EQ(ResolveYamlScalar("::1"), Value::Bytes("::1"));
  EXPECT_EQ(ResolveYamlScalar("1.2.3.4"), Value::Bytes("1.2.3.4"));
  EXPECT_EQ(ResolveYamlScalar("e5"), Value::Bytes("e5"));
  EXPECT_EQ(ResolveYamlScalar("abc"), Value::Bytes("abc"));
  EXPECT_EQ(ResolveYamlScalar("\xc3\xa9t\xc3\xa9"), Value::Text("\xc3\xa9t\xc3\xa9"));
}

TEST_F(ConfigTest, EnvironmentBeatsFile) {
  Config cfg;
  ASSERT_TRUE(Load("coordinate:\n  server: {host: 0.0.0.0, port: 7000}\n"
                   "  limit_completed_count: 10\n",
                   &cfg)
                  .ok());
  SetEnv("COORDINATED_SERVER_PORT", "7100");
  SetEnv("COORDINATED_STORAGE_DATA_DIR", "/data/dir with spaces");
  SetEnv("COORDINATED_STORAGE_SYNC", "off");
  SetEnv("COORDINATED_LIMITS_READ_TIMEOUT_SECONDS", "1.5");
  SetEnv("COORDINATED_LIMIT_COMPLETED_COUNT", "");  // empty unsets an optional
  SetEnv("COORDINATED_LIMIT_COMPLETED_AGE", "3600");
  SetEnv("COORDINATED_TESTING_READY_FILE", "123");  // strings are taken verbatim
  ASSERT_TRUE(ApplyEnvironment(&cfg).ok());
  EXPECT_EQ(cfg.host, "0.0.0.0");
  EXPECT_EQ(cfg.port, 7100);
  EXPECT_EQ(cfg.data_dir, "/data/dir with spaces");
  EXPECT_FALSE(cfg.sync);
  EXPECT_EQ(cfg.read_timeout_seconds, 1.5);
  EXPECT_FALSE(cfg.limit_completed_count.has_value());
  EXPECT_EQ(cfg.limit_completed_age, 3600.0);
  EXPECT_EQ(cfg.ready_file, "123");
}

TEST_F(ConfigTest, EnvironmentErrorsNameTheVariable) {
  Config cfg;
  SetEnv("COORDINATED_SERVER_THREADS", "many");
  SetEnv("COORDINATED_SERVER_PORT", "7100");
  Status st = ApplyEnvironment(&cfg);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("COORDINATED_SERVER_THREADS"));
  EXPECT_THAT(st.message(), HasSubstr("expected an integer"));
  EXPECT_EQ(cfg.port, 5932);  // nothing applied
  unsetenv("COORDINATED_SERVER_THREADS");

  SetEnv("COORDINATED_LOG_LEVEL", "loud");
  st = ApplyEnvironment(&cfg);
  EXPECT_THAT(st.message(), HasSubstr("COORDINATED_LOG_LEVEL"));
  unsetenv("COORDINATED_LOG_LEVEL");

  SetEnv("COORDINATED_SERVER_PROT", "1");
  std::vector<std::string> unknown = UnknownEnvironmentVariables();
  EXPECT_EQ(unknown, std::vector<std::string>{"COORDINATED_SERVER_PROT"});
}

TEST_F(ConfigTest, ApplyOverride) {
  Config cfg;
  ASSERT_TRUE(ApplyOverride("server.port", "7200", &cfg).ok());
  EXPECT_EQ(cfg.port, 7200);
  ASSERT_TRUE(ApplyOverride("limit_completed_age", "null", &cfg).ok());
  EXPECT_FALSE(cfg.limit_completed_age.has_value());
  Status st = ApplyOverride("server.prot", "1", &cfg);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("coordinate.server.prot"));
  EXPECT_EQ(ApplyOverride("address", "x:1", &cfg).code(), Code::kInvalidArgument);
  st = ApplyOverride("server.port", "x", &cfg);
  EXPECT_EQ(st.message(),
            "config key 'coordinate.server.port': expected an integer, got string 'x'");
}

TEST_F(ConfigTest, RenderRoundTrips) {
  Config cfg;
  cfg.host = "::1";
  cfg.port = 0;
  cfg.threads = 16;
  cfg.data_dir = "/tmp/a b: c # \"d\" \\ 'e'\t\xc3\xa9";
  cfg.sync = false;
  cfg.max_frame_bytes = 12345;
  cfg.max_depth = 7;
  cfg.max_items = 99;
  cfg.max_connections = 3;
  cfg.max_outstanding = 2;
  cfg.idle_timeout_seconds = 0;
  cfg.read_timeout_seconds = 0.1;
  cfg.max_name_bytes = 11;
  cfg.max_key_bytes = 12;
  cfg.limit_completed_count = 1000;
  cfg.limit_completed_age = 1e9;
  cfg.archive_period_seconds = 1.0 / 3;
  cfg.log_level = "off";
  cfg.log_format = "json";
  cfg.test_hooks = true;
  cfg.ready_file = "yes";  // would resolve to a bool if it were not quoted
  std::string text = RenderConfigYaml(cfg);
  Config back;
  Status st = Load(text, &back);
  ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << text;
  ExpectSameSettings(back, cfg);
  EXPECT_EQ(back.data_dir, cfg.data_dir);

  // Defaults round-trip too, and every line fits in 100 columns.
  text = RenderConfigYaml(Config{});
  ASSERT_TRUE(Load(text, &back).ok());
  ExpectSameSettings(back, Config{});
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;
}

TEST_F(ConfigTest, RegistryRowsAreConsistent) {
  const auto& rows = ConfigRows();
  const auto& keys = ConfigTable();
  ASSERT_EQ(rows.size(), keys.size());
  std::set<std::string> paths, envs;
  size_t fields = 0;
  const Config defaults;
  for (size_t i = 0; i < rows.size(); ++i) {
    const ConfigKey& k = rows[i].key;
    SCOPED_TRACE(k.path);
    EXPECT_STREQ(keys[i].path, k.path);
    EXPECT_TRUE(paths.insert(k.path).second) << "duplicate path";
    ASSERT_NE(k.help, nullptr);
    EXPECT_GT(std::string(k.help).size(), 20u);
    if (k.legacy_ignored) {
      EXPECT_EQ(k.env, nullptr);
      EXPECT_FALSE(rows[i].set);
      continue;
    }
    ++fields;
    ASSERT_NE(k.env, nullptr);
    EXPECT_TRUE(envs.insert(k.env).second) << "duplicate env " << k.env;
    std::string expected_env = "COORDINATED_";
    for (char c : std::string(k.path)) {
      expected_env +=
          c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    EXPECT_EQ(k.env, expected_env);
    ASSERT_TRUE(rows[i].set);
    ASSERT_TRUE(rows[i].get);
    // The help states the default, and the default passes the row's own validation.
    Value def = rows[i].get(defaults);
    std::string shown;
    if (def.is_string()) {
      shown = def.str().empty() ? "\"\"" : def.str();
    } else if (def.is_double()) {
      shown = fmt::format("{}", def.as_double());
    } else if (def.is_bool()) {
      shown = def.as_bool() ? "true" : "false";
    } else {
      shown = def.ToDiagnostic();
    }
    EXPECT_THAT(k.help, HasSubstr("Default: " + shown));
    Config copy;
    EXPECT_TRUE(rows[i].set(def, &copy).ok());
  }
  // One row per registered Config field (all members but source and file_tree).
  EXPECT_EQ(fields, 36u);
  // No row path is a prefix section of a leaf row (a key cannot be both a value and a map).
  for (const auto& p : paths) {
    for (const auto& q : paths) {
      EXPECT_FALSE(q.size() > p.size() && q.compare(0, p.size(), p) == 0 && q[p.size()] == '.')
          << p << " vs " << q;
    }
  }
}

TEST_F(ConfigTest, SampleFileMatchesTable) {
  const std::string sample = std::string(COORD_SOURCE_DIR) + "/scripts/coordinated.yaml";
  const std::string expected = RenderConfigYaml(Config{});
  if (const char* update = std::getenv("COORD_UPDATE_SAMPLE"); update && *update == '1') {
    std::ofstream(sample, std::ios::binary) << expected;
  }
  EXPECT_EQ(Slurp(sample), expected)
      << sample << " is stale; regenerate it with COORD_UPDATE_SAMPLE=1 daemon_tests "
      << "--gtest_filter=ConfigTest.SampleFileMatchesTable";
  Config cfg;
  Status st = LoadConfigFile(sample, &cfg);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectSameSettings(cfg, Config{});
  // Every non-legacy key of the table appears in the sample's coordinate section.
  const Value* coord = cfg.file_tree.FindKey("coordinate");
  ASSERT_NE(coord, nullptr);
  for (const auto& row : ConfigRows()) {
    if (row.key.legacy_ignored) continue;
    const Value* node = coord;
    std::string path = row.key.path;
    if (path.find("token") != std::string::npos) {
      // file_tree drops keys that look like secrets (get_config must not serve them).
      const std::string leaf = path.substr(path.rfind('.') + 1);
      EXPECT_NE(Slurp(sample).find(" " + leaf + ": "), std::string::npos) << path;
      continue;
    }
    size_t start = 0;
    while (node != nullptr && start <= path.size()) {
      size_t dot = path.find('.', start);
      node = node->FindKey(path.substr(start, dot - start));
      start = dot == std::string::npos ? path.size() + 1 : dot + 1;
    }
    EXPECT_NE(node, nullptr) << row.key.path << " missing from " << sample;
  }
}

}  // namespace
}  // namespace coordinated::daemon
