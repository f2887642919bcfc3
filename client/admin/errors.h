// Exit codes of coordinate-admin and the error type commands throw to end with one.
//
//   0  success
//   1  not found, refused by the daemon, or failed (check: problems were found)
//   2  usage error (bad arguments, an operation this mode cannot do)
//   3  cannot connect to the daemon, or cannot open the data directory
#pragma once

#include <stdexcept>
#include <string>

#include "common/status.h"

namespace coordadmin {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnavailable = 3;

// The text every --help ends with.
inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok; 1 not found, refused or failed (check: problems found); 2 usage error;\n"
    "3 cannot connect to the daemon or open the data directory.";

// Thrown by commands; main() prints the message and exits with the code.
class CliError : public std::runtime_error {
 public:
  CliError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

[[noreturn]] inline void Fail(int code, const std::string& message) {
  throw CliError(code, message);
}
[[noreturn]] inline void Usage(const std::string& message) { throw CliError(kExitUsage, message); }

// A non-OK Status as an exit: unavailable -> 3, everything else -> 1.
[[noreturn]] inline void FailStatus(const coordinated::Status& s, const std::string& context = "") {
  const int code = s.code() == coordinated::Code::kUnavailable ? kExitUnavailable : kExitFailed;
  throw CliError(code, context.empty() ? s.ToString() : context + ": " + s.ToString());
}

template <typename T>
T Must(coordinated::StatusOr<T> r, const std::string& context = "") {
  if (!r.ok()) FailStatus(r.status(), context);
  return std::move(r).value();
}
inline void Must(const coordinated::Status& s, const std::string& context = "") {
  if (!s.ok()) FailStatus(s, context);
}

}  // namespace coordadmin
