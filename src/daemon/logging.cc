#include "daemon/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "daemon/http_util.h"

namespace coordinated::daemon {
namespace {

// %* in the JSON pattern: the message payload escaped for a JSON string.
class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string escaped;
    AppendJsonEscaped(std::string_view(msg.payload.data(), msg.payload.size()), &escaped);
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return spdlog::details::make_unique<JsonMessageFlag>();
  }
};

std::unique_ptr<spdlog::formatter> MakeFormatter(const std::string& format) {
  if (format == "json") {
    auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    f->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","thread":%t,"msg":"%*"})");
    return f;
  }
  return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
}

// The current file set-up, for ReopenLogFile.
struct FileState {
  std::mutex mu;
  std::shared_ptr<spdlog::sinks::dist_sink_mt> dist;  // null when logging to stderr
  LogOptions options;
};
FileState& State() {
  static FileState* state = new FileState();  // never destroyed: used until exit
  return *state;
}

StatusOr<std::shared_ptr<spdlog::sinks::sink>> OpenFileSink(const LogOptions& o) {
  try {
    auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        o.file, static_cast<size_t>(o.max_size_bytes), static_cast<size_t>(o.max_files),
        /*rotate_on_open=*/false);
    sink->set_formatter(MakeFormatter(o.format));
    return std::shared_ptr<spdlog::sinks::sink>(std::move(sink));
  } catch (const spdlog::spdlog_ex& e) {
    return Status::IOError("cannot open log file '" + o.file + "': " + e.what());
  }
}

}  // namespace

void AppendJsonEscaped(std::string_view in, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto escape_byte = [&](unsigned char c) {
    *out += "\\u00";
    *out += kHex[c >> 4];
    *out += kHex[c & 15];
  };
  for (size_t i = 0; i < in.size();) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += static_cast<char>(c);
      ++i;
    } else if (c == '\n') {
      *out += "\\n";
      ++i;
    } else if (c == '\r') {
      *out += "\\r";
      ++i;
    } else if (c == '\t') {
      *out += "\\t";
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      escape_byte(c);
      ++i;
    } else if (c < 0x80) {
      *out += static_cast<char>(c);
      ++i;
    } else {
      // A well-formed UTF-8 sequence is copied; any other byte is escaped on its own.
      const size_t len = Utf8SequenceLength(in, i);
      const bool ok = len > 0;
      if (ok) {
        out->append(in.substr(i, len));
        i += len;
      } else {
        escape_byte(c);
        ++i;
      }
    }
  }
}

Status SetUpLogging(const LogOptions& options) {
  auto lvl = spdlog::level::from_str(options.level);
  if (lvl == spdlog::level::off && options.level != "off") {
    return Status::InvalidArgument("unknown log level '" + options.level + "'");
  }
  if (options.format != "text" && options.format != "json") {
    return Status::InvalidArgument("unknown log format '" + options.format + "'");
  }
  std::shared_ptr<spdlog::sinks::sink> sink;
  std::shared_ptr<spdlog::sinks::dist_sink_mt> dist;
  if (options.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(MakeFormatter(options.format));
  } else {
    auto file = OpenFileSink(options);
    if (!file.ok()) return file.status();
    dist = std::make_shared<spdlog::sinks::dist_sink_mt>();
    dist->add_sink(*file);
    sink = dist;
  }
  auto logger = std::make_shared<spdlog::logger>("coordinated", sink);
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  spdlog::flush_on(spdlog::level::info);
  FileState& st = State();
  std::lock_guard<std::mutex> lock(st.mu);
  st.dist = std::move(dist);
  st.options = options;
  return Status::Ok();
}

Status SetUpLogging(const std::string& level, const std::string& format) {
  LogOptions o;
  o.level = level;
  o.format = format;
  return SetUpLogging(o);
}

Status ReopenLogFile() {
  FileState& st = State();
  std::lock_guard<std::mutex> lock(st.mu);
  if (!st.dist) return Status::Ok();
  auto file = OpenFileSink(st.options);
  if (!file.ok()) return file.status();
  st.dist->flush();
  // The old sink (and its file descriptor) is released when the last log call using it ends.
  st.dist->set_sinks({*file});
  return Status::Ok();
}

}  // namespace coordinated::daemon
