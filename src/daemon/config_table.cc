// The configuration registry: one row per key of the `coordinate:` section (see config.h).
//
// Each row binds its dotted path to a Config member through a `set`/`get` pair made by one of
// the typed row builders below, which also carry the row's bounds. The loader, the environment
// and the renderer in config.cc are driven entirely by these rows. Every help text states the
// default as "Default: <value>" (a test checks it against Config{}) and why the key exists.
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "daemon/config.h"

namespace coordinated::daemon {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
// Upper bound of every duration, in seconds (about 31 years): far from chrono overflow.
constexpr double kMaxSeconds = 1e9;

// "string 'abc'", "int 5", "a map": how a wrong value is shown in an error message.
std::string Describe(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return v.as_bool() ? "bool true" : "bool false";
    case Value::Kind::kUInt:
    case Value::Kind::kNegInt:
      return "int " + v.ToDiagnostic();
    case Value::Kind::kDouble:
      return fmt::format("float {}", v.as_double());
    case Value::Kind::kBytes:
    case Value::Kind::kText: {
      std::string s = v.str();
      if (s.size() > 60) s = s.substr(0, 57) + "...";
      return "string '" + s + "'";
    }
    case Value::Kind::kArray:
    case Value::Kind::kTuple:
      return "a sequence";
    case Value::Kind::kMap:
      return "a map";
    default:
      return v.ToDiagnostic();
  }
}

Status WrongType(const char* expected, const Value& v) {
  return Status::InvalidArgument(fmt::format("expected {}, got {}", expected, Describe(v)));
}

// Any integer Value as int64; nullopt for other kinds or beyond int64.
std::optional<int64_t> IntOf(const Value& v) { return v.AsInt64(); }

Status CheckIntRange(int64_t i, int64_t lo, int64_t hi) {
  if (i >= lo && i <= hi) return Status::Ok();
  if (hi == kInt64Max) return Status::InvalidArgument(fmt::format("must be >= {}, got {}", lo, i));
  return Status::InvalidArgument(fmt::format("must be in {}..{}, got {}", lo, hi, i));
}

struct DoubleRange {
  double lo;
  bool lo_open;  // true: the value must be > lo, else >= lo
  double hi;
};

Status CheckDoubleRange(double d, DoubleRange r) {
  bool ok = std::isfinite(d) && (r.lo_open ? d > r.lo : d >= r.lo) && d <= r.hi;
  if (ok) return Status::Ok();
  return Status::InvalidArgument(
      fmt::format("must be {} {} and <= {}, got {}", r.lo_open ? ">" : ">=", r.lo, r.hi, d));
}

// Integers also count as numbers; NaN and infinities never pass a range check.
StatusOr<double> NumberOf(const Value& v, const char* expected) {
  std::optional<double> d = v.AsNumber();
  if (!d) return WrongType(expected, v);
  return *d;
}

ConfigRow Row(const char* path, const char* type, const char* env, const char* help) {
  ConfigRow r;
  r.key = ConfigKey{path, type, env, help, false};
  return r;
}

ConfigRow IntRow(const char* path, const char* env, int Config::*m, int64_t lo, int64_t hi,
                 const char* help) {
  ConfigRow r = Row(path, "int", env, help);
  r.set = [m, lo, hi](const Value& v, Config* c) -> Status {
    std::optional<int64_t> i = IntOf(v);
    if (!i) return WrongType("an integer", v);
    COORD_RETURN_IF_ERROR(CheckIntRange(*i, lo, hi));
    c->*m = static_cast<int>(*i);
    return Status::Ok();
  };
  r.get = [m](const Config& c) { return Value::Int(c.*m); };
  return r;
}

