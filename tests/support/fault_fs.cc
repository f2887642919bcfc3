#include "support/fault_fs.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

namespace coordtest {

using rocksdb::FileOptions;
using rocksdb::FSDirectory;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

namespace {

std::string Normal(const std::string& path) {
  std::string p = std::filesystem::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string ParentOf(const std::string& path) {
  return Normal(std::filesystem::path(Normal(path)).parent_path().string());
}

// A file being written through FaultFs: forwards to the real file and keeps its FileState.
class TrackedFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedFile(std::unique_ptr<FSWritableFile> target, FaultFs* fs,
              std::shared_ptr<FaultFs::FileState> st)
      : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs), st_(std::move(st)) {}

  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* dbg) override {
    IOStatus s = fs_->BeforeAppend(data.size());
    if (!s.ok()) return s;
    s = target()->Append(data, o, dbg);
    if (s.ok()) fs_->AfterAppend(st_.get(), data.size());
    return s;
  }
  IOStatus Append(const Slice& data, const IOOptions& o, const rocksdb::DataVerificationInfo&,
                  IODebugContext* dbg) override {
    return Append(data, o, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* dbg) override {
    IOStatus s = fs_->BeforeAppend(data.size());
    if (!s.ok()) return s;
    s = target()->PositionedAppend(data, offset, o, dbg);
    if (s.ok()) {
      std::lock_guard<std::mutex> l(fs_->mu());
      st_->size = std::max<uint64_t>(st_->size, offset + data.size());
    }
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            const rocksdb::DataVerificationInfo&, IODebugContext* dbg) override {
    return PositionedAppend(data, offset, o, dbg);
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o, IODebugContext* dbg) override {
    IOStatus s = target()->Truncate(size, o, dbg);
    if (s.ok()) {
      std::lock_guard<std::mutex> l(fs_->mu());
      st_->size = size;
      st_->synced = std::min(st_->synced, size);
    }
    return s;
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override { return DoSync(o, dbg, false); }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override { return DoSync(o, dbg, true); }

 private:
  IOStatus DoSync(const IOOptions& o, IODebugContext* dbg, bool full) {
    if (fs_->powered_off()) return IOStatus::OK();
    IOStatus s = fs_->BeforeSync();
    if (!s.ok()) return s;
    const uint64_t size = fs_->SizeOf(st_.get());
    s = full ? target()->Fsync(o, dbg) : target()->Sync(o, dbg);
    if (s.ok()) {
      fs_->AfterSync(st_.get(), size);
    } else {
      fs_->CountFailedSync();
    }
    return s;
  }

  FaultFs* fs_;
  std::shared_ptr<FaultFs::FileState> st_;
};

class TrackedDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDirectory(std::unique_ptr<FSDirectory> target, FaultFs* fs, std::string name)
      : FSDirectoryWrapper(std::move(target)), fs_(fs), name_(Normal(name)) {}
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    if (fs_->powered_off()) return IOStatus::OK();
    if (IOStatus e = fs_->BeforeSync(); !e.ok()) return e;
    return Done(FSDirectoryWrapper::Fsync(o, dbg));
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& d) override {
    if (fs_->powered_off()) return IOStatus::OK();
    if (IOStatus e = fs_->BeforeSync(); !e.ok()) return e;
    return Done(FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, d));
  }

 private:
  IOStatus Done(IOStatus s) {
    if (s.ok()) fs_->DirSynced(name_);
    return s;
  }
  FaultFs* fs_;
  std::string name_;
};

}  // namespace

FaultFs::FaultFs(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(base ? std::move(base) : rocksdb::FileSystem::Default()) {}

void FaultFs::SetSpaceLimit(uint64_t bytes) {
  std::lock_guard<std::mutex> l(mu_);
  space_left_ = bytes;
}

void FaultFs::ClearSpaceLimit() {
  std::lock_guard<std::mutex> l(mu_);
  space_left_.reset();
}

void FaultFs::SimulateWriteback() {
  if (powered_off()) return;
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [name, st] : files_) {
    st->synced = st->size;
    st->dir_durable = true;
  }
}

