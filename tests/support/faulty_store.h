// FaultyStore: a Store in one directory, opened on a fresh FaultFs (fault_fs.h) each time, with
// the two ways a test ends a run: a power loss (only synced data survives) or a process crash
// (everything written survives, as the page cache does).
//
//   FaultyStore fs(dir + "/db");
//   ASSERT_TRUE(fs.Open().ok());
//   fs.faults()->SetSyncError(true);  ...  fs.store()->Write(...)
//   ASSERT_TRUE(fs.PowerLossAndClose().ok());
//   ASSERT_TRUE(fs.Open().ok());      // a healthy disk again
#pragma once

#include <rocksdb/env.h>

#include <memory>
#include <string>
#include <utility>

#include "storage/store.h"
#include "support/fault_fs.h"

namespace coordtest {

class FaultyStore {
 public:
  explicit FaultyStore(std::string path) : path_(std::move(path)) {}
  ~FaultyStore() { Close(); }

  coordinated::Status Open(bool sync = true) {
    Close();
    fs_ = std::make_shared<FaultFs>();
    env_ = rocksdb::NewCompositeEnv(fs_);
    coordinated::storage::StoreOptions o;
    o.path = path_;
    o.sync = sync;
    o.env = env_.get();
    auto s = coordinated::storage::Store::Open(o);
    if (!s.ok()) return s.status();
    store_ = std::move(s).value();
    return coordinated::Status::Ok();
  }
  // A crash of the process: the store closes, every byte written stays.
  void Close() {
    store_.reset();
    env_.reset();
    fs_.reset();
  }
  // The power goes off: nothing more becomes durable; the store closes; the disk keeps only
  // what was synced.
  rocksdb::IOStatus PowerLossAndClose(FaultFs::DropStats* dropped = nullptr) {
    fs_->PowerOff();
    store_.reset();
    rocksdb::IOStatus s = fs_->DropUnsyncedData(dropped);
    Close();
    return s;
  }

  coordinated::storage::Store* store() const { return store_.get(); }
  FaultFs* faults() const { return fs_.get(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::shared_ptr<FaultFs> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<coordinated::storage::Store> store_;
};

}  // namespace coordtest
