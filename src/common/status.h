// Status and StatusOr<T>: the error model used across every module boundary.
//
// A Status is either OK or carries a Code and a message. The set of codes is small and each one
// has a stable wire name (see ErrorClassName) that RPC error messages start with, so a Python
// client sees "InvalidArgument: ..." the way it saw exception class names from the original
// daemon. Exceptions never cross module boundaries; code that calls throwing libraries converts
// at the call site.
//
// Thread-safety: Status and StatusOr are values; const methods are safe concurrently.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace coordinated {

enum class Code : int {
  kOk = 0,
  kNotFound,            // the named object does not exist
  kAlreadyExists,       // an object with that identity exists
  kInvalidArgument,     // the caller sent something malformed or out of range
  kFailedPrecondition,  // the state does not allow the operation (lease not held, cycle, ...)
  kResourceExhausted,   // a limit was hit (frame too big, disk watermark, too many connections)
  kCorruption,          // stored data does not decode or violates an invariant
  kIOError,             // the file system or RocksDB failed
  kUnavailable,         // shutting down, or not ready yet
  kNoSuchMethod,        // RPC method name unknown
  kInternal,            // a bug: an invariant of our own code broke
  kUnauthenticated,     // the connection has not called auth(token), or the token is wrong
};

// The class-like word a wire error message starts with, e.g. "InvalidArgument".
std::string_view ErrorClassName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {Code::kFailedPrecondition, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {Code::kResourceExhausted, std::move(m)};
  }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status NoSuchMethod(std::string m) { return {Code::kNoSuchMethod, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "Class: message", the form RPC error replies carry.
  std::string ToString() const;

  // A copy whose message is "context: message" (for adding context while propagating).
  Status Prefixed(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace coordinated

// Early-return helpers.
#define COORD_RETURN_IF_ERROR(expr)     \
  do {                                  \
    ::coordinated::Status _st = (expr); \
    if (!_st.ok()) return _st;          \
  } while (0)

#define COORD_CONCAT_INNER(a, b) a##b
#define COORD_CONCAT(a, b) COORD_CONCAT_INNER(a, b)
#define COORD_ASSIGN_OR_RETURN(lhs, expr) \
  COORD_ASSIGN_OR_RETURN_IMPL(COORD_CONCAT(_sor_, __LINE__), lhs, expr)
#define COORD_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