IOStatus FaultFs::BeforeAppend(size_t n) {
  if (write_error_.load()) return IOStatus::IOError("injected write failure");
  std::lock_guard<std::mutex> l(mu_);
  if (space_left_) {
    if (*space_left_ < n) {
      no_space_errors_.fetch_add(1);
      return IOStatus::NoSpace("injected: no space left on device");
    }
    *space_left_ -= n;
  }
  return IOStatus::OK();
}

IOStatus FaultFs::BeforeSync() {
  if (sync_error_.load()) {
    failed_syncs_.fetch_add(1);
    return IOStatus::IOError("injected sync failure");
  }
  return IOStatus::OK();
}

void FaultFs::AfterAppend(FileState* st, size_t n) {
  std::lock_guard<std::mutex> l(mu_);
  st->size += n;
}

void FaultFs::AfterSync(FileState* st, uint64_t size_before) {
  syncs_.fetch_add(1);
  std::lock_guard<std::mutex> l(mu_);
  st->synced = std::max(st->synced, std::min(size_before, st->size));
}

uint64_t FaultFs::SizeOf(FileState* st) {
  std::lock_guard<std::mutex> l(mu_);
  return st->size;
}

void FaultFs::DirSynced(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [name, st] : files_) {
    if (ParentOf(name) == dir) st->dir_durable = true;
  }
}

std::shared_ptr<FaultFs::FileState> FaultFs::Track(const std::string& f, FileState initial) {
  auto st = std::make_shared<FileState>(initial);
  std::lock_guard<std::mutex> l(mu_);
  files_[Normal(f)] = st;
  return st;
}

IOStatus FaultFs::NewWritableFile(const std::string& f, const FileOptions& o,
                                  std::unique_ptr<FSWritableFile>* r, IODebugContext* dbg) {
  // Re-creating a file whose entry is durable keeps the entry durable (only its data is new).
  bool durable = target_->FileExists(f, IOOptions(), dbg).ok();
  if (durable && powered_off()) {
    // Truncating it would destroy data the disk still holds.
    return IOStatus::IOError("power is off: cannot re-create " + f);
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = files_.find(Normal(f));
    if (it != files_.end()) durable = durable && it->second->dir_durable;
  }
  std::unique_ptr<FSWritableFile> file;
  IOStatus s = target_->NewWritableFile(f, o, &file, dbg);
  if (!s.ok()) return s;
  *r = std::make_unique<TrackedFile>(std::move(file), this, Track(f, {0, 0, durable}));
  return s;
}

IOStatus FaultFs::ReopenWritableFile(const std::string& f, const FileOptions& o,
                                     std::unique_ptr<FSWritableFile>* r, IODebugContext* dbg) {
  std::unique_ptr<FSWritableFile> file;
  IOStatus s = target_->ReopenWritableFile(f, o, &file, dbg);
  if (!s.ok()) return s;
  std::shared_ptr<FileState> st;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = files_.find(Normal(f));
    if (it != files_.end()) st = it->second;
  }
  if (!st) {
    uint64_t size = 0;
    (void)target_->GetFileSize(f, IOOptions(), &size, dbg);
    st = Track(f, {size, size, true});
  }
  *r = std::make_unique<TrackedFile>(std::move(file), this, st);
  return s;
}

IOStatus FaultFs::ReuseWritableFile(const std::string& f, const std::string& old,
                                    const FileOptions& o, std::unique_ptr<FSWritableFile>* r,
                                    IODebugContext* dbg) {
  if (powered_off()) return IOStatus::IOError("power is off: cannot reuse " + old);
  std::unique_ptr<FSWritableFile> file;
  IOStatus s = target_->ReuseWritableFile(f, old, o, &file, dbg);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> l(mu_);
    files_.erase(Normal(old));
  }
  *r = std::make_unique<TrackedFile>(std::move(file), this, Track(f, {0, 0, true}));
  return s;
}

IOStatus FaultFs::NewDirectory(const std::string& name, const IOOptions& o,
                               std::unique_ptr<FSDirectory>* r, IODebugContext* dbg) {
  std::unique_ptr<FSDirectory> dir;
  IOStatus s = target_->NewDirectory(name, o, &dir, dbg);
  if (!s.ok()) return s;
  *r = std::make_unique<TrackedDirectory>(std::move(dir), this, name);
  return s;
}

