// Logging set-up: spdlog to stderr or to a size-rotated file, text or JSON lines, at the
// configured level.
//
//  * text: "2024-05-01 12:00:00.123 info  message" (local time), for people and journald.
//  * json: one object per line, {"time":"...Z","level":"info","thread":N,"msg":"..."}, with the
//    message escaped as a JSON string (quotes, backslashes, control characters).
//  * file: when LogOptions::file is set the log goes there instead of stderr, rotated when it
//    reaches max_size_bytes (x.log -> x.1.log -> ... -> x.N.log, N = max_files). ReopenLogFile
//    (the daemon calls it on SIGHUP) closes and reopens the file by name, so an external
//    rotation (logrotate without copytruncate) takes effect without a restart.
//
// Thread-safety: SetUpLogging once at start-up, before other threads log. ReopenLogFile may be
// called from any thread at any time (the sink swap is done under the distributing sink's lock).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace coordinated::daemon {

struct LogOptions {
  std::string level = "info";   // trace, debug, info, warn, error, off
  std::string format = "text";  // text or json
  std::string file;             // empty: stderr
  uint64_t max_size_bytes = 100ull << 20;
  int max_files = 5;
};

// InvalidArgument for an unknown level or format; IOError when the file cannot be opened.
Status SetUpLogging(const LogOptions& options);
// The stderr-only form (kept for callers that have no file options).
Status SetUpLogging(const std::string& level, const std::string& format);

// Reopens the log file (no-op when logging to stderr). IOError when it cannot be reopened; the
// previous file stays in use then.
Status ReopenLogFile();

// Escapes `in` as the inside of a JSON string (without the quotes), appending to `out`.
// Invalid UTF-8 bytes become \u00XX escapes of their byte value, so every line stays valid JSON.
void AppendJsonEscaped(std::string_view in, std::string* out);

}  // namespace coordinated::daemon
