// TempStore: a real RocksDB Store in a fresh mkdtemp directory, removed afterwards.
//
//   class MyTest : public coordtest::TempStoreTest {};   // fixture: store() is open
//   TEST_F(MyTest, X) { store()->Write(...); ReopenStore(); ... }
//
// Or standalone: coordtest::TempDir dir; auto store = OpenStoreAt(dir.path() + "/db");
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "storage/store.h"

namespace coordtest {

// A directory created with mkdtemp under $TMPDIR (or /tmp), removed recursively on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/coord-unit-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline coordinated::StatusOr<std::unique_ptr<coordinated::storage::Store>> OpenStoreAt(
    const std::string& path, bool sync = true, bool read_only = false) {
  coordinated::storage::StoreOptions o;
  o.path = path;
  o.sync = sync;
  o.read_only = read_only;
  return coordinated::storage::Store::Open(o);
}

// Fixture: a store open at <tempdir>/db for the whole test.
class TempStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
    OpenStore();
  }
  void TearDown() override { store_.reset(); }

  std::string db_path() const { return dir_.path() + "/db"; }
  const std::string& dir() const { return dir_.path(); }
  coordinated::storage::Store* store() { return store_.get(); }

  void OpenStore(bool sync = true) {
    auto s = OpenStoreAt(db_path(), sync);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void CloseStore() { store_.reset(); }
  void ReopenStore(bool sync = true) {
    store_.reset();
    OpenStore(sync);
  }

 private:
  TempDir dir_;
  std::unique_ptr<coordinated::storage::Store> store_;
};

}  // namespace coordtest