// Unsigned fields are capped at int64 max so other modules can do signed arithmetic on them.
ConfigRow UIntRow(const char* path, const char* env, uint64_t Config::*m, int64_t lo, int64_t hi,
                  const char* help) {
  ConfigRow r = Row(path, "uint", env, help);
  r.set = [m, lo, hi](const Value& v, Config* c) -> Status {
    if (!v.is_int()) return WrongType("a non-negative integer", v);
    std::optional<int64_t> i = IntOf(v);
    if (!i)
      return Status::InvalidArgument(fmt::format("must be <= {}, got {}", hi, v.ToDiagnostic()));
    COORD_RETURN_IF_ERROR(CheckIntRange(*i, lo, hi));
    c->*m = static_cast<uint64_t>(*i);
    return Status::Ok();
  };
  r.get = [m](const Config& c) { return Value::UInt(c.*m); };
  return r;
}

ConfigRow DoubleRow(const char* path, const char* env, double Config::*m, DoubleRange range,
                    const char* help) {
  ConfigRow r = Row(path, "double", env, help);
  r.set = [m, range](const Value& v, Config* c) -> Status {
    COORD_ASSIGN_OR_RETURN(double d, NumberOf(v, "a number"));
    COORD_RETURN_IF_ERROR(CheckDoubleRange(d, range));
    c->*m = d;
    return Status::Ok();
  };
  r.get = [m](const Config& c) { return Value::Double(c.*m); };
  return r;
}

// Accepts YAML booleans, and 0/1 (handy in environment variables).
ConfigRow BoolRow(const char* path, const char* env, bool Config::*m, const char* help) {
  ConfigRow r = Row(path, "bool", env, help);
  r.set = [m](const Value& v, Config* c) -> Status {
    std::optional<int64_t> i = IntOf(v);
    if (v.is_bool()) {
      c->*m = v.as_bool();
    } else if (i && (*i == 0 || *i == 1)) {
      c->*m = *i == 1;
    } else {
      return WrongType("a boolean (true/false)", v);
    }
    return Status::Ok();
  };
  r.get = [m](const Config& c) { return Value::Bool(c.*m); };
  return r;
}

// `choices` empty: any string; `nonempty`: "" is refused.
ConfigRow StringRow(const char* path, const char* env, std::string Config::*m,
                    std::vector<std::string> choices, bool nonempty, const char* help) {
  ConfigRow r = Row(path, "string", env, help);
  r.set = [m, choices, nonempty](const Value& v, Config* c) -> Status {
    if (!v.is_null() && !v.is_string()) return WrongType("a string", v);
    std::string s = v.is_null() ? std::string() : v.str();
    if (nonempty && s.empty()) return Status::InvalidArgument("must not be empty");
    if (!choices.empty()) {
      bool found = false;
      for (const auto& ch : choices) found = found || ch == s;
      if (!found) {
        return Status::InvalidArgument(
            fmt::format("must be one of {}, got '{}'", fmt::join(choices, ", "), s));
      }
    }
    c->*m = std::move(s);
    return Status::Ok();
  };
  r.get = [m](const Config& c) { return Value::Text(c.*m); };
  return r;
}

ConfigRow OptIntRow(const char* path, const char* env, std::optional<int64_t> Config::*m,
                    int64_t lo, const char* help) {
  ConfigRow r = Row(path, "optional-int", env, help);
  r.set = [m, lo](const Value& v, Config* c) -> Status {
    if (v.is_null()) {
      (c->*m).reset();
      return Status::Ok();
    }
    std::optional<int64_t> i = IntOf(v);
    if (!i) return WrongType("an integer or null", v);
    COORD_RETURN_IF_ERROR(CheckIntRange(*i, lo, kInt64Max));
    c->*m = *i;
    return Status::Ok();
  };
  r.get = [m](const Config& c) { return (c.*m) ? Value::Int(*(c.*m)) : Value::Null(); };
  return r;
}

