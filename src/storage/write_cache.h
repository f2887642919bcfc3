// WriteCache: the values most recently written to some column families, so that a point read of
// a value written moments ago is answered without searching RocksDB's memtables.
//
// Why. A claimed unit's record is read again when the unit is finished, failed or its lease
// renewed, usually within milliseconds and while it still sits in a memtable holding hundreds
// of thousands of entries; each such read is a skip-list search.
//
// Contract. The cache is write-through and only ever holds what the store holds: the store puts
// a value into it after a batch that wrote it (marked `read_soon`) was applied, erases a key
// after a batch that deleted it or wrote it without the mark was applied, erases the keys in the
// range of an applied range delete, and clears everything after a failed write. So Get
// returning true gives exactly the bytes RocksDB would return; false means "ask RocksDB" (the
// key may or may not exist). Deleted keys are not remembered.
//
// Memory. Entries are charged their key and value bytes plus a fixed overhead; past the budget
// the oldest written entries are dropped first. A budget of 0 turns the cache off.
//
// Thread-safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "storage/column_families.h"

namespace coordinated::storage {

class WriteCache {
 public:
  explicit WriteCache(size_t budget_bytes) : budget_(budget_bytes) {}
  WriteCache(const WriteCache&) = delete;
  WriteCache& operator=(const WriteCache&) = delete;

  bool enabled() const { return budget_ > 0; }
  // Copies the cached value of `key` in `cf` into *value and returns true, or returns false.
  bool Get(Cf cf, std::string_view key, std::string* value) const;
  void Put(Cf cf, std::string_view key, std::string_view value);
  void Erase(Cf cf, std::string_view key);
  // Erases every cached key k of `cf` with begin <= k < end.
  void EraseRange(Cf cf, std::string_view begin, std::string_view end);
  void Clear();

  size_t bytes() const;
  size_t entries() const;
  uint64_t hits() const;

  // Bytes charged per entry beyond its key and value (list and hash nodes, string headers).
  static constexpr size_t kEntryOverhead = 128;

 private:
  struct Entry {
    Cf cf;
    std::string key;
    std::string value;
  };
  using Index = std::map<std::string_view, std::list<Entry>::iterator>;
  static size_t Charge(const Entry& e) { return e.key.size() + e.value.size() + kEntryOverhead; }
  Index& IndexOf(Cf cf) { return index_[CfIndex(cf)]; }
  void EraseLocked(Cf cf, std::string_view key);
  void EraseLocked(Index& index, Index::iterator it);

  const size_t budget_;
  mutable std::mutex mu_;
  std::list<Entry> order_;  // oldest written first (guarded by mu_)
  // Per column family, ordered for range deletes. Keys are views of the entries' own `key`
  // strings, which list nodes keep in place.
  Index index_[static_cast<size_t>(Cf::kCount)];  // guarded by mu_
  size_t bytes_ = 0;                              // guarded by mu_
  mutable uint64_t hits_ = 0;                     // guarded by mu_
};

}  // namespace coordinated::storage
