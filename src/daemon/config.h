// Daemon configuration: one registration table, then YAML file < environment < flags.
//
// Every key the daemon reads is one row of kConfigTable (config_table.cc): its dotted path inside
// the `coordinate:` section of the YAML file, type, default, environment variable and help text.
// Nothing else in the daemon reads YAML or the environment directly.
//
// File layout: the original Python configuration keeps working (`coordinate: {server: {host,
// port}}`, and the client-side keys such as `address` are accepted and ignored). Unknown keys
// inside `coordinate:` are an error naming the key and its line; other top-level sections are
// kept as loaded, because one global file is shared by many programs and `get_config` serves it
// back (minus secrets).
//
// Thread-safety: a Config is built once at start-up and read-only afterwards.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace coordinated::daemon {

struct Config {
  // server
  std::string host = "127.0.0.1";
  int port = 5932;                     // 0 = pick an ephemeral port (tests)
  int threads = 2;                     // network threads
  std::string auth_token_file;         // empty: no auth; else clients must call auth(token)
  bool allow_insecure_remote = false;  // serve non-loopback hosts without auth (protected mode)
  // storage
  std::string data_dir = "./coordinate-data";
  bool sync = true;                          // fsync the WAL before acknowledging (group commit)
  uint64_t min_free_bytes = 256ull << 20;    // refuse new work below this much free space; 0 = off
  uint64_t reserve_bytes = 64ull << 20;      // space held back for finishing work when it is low
  uint64_t block_cache_bytes = 64ull << 20;  // RocksDB block cache shared by every family
  uint64_t write_cache_bytes = 16ull << 20;  // recently written leased records (write_cache.h)
  uint64_t memtable_bytes = 64ull << 20;     // all memtables together
  double idle_flush_seconds = 2;  // flush memtables after this long without writes; 0 = never
  // limits
  uint64_t max_frame_bytes = 64ull << 20;
  uint64_t max_depth = 64;
  uint64_t max_items = 4ull << 20;
  uint64_t max_connections = 4096;
  uint64_t max_outstanding = 256;      // per connection; reading pauses above it
  double idle_timeout_seconds = 3600;  // 0 = never
  double read_timeout_seconds = 60;    // a started frame must complete within this
  uint64_t max_name_bytes = 1024;      // work spec names, worker ids
  uint64_t max_key_bytes = 16384;      // work unit keys
  // scheduling and archive
  std::optional<int64_t> limit_completed_count;  // archive: keep at most this many per status
  std::optional<double> limit_completed_age;     // archive: seconds after completion
  double archive_period_seconds = 60;
  // HTTP side port (status page, /metrics, /healthz, /readyz, /api)
  std::string http_host = "127.0.0.1";
  int http_port = 5980;  // 0 = ephemeral
  bool http_enabled = true;
  bool http_allow_actions = false;  // POST /api/... (pause, resume, retry)
  // logging
  std::string log_level = "info";   // trace, debug, info, warn, error, off
  std::string log_format = "text";  // text or json
  std::string log_file;             // empty: stderr; else a size-rotated file (SIGHUP reopens)
  uint64_t log_max_size_mb = 100;   // rotate the log file at this size
  int log_max_files = 5;            // rotated files kept besides the current one
  // testing
  bool test_hooks = false;  // enables test-only RPCs (clock offset); never in production
  std::string ready_file;   // if set, "host:port" of the bound listener is written here

  // Where the configuration came from, for the start-up log line ("defaults", a file path).
  std::string source = "defaults";
  // The whole YAML file as loaded (all sections), secrets removed, as served by get_config.
  // Null when no file was given.
  Value file_tree;
};

// One row of the registry. `path` is dotted, relative to the `coordinate:` section.
struct ConfigKey {
  const char* path;
  const char* type;  // "string", "int", "uint", "double", "bool", "optional-int", ...
  const char* env;   // COORDINATED_... or nullptr
  const char* help;
  bool legacy_ignored;  // accepted for compatibility with the Python configs, not used
};
const std::vector<ConfigKey>& ConfigTable();

