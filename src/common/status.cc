#include "common/status.h"

namespace coordinated {

namespace {
// The one table of error codes and their wire names.
struct CodeRow {
  Code code;
  std::string_view name;
};
constexpr CodeRow kCodeTable[] = {
    {Code::kOk, "OK"},
    {Code::kNotFound, "NotFound"},
    {Code::kAlreadyExists, "AlreadyExists"},
    {Code::kInvalidArgument, "InvalidArgument"},
    {Code::kFailedPrecondition, "FailedPrecondition"},
    {Code::kResourceExhausted, "ResourceExhausted"},
    {Code::kCorruption, "Corruption"},
    {Code::kIOError, "IOError"},
    {Code::kUnavailable, "Unavailable"},
    {Code::kNoSuchMethod, "NoSuchMethod"},
    {Code::kInternal, "InternalError"},
    {Code::kUnauthenticated, "Unauthenticated"},
};
}  // namespace

std::string_view ErrorClassName(Code code) {
  for (const auto& row : kCodeTable) {
    if (row.code == code) return row.name;
  }
  return "InternalError";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(ErrorClassName(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::Prefixed(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

}  // namespace coordinated