ConfigRow OptDoubleRow(const char* path, const char* env, std::optional<double> Config::*m,
                       DoubleRange range, const char* help) {
  ConfigRow r = Row(path, "optional-double", env, help);
  r.set = [m, range](const Value& v, Config* c) -> Status {
    if (v.is_null()) {
      (c->*m).reset();
      return Status::Ok();
    }
    COORD_ASSIGN_OR_RETURN(double d, NumberOf(v, "a number or null"));
    COORD_RETURN_IF_ERROR(CheckDoubleRange(d, range));
    c->*m = d;
    return Status::Ok();
  };
  r.get = [m](const Config& c) { return (c.*m) ? Value::Double(*(c.*m)) : Value::Null(); };
  return r;
}

// Accepted with any value (a whole subtree for maps) and ignored. No env, no set/get.
ConfigRow Legacy(const char* path, const char* help) {
  ConfigRow r = Row(path, "any", nullptr, help);
  r.key.legacy_ignored = true;
  return r;
}

std::vector<ConfigRow> BuildRows() {
  const DoubleRange kNonNegativeSeconds{0, false, kMaxSeconds};
  const DoubleRange kPositiveSeconds{0, true, kMaxSeconds};
  std::vector<ConfigRow> rows = {
      // server
      StringRow("server.host", "COORDINATED_SERVER_HOST", &Config::host, {}, true,
                "Address the CBOR-RPC listener binds. Loopback by default; a non-loopback "
                "address (such as 0.0.0.0) needs server.auth_token_file or "
                "server.allow_insecure_remote, else the daemon refuses to start. The protocol is "
                "not encrypted: off a trusted network, tunnel it. Default: 127.0.0.1"),
      IntRow("server.port", "COORDINATED_SERVER_PORT", &Config::port, 0, 65535,
             "TCP port of the CBOR-RPC listener, 0..65535 (0 picks a free port, for tests). "
             "5932 is the port Python clients use unless told otherwise. Default: 5932"),
      IntRow("server.threads", "COORDINATED_SERVER_THREADS", &Config::threads, 1, 1024,
             "Network threads that read requests and write replies, 1..1024. Storage commits "
             "are grouped, so a few threads serve hundreds of workers. Default: 2"),
      StringRow("server.auth_token_file", "COORDINATED_SERVER_AUTH_TOKEN_FILE",
                &Config::auth_token_file, {}, false,
                "File holding a shared secret token; when set, each RPC connection must call "
                "auth(token) before any other method. Read at start-up, trailing whitespace "
                "removed; refused when empty or accessible by group or others (chmod 600). "
                "Required to listen on a non-loopback server.host. Default: \"\" (no auth)"),
      BoolRow("server.allow_insecure_remote", "COORDINATED_SERVER_ALLOW_INSECURE_REMOTE",
              &Config::allow_insecure_remote,
              "Allow server.host or http.host on a non-loopback address without protection: "
              "RPC without server.auth_token_file, or the HTTP side port at all (it has no "
              "authentication). Otherwise the daemon refuses to start, so a typo cannot expose "
              "an open queue. Default: false"),
      // storage
      StringRow("storage.data_dir", "COORDINATED_STORAGE_DATA_DIR", &Config::data_dir, {}, true,
                "Directory of the durable store, created if missing. Put it on a local file "
                "system that honours fsync. Default: ./coordinate-data"),
      BoolRow("storage.sync", "COORDINATED_STORAGE_SYNC", &Config::sync,
              "Sync the write-ahead log before acknowledging a change (concurrent changes share "
              "one sync). false is faster, but a power loss can then drop the last "
              "acknowledged changes (never corrupt the store). Default: true"),
      UIntRow("storage.min_free_bytes", "COORDINATED_STORAGE_MIN_FREE_BYTES",
              &Config::min_free_bytes, 0, kInt64Max,
              "Refuse calls that create work (set_work_spec, add_work_units, "
              "add_dependent_work_units) with ResourceExhausted while the data directory's file "
              "system has less free space than this; finishing, failing, renewing, reads and "
              "deletes keep working, and service resumes once this plus storage.reserve_bytes is "
              "free (checked every second). RocksDB needs room beyond its data for flushes, "
              "compactions and write-ahead logs (about 64 MiB of logs); refusing new work this "
              "early leaves that room to work already handed out. 0 turns the check off. "
              "Default: 268435456 (256 MiB)"),
      UIntRow("storage.reserve_bytes", "COORDINATED_STORAGE_RESERVE_BYTES", &Config::reserve_bytes,
              0, kInt64Max,
              "Size of the RESERVE file held in the data directory while space is plentiful and "
              "deleted when free space falls below storage.min_free_bytes, so finishes, fails and "
              "RocksDB's flushes still find room when something else fills the disk. 0 keeps "
              "none. Default: 67108864 (64 MiB)"),
      UIntRow("storage.block_cache_bytes", "COORDINATED_STORAGE_BLOCK_CACHE_BYTES",
              &Config::block_cache_bytes, 1 << 20, kInt64Max,
              "RocksDB block cache shared by every column family (data, index and filter "
              "blocks), in bytes (>= 1 MiB). With storage.memtable_bytes it bounds the store's "
              "memory whatever the number of units. Default: 67108864 (64 MiB)"),
      UIntRow("storage.memtable_bytes", "COORDINATED_STORAGE_MEMTABLE_BYTES",
              &Config::memtable_bytes, 4 << 20, kInt64Max,
              "Budget for all RocksDB memtables together, in bytes (>= 4 MiB): past it the "
              "largest is flushed to disk. Default: 67108864 (64 MiB)"),
      DoubleRow("storage.idle_flush_seconds", "COORDINATED_STORAGE_IDLE_FLUSH_SECONDS",
                &Config::idle_flush_seconds, kNonNegativeSeconds,
                "After this many seconds without a write, memtables holding 10,000 entries or "
                "more are flushed to table files, so the flush and the compactions it leads to run "
                "while the daemon is idle instead of under the next burst of work, and a "
                "restart replays less log. 0 never flushes early. Default: 2"),
      UIntRow("storage.write_cache_bytes", "COORDINATED_STORAGE_WRITE_CACHE_BYTES",
              &Config::write_cache_bytes, 0, kInt64Max,
              "Cache of the unit records written for leased work, which the finish, fail or "
              "renewal that follows reads back without searching RocksDB, in "
              "bytes (oldest dropped first). 0 turns it off. Default: 16777216 (16 MiB)"),
      // limits
      UIntRow("limits.max_frame_bytes", "COORDINATED_LIMITS_MAX_FRAME_BYTES",
              &Config::max_frame_bytes, 1, kInt64Max,
              "Largest request frame in bytes (>= 1). Large enough for big add_work_units "
              "batches, small enough that one client cannot exhaust memory. "
              "Default: 67108864 (64 MiB)"),
      UIntRow("limits.max_depth", "COORDINATED_LIMITS_MAX_DEPTH", &Config::max_depth, 1, 1024,
              "Deepest nesting of arrays, maps and tags in one request, 1..1024. Bounds decoder "
              "recursion so hostile input cannot overflow the stack. Default: 64"),
      UIntRow("limits.max_items", "COORDINATED_LIMITS_MAX_ITEMS", &Config::max_items, 1, kInt64Max,
              "Most data items (array elements, map entries, strings) in one frame (>= 1). A "
              "small frame can declare huge containers; this bounds the memory a request can "
              "claim. Default: 4194304"),
      UIntRow("limits.max_connections", "COORDINATED_LIMITS_MAX_CONNECTIONS",
              &Config::max_connections, 1, kInt64Max,
              "Most simultaneous client connections (>= 1); more are refused. Bounds file "
              "descriptors and per-connection memory (raise LimitNOFILE with it). "
              "Default: 4096"),
      UIntRow("limits.max_outstanding", "COORDINATED_LIMITS_MAX_OUTSTANDING",
              &Config::max_outstanding, 1, kInt64Max,
              "Requests read from one connection but not yet answered (>= 1); reading pauses "
              "above it, so a client that pipelines without reading replies cannot grow the "
              "daemon's memory. Default: 256"),
      DoubleRow("limits.idle_timeout_seconds", "COORDINATED_LIMITS_IDLE_TIMEOUT_SECONDS",
                &Config::idle_timeout_seconds, kNonNegativeSeconds,
                "Close a connection after this many seconds without a request (0 = never). "
                "Reclaims connections of workers that vanished without closing. Default: 3600"),
      DoubleRow("limits.read_timeout_seconds", "COORDINATED_LIMITS_READ_TIMEOUT_SECONDS",
                &Config::read_timeout_seconds, kPositiveSeconds,
                "A frame whose first byte has arrived must be complete within this many seconds "
                "(> 0), so stalled senders cannot pin buffers forever. Default: 60"),
      UIntRow("limits.max_name_bytes", "COORDINATED_LIMITS_MAX_NAME_BYTES", &Config::max_name_bytes,
              1, kInt64Max,
              "Longest work spec name or worker id in bytes (>= 1). Names are index keys and "
              "log fields; a bound keeps them cheap. Default: 1024"),
      UIntRow("limits.max_key_bytes", "COORDINATED_LIMITS_MAX_KEY_BYTES", &Config::max_key_bytes, 1,
              kInt64Max,
              "Longest work unit key in bytes (>= 1). Keys are repeated in several indexes; a "
              "bound keeps index entries small. Default: 16384"),
      // scheduling and archive
      OptIntRow("limit_completed_count", "COORDINATED_LIMIT_COMPLETED_COUNT",
                &Config::limit_completed_count, 0,
                "Archive: keep at most this many FINISHED and this many FAILED units per work "
                "spec (>= 0); older ones are removed and only counted, so finished work does not "
                "grow without bound. null keeps everything, as the Python daemon did. "
                "Default: null"),
      OptDoubleRow("limit_completed_age", "COORDINATED_LIMIT_COMPLETED_AGE",
                   &Config::limit_completed_age, kNonNegativeSeconds,
                   "Archive: remove FINISHED and FAILED units this many seconds after they "
                   "completed (>= 0); they remain only as counts. null keeps everything, as the "
                   "Python daemon did. Default: null"),
      DoubleRow("archive_period_seconds", "COORDINATED_ARCHIVE_PERIOD_SECONDS",
                &Config::archive_period_seconds, kPositiveSeconds,
                "Seconds between runs of the archive timer that applies limit_completed_count "
                "and limit_completed_age (> 0). Default: 60"),
      // http
      StringRow("http.host", "COORDINATED_HTTP_HOST", &Config::http_host, {}, true,
                "Address of the HTTP side port (status page, /metrics, /healthz, /readyz, "
                "read-only /api). Loopback by default: it has no authentication, so a "
                "non-loopback address needs server.allow_insecure_remote. Default: 127.0.0.1"),
      IntRow("http.port", "COORDINATED_HTTP_PORT", &Config::http_port, 0, 65535,
             "TCP port of the HTTP side port, 0..65535 (0 picks a free port; it is also picked "
             "when server.port is 0 and this key keeps its default, so test daemons never "
             "collide). Default: 5980"),
      BoolRow("http.enabled", "COORDINATED_HTTP_ENABLED", &Config::http_enabled,
              "Serve the HTTP side port. false (or --no-http) runs the daemon without it. "
              "Default: true"),
      BoolRow("http.allow_actions", "COORDINATED_HTTP_ALLOW_ACTIONS", &Config::http_allow_actions,
              "Allow the state-changing POST /api endpoints (pause and resume a work spec, retry "
              "units) and show their buttons on the status page; refused with 403 otherwise. "
              "Enable only where everyone who can reach the port may do this. Default: false"),
      // logging
      StringRow("log.level", "COORDINATED_LOG_LEVEL", &Config::log_level,
                {"trace", "debug", "info", "warn", "error", "off"}, true,
                "Least severe log level written: trace, debug, info, warn, error or off. debug "
                "logs every state change; info logs start-up, shutdown and recovery. "
                "Default: info"),
      StringRow("log.format", "COORDINATED_LOG_FORMAT", &Config::log_format, {"text", "json"}, true,
                "Log line format: text for people and journald, json (one object per line) for "
                "log shippers. Default: text"),
      StringRow("log.file", "COORDINATED_LOG_FILE", &Config::log_file, {}, false,
                "Write the log to this file instead of stderr, rotated by size (see "
                "log.max_size_mb and log.max_files); SIGHUP reopens it after an external "
                "rotation. Default: \"\" (stderr)"),
      UIntRow("log.max_size_mb", "COORDINATED_LOG_MAX_SIZE_MB", &Config::log_max_size_mb, 1,
              1048576,
              "Rotate the log file when it reaches this many MiB, 1..1048576, so a chatty log "
              "level cannot fill the disk. Default: 100"),
      IntRow("log.max_files", "COORDINATED_LOG_MAX_FILES", &Config::log_max_files, 0, 1000,
             "Rotated log files kept besides the current one (x.1.log ... x.N.log for x.log), "
             "0..1000. "
             "Default: 5"),
      // testing
      BoolRow("testing.hooks", "COORDINATED_TESTING_HOOKS", &Config::test_hooks,
              "Enable test-only RPCs (clock offset) used by the test suites. Never enable in "
              "production: any client could move lease deadlines. Default: false"),
      StringRow("testing.ready_file", "COORDINATED_TESTING_READY_FILE", &Config::ready_file, {},
                false,
                "If set, \"host:port\" of the bound listener is written to this file once the "
                "daemon accepts connections, so test harnesses can use port 0. "
                "Default: \"\" (not written)"),

      // Keys the Python daemon and client kept in the same `coordinate:` section. Shared
      // configuration files still carry them, so they are accepted and ignored.
      Legacy("address", "Python client: daemon address (host:port). Ignored by the daemon."),
      Legacy("addresses", "Python client: list of daemon addresses. Ignored by the daemon."),
      Legacy("retries", "Python client: connection retries. Ignored by the daemon."),
      Legacy("base_retry_seconds", "Python client: retry back-off base. Ignored by the daemon."),
      Legacy("default_lifetime",
             "Python client: lease seconds it asks for in get_work. Ignored by the daemon."),
      Legacy("namespace", "Python daemon: namespace name, unused there too. Ignored."),
      Legacy("snapshot_path_format",
             "Python daemon: snapshot file names. The durable store replaces snapshots. Ignored."),
      Legacy("snapshot_period_seconds", "Python daemon: snapshot period. Ignored."),
      Legacy("delete_snapshots_beyond", "Python daemon: snapshots to keep. Ignored."),
      Legacy("do_recover", "Python daemon: load the latest snapshot at start. Ignored."),
      Legacy("server.modules",
             "Python daemon: extra RPC modules ({module, class}). Not supported; ignored."),
      Legacy("rpclog", "Python daemon: request logging. Ignored (see log.level)."),
      Legacy("fork_worker",
             "Python coordinate_worker settings; the whole subtree is accepted and ignored."),
      Legacy("registry_addresses", "Python: registry service addresses. Ignored."),
      Legacy("app_name", "Python: application name for logs. Ignored."),
  };
  return rows;
}

}  // namespace

const std::vector<ConfigRow>& ConfigRows() {
  static const std::vector<ConfigRow> rows = BuildRows();
  return rows;
}

const std::vector<ConfigKey>& ConfigTable() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> out;
    for (const auto& row : ConfigRows()) out.push_back(row.key);
    return out;
  }();
  return keys;
}

}  // namespace coordinated::daemon