// Reads and validates a YAML file into `cfg` (keys present override defaults).
Status LoadConfigFile(const std::string& path, Config* cfg);
// Applies COORDINATED_* environment variables (from `environ`).
Status ApplyEnvironment(Config* cfg);
// The effective configuration as YAML text (for --print-config), every registered key.
std::string RenderConfigYaml(const Config& cfg);
// The effective configuration as a Value tree {coordinate: {...}} merged over file_tree,
// secrets removed: what get_config returns.
Value ConfigForClients(const Config& cfg);

// --- Additions to the interface above (the declarations above are stable). ---
//
// Details of the functions above:
//  * LoadConfigFile: `coordinate.<row path>` keys are applied through the row's `set`; legacy
//    rows accept any value (for `fork_worker` its whole subtree); an absent or empty
//    `coordinate:` section keeps the defaults. IOError when the file cannot be read (names the
//    path); InvalidArgument for bad YAML ("invalid YAML in FILE:LINE:COL: ..."), a top level
//    that is not a map, an unknown key ("unknown config key 'coordinate.foo.bar' at FILE:LINE"),
//    a duplicate key, a wrong type ("config key 'coordinate.server.port' at FILE:LINE: expected
//    an integer, got string 'abc'") or a value out of range. On error `cfg` is unchanged. On
//    success cfg->source = path and cfg->file_tree = the whole file (see ResolveYamlScalar for
//    scalars; keys containing "password", "secret" or "token", any case, at any depth, dropped).
//  * ApplyEnvironment: for each row with an `env` name that is set, the variable's text is
//    parsed as ApplyOverride does. InvalidArgument naming the variable; on error `cfg` is
//    unchanged. An empty value unsets an optional key (and is an error for numbers).
//  * RenderConfigYaml: a comment header, then `coordinate:` with every non-legacy row nested by
//    path, in table order, each preceded by its help as `# ` comment lines. Strings are always
//    double-quoted. LoadConfigFile of the text yields the same value for every row.
//    scripts/coordinated.yaml is RenderConfigYaml(Config{}) (a test checks it).
//  * ConfigForClients: file_tree (or an empty map) with coordinate.server.host and .port set
//    to the effective values; keys created here are byte strings, the host is a byte string
//    when ASCII.

// A registry row bound to its Config field. ConfigTable() lists the `key` of every row, in the
// same order; both come from the one table in config_table.cc.
struct ConfigRow {
  ConfigKey key;
  // Checks type and bounds of `v` and stores it in the row's field. Non-string rows get a
  // resolved scalar (ResolveYamlScalar) or, for a YAML map or sequence, the converted tree;
  // "string" rows get the text as written (a Text value) or null (an empty or `~` plain scalar,
  // meaning ""). InvalidArgument "expected <type>, got <what>" or "... must be ..., got ...";
  // the message does not name the key (callers add it). Empty for legacy rows.
  std::function<Status(const Value& v, Config* cfg)> set;
  // The field's current value: Text for strings, an int, double or bool, null for an unset
  // optional. Empty for legacy rows.
  std::function<Value(const Config& cfg)> get;
};
const std::vector<ConfigRow>& ConfigRows();

// Resolves a plain (unquoted) YAML scalar as PyYAML (YAML 1.1) did for the Python daemon:
// "", ~, null/Null/NULL -> null; true/false, yes/no, on/off (lower, Capitalized or UPPER) ->
// bool; decimal, 0x hex, 0o or leading-0 octal, 0b binary, base-60 (1:30), `_` separators ->
// int (kept as a string beyond the CBOR integer range); numbers with a `.` or an exponent and
// .inf/.nan -> double; anything else -> Bytes if pure ASCII, else Text.
Value ResolveYamlScalar(std::string_view text);

// Sets one registered key from text the way an environment variable does (for command-line
// flags such as `--set server.port=7000`): string rows take the text verbatim, others resolve
// it with ResolveYamlScalar. `path` is relative to `coordinate:`. InvalidArgument for an
// unknown or legacy path, or a bad value ("config key 'coordinate.server.port': ...").
Status ApplyOverride(std::string_view path, std::string_view text, Config* cfg);

// Names of COORDINATED_* environment variables that match no row (likely typos), for a
// start-up warning. ApplyEnvironment ignores them.
std::vector<std::string> UnknownEnvironmentVariables();

}  // namespace coordinated::daemon
