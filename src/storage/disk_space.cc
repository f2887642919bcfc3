#include "storage/disk_space.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace coordinated::storage {

namespace {
Status Errno(const std::string& what, int err) {
  return Status::IOError(what + ": " + std::strerror(err));
}
}  // namespace

std::string FormatBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < sizeof(kUnits) / sizeof(kUnits[0])) {
    v /= 1024;
    ++unit;
  }
  if (unit == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.1f} {}", v, kUnits[unit]);
}

StatusOr<uint64_t> FreeSpaceOf(const std::string& dir) {
  struct statvfs st;
  if (::statvfs(dir.c_str(), &st) != 0) return Errno("statvfs " + dir, errno);
  return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
}

DiskSpaceGuard::DiskSpaceGuard(DiskSpaceOptions options, FreeSpaceFn free_space)
    : options_(std::move(options)), free_space_(std::move(free_space)) {}

std::string DiskSpaceGuard::reserve_path() const { return options_.dir + "/" + kReserveFileName; }

Status DiskSpaceGuard::Init() {
  struct stat st;
  const bool exists = ::stat(reserve_path().c_str(), &st) == 0;
  const bool wanted = options_.min_free_bytes > 0 && options_.reserve_bytes > 0;
  if (exists && (!wanted || static_cast<uint64_t>(st.st_size) != options_.reserve_bytes)) {
    // Off, or a reserve of another size (the setting changed): start from none.
    COORD_RETURN_IF_ERROR(DeleteReserve());
  } else if (exists) {
    reserve_held_.store(true);
  }
  return Refresh();
}

Status DiskSpaceGuard::Refresh() {
  if (options_.min_free_bytes == 0) {
    low_.store(false);
    return Status::Ok();
  }
  COORD_ASSIGN_OR_RETURN(uint64_t free, free_space_(options_.dir));
  free_bytes_.store(free);
  const uint64_t missing = reserve_held_.load() ? 0 : options_.reserve_bytes;
  const uint64_t counted = free > missing ? free - missing : 0;
  const bool low = counted < options_.min_free_bytes;
  low_.store(low);
  if (low && reserve_held_.load()) return DeleteReserve();
  if (!low && !reserve_held_.load() && options_.reserve_bytes > 0) return CreateReserve();
  return Status::Ok();
}

Status DiskSpaceGuard::CheckCanGrow() const {
  if (!low_.load()) return Status::Ok();
  return Status::ResourceExhausted(fmt::format(
      "disk space low: {} free for the data directory {}, below storage.min_free_bytes ({}); "
      "new work is refused until space is freed (finishing, failing and renewing still work)",
      FormatBytes(free_bytes_.load()), options_.dir, FormatBytes(options_.min_free_bytes)));
}

Status DiskSpaceGuard::CreateReserve() {
  const std::string path = reserve_path();
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create " + path, errno);
  const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(options_.reserve_bytes));
  ::close(fd);
  if (err != 0) {
    ::unlink(path.c_str());
    return Errno("cannot allocate " + FormatBytes(options_.reserve_bytes) + " for " + path, err);
  }
  reserve_held_.store(true);
  return Status::Ok();
}

Status DiskSpaceGuard::DeleteReserve() {
  const std::string path = reserve_path();
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("cannot delete " + path, errno);
  reserve_held_.store(false);
  return Status::Ok();
}

}  // namespace coordinated::storage
