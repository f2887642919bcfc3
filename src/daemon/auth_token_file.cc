#include "daemon/auth_token_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace coordinated::daemon {
namespace {

// Closes the descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// A token is a short secret; a bigger file is a mistake (a wrong path), not a token.
constexpr size_t kMaxTokenFileBytes = 64 * 1024;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

StatusOr<std::string> ReadAuthTokenFile(const std::string& path) {
  // Checked on the open descriptor, so the file read is the file whose mode was checked.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    return Status::IOError(
        fmt::format("cannot open auth token file {}: {}", path, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Status::IOError(
        fmt::format("cannot stat auth token file {}: {}", path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::FailedPrecondition(
        fmt::format("auth token file {} is not a regular file", path));
  }
  if ((st.st_mode & 077) != 0) {
    return Status::FailedPrecondition(
        fmt::format("auth token file {} is accessible by group or others (mode {:04o}); "
                    "run: chmod 600 {}",
                    path, st.st_mode & 07777, path));
  }
  std::string token;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status::IOError(
          fmt::format("cannot read auth token file {}: {}", path, std::strerror(errno)));
    }
    if (n == 0) break;
    token.append(buf, static_cast<size_t>(n));
    if (token.size() > kMaxTokenFileBytes) {
      return Status::InvalidArgument(
          fmt::format("auth token file {} is larger than {} bytes; is it the right file?", path,
                      kMaxTokenFileBytes));
    }
  }
  while (!token.empty() && IsSpace(token.back())) token.pop_back();
  if (token.empty()) {
    return Status::InvalidArgument(fmt::format("auth token file {} is empty", path));
  }
  return token;
}

}  // namespace coordinated::daemon