IOStatus FaultFs::DeleteFile(const std::string& f, const IOOptions& o, IODebugContext* dbg) {
  if (powered_off()) return IOStatus::OK();
  IOStatus s = target_->DeleteFile(f, o, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    files_.erase(Normal(f));
  }
  return s;
}

IOStatus FaultFs::RenameFile(const std::string& src, const std::string& dst, const IOOptions& o,
                             IODebugContext* dbg) {
  if (powered_off()) return IOStatus::OK();
  IOStatus s = target_->RenameFile(src, dst, o, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = files_.find(Normal(src));
    if (it != files_.end()) {
      auto st = it->second;
      files_.erase(it);
      st->dir_durable = true;  // see the header: renames count as durable
      files_[Normal(dst)] = st;
    } else {
      files_.erase(Normal(dst));
    }
  }
  return s;
}

IOStatus FaultFs::LinkFile(const std::string& src, const std::string& dst, const IOOptions& o,
                           IODebugContext* dbg) {
  if (powered_off()) return IOStatus::OK();
  return target_->LinkFile(src, dst, o, dbg);
}

IOStatus FaultFs::Truncate(const std::string& f, size_t size, const IOOptions& o,
                           IODebugContext* dbg) {
  if (powered_off()) return IOStatus::OK();
  IOStatus s = target_->Truncate(f, size, o, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = files_.find(Normal(f));
    if (it != files_.end()) {
      it->second->size = size;
      it->second->synced = std::min<uint64_t>(it->second->synced, size);
    }
  }
  return s;
}

IOStatus FaultFs::CreateDir(const std::string& d, const IOOptions& o, IODebugContext* dbg) {
  if (powered_off()) return IOStatus::OK();
  return target_->CreateDir(d, o, dbg);
}

IOStatus FaultFs::CreateDirIfMissing(const std::string& d, const IOOptions& o,
                                     IODebugContext* dbg) {
  if (powered_off()) return IOStatus::OK();
  return target_->CreateDirIfMissing(d, o, dbg);
}

IOStatus FaultFs::DeleteDir(const std::string& d, const IOOptions& o, IODebugContext* dbg) {
  if (powered_off()) return IOStatus::OK();
  return target_->DeleteDir(d, o, dbg);
}

IOStatus FaultFs::GetFreeSpace(const std::string& path, const IOOptions& o, uint64_t* free,
                               IODebugContext* dbg) {
  if (free_space_unknown_.load()) return IOStatus::NotSupported("free space unknown");
  {
    std::lock_guard<std::mutex> l(mu_);
    if (space_left_) {
      *free = *space_left_;
      return IOStatus::OK();
    }
  }
  return target_->GetFreeSpace(path, o, free, dbg);
}

IOStatus FaultFs::DropUnsyncedData(DropStats* stats) {
  DropStats local;
  std::vector<std::pair<std::string, FileState>> files;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [name, st] : files_) files.emplace_back(name, *st);
  }
  for (const auto& [name, st] : files) {
    if (!target_->FileExists(name, IOOptions(), nullptr).ok()) continue;
    if (!st.dir_durable) {
      IOStatus s = target_->DeleteFile(name, IOOptions(), nullptr);
      if (!s.ok()) return s;
      ++local.files_deleted;
      continue;
    }
    uint64_t size = 0;
    IOStatus s = target_->GetFileSize(name, IOOptions(), &size, nullptr);
    if (!s.ok()) return s;
    if (size > st.synced) {
      // The POSIX file system does not implement FileSystem::Truncate.
      if (::truncate(name.c_str(), static_cast<off_t>(st.synced)) != 0) {
        return IOStatus::IOError("truncate " + name, std::strerror(errno));
      }
      ++local.files_truncated;
      local.bytes_dropped += size - st.synced;
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    files_.clear();
  }
  if (stats) *stats = local;
  return IOStatus::OK();
}

}  // namespace coordtest
