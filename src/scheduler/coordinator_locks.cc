// Coordinator: the lock service (the Go daemon's hierarchical lock tree, made durable).
//
// A lock path is a list of labels compared by exact CBOR value (a text "a" and a byte string
// b"a" are different labels). Keys in the locks column family are the concatenation of each
// label's length-prefixed CBOR encoding, so a path's key is a prefix of exactly its
// descendants' keys: an ancestor is found with one Get per label, descendants with one seek.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "common/cbor.h"
#include "scheduler/coordinator.h"
#include "scheduler/coordinator_txn.h"
#include "storage/keys.h"

namespace coordinated::scheduler {

using storage::Cf;
using storage::LockRecord;
namespace keys = storage::keys;

namespace {

constexpr double kDefaultLockTimeout = 60;     // a timeout of 0 (or less) means this
constexpr double kMaxLockTimeout = 1'000'000;  // longer timeouts are capped here

struct LockPath {
  Value path;
  std::string key;
  std::vector<size_t> boundaries;  // key length after each label (last = key.size())
};

StatusOr<std::vector<LockPath>> ParsePaths(const Value& paths) {
  if (!paths.is_sequence()) return Status::InvalidArgument("lock paths must be a list of paths");
  std::vector<LockPath> out;
  for (const Value& p : paths.items()) {
    if (!p.is_sequence() || p.items().empty()) {
      return Status::InvalidArgument("a lock path must be a non-empty list of labels, got " +
                                     p.ToDiagnostic());
    }
    LockPath lp;
    lp.path = p;
    for (const Value& label : p.items()) {
      lp.key += keys::LockLabel(EncodeCbor(label));
      lp.boundaries.push_back(lp.key.size());
    }
    out.push_back(std::move(lp));
  }
  return out;
}

// Whole seconds, as the Go daemon's integer timeouts: 0.5 is 0, which means the default.
double TimeoutOf(const Value& v) {
  const double t = std::floor(v.AsNumber().value_or(0));
  if (!std::isfinite(t) || t <= 0) return kDefaultLockTimeout;
  return std::min(t, kMaxLockTimeout);
}

// A locker is identified by its id's bytes, whether sent as a byte or a text string.
bool SameLocker(const Value& a, const Value& b) {
  return a.is_string() && b.is_string() ? a.str() == b.str() : a == b;
}

// "[a b]", as the Go daemon printed paths.
std::string PathText(const Value& path) {
  std::string out = "[";
  bool first = true;
  for (const Value& label : path.items()) {
    if (!first) out += " ";
    first = false;
    out += label.is_string() ? label.str() : label.ToDiagnostic();
  }
  return out + "]";
}

std::string OwnerText(const Value& owner) {
  return owner.is_string() ? owner.str() : owner.ToDiagnostic();
}

}  // namespace

namespace {
// Reads a live (unexpired) lock at exactly `key`.
std::optional<LockRecord> LiveLock(const storage::Store* store, std::string_view key, double now) {
  std::string v;
  if (!store->Get(Cf::kLocks, key, &v).ok()) return std::nullopt;
  auto rec = storage::DecodeLock(v);
  if (!rec.ok() || rec->deadline <= now) return std::nullopt;
  return std::move(rec).value();
}

// True when `p` can be locked: nothing live at an ancestor, at `p` or below it, neither in the
// store nor among `taking` (keys being locked by the same call).
bool Lockable(const storage::Store* store, const LockPath& p, double now,
              const std::set<std::string>& taking) {
  for (size_t b : p.boundaries) {
    const std::string prefix = p.key.substr(0, b);
    if (taking.count(prefix) || LiveLock(store, prefix, now)) return false;
  }
  for (const auto& t : taking) {
    if (t.size() > p.key.size() && t.compare(0, p.key.size(), p.key) == 0) return false;
  }
  auto it = store->NewIterator(Cf::kLocks, p.key, keys::PrefixEnd(p.key));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto rec = storage::DecodeLock(it->value());
    if (rec.ok() && rec->deadline > now) return false;
  }
  return true;
}
}  // namespace

StatusOr<std::pair<bool, std::string>> Coordinator::Lock(const Value& locker, const Value& timeout,
                                                         const Value& paths) {
  COORD_RETURN_IF_ERROR(ValidateName(locker, "locker id", options_.max_name_bytes));
  COORD_ASSIGN_OR_RETURN(auto parsed, ParsePaths(paths));
  const double now = clock_->Now();
  const double deadline = now + TimeoutOf(timeout);
  std::set<std::string> taking;
  for (const auto& p : parsed) {
    if (!Lockable(store_, p, now, taking)) {
      return std::make_pair(false, PathText(p.path) + " is not lockable");
    }
    taking.insert(p.key);
  }
  Txn txn(this);
  for (const auto& p : parsed) {
    txn.batch().Put(Cf::kLocks, p.key, storage::EncodeLock({locker, deadline, p.path}));
  }
  COORD_RETURN_IF_ERROR(txn.Commit());
  return std::make_pair(true, std::string());
}

StatusOr<Value> Coordinator::LockSome(const Value& locker, const Value& timeout,
                                      const Value& paths) {
  COORD_RETURN_IF_ERROR(ValidateName(locker, "locker id", options_.max_name_bytes));
  COORD_ASSIGN_OR_RETURN(auto parsed, ParsePaths(paths));
  if (parsed.empty()) return Value::Null();
  const double now = clock_->Now();
  const double deadline = now + TimeoutOf(timeout);
  std::set<std::string> taking;
  Value out = Value::Array();
  Txn txn(this);
  for (const auto& p : parsed) {
    if (Lockable(store_, p, now, taking)) {
      taking.insert(p.key);
      txn.batch().Put(Cf::kLocks, p.key, storage::EncodeLock({locker, deadline, p.path}));
      out.Append(p.path);
    } else {
      out.Append(Value::Null());
    }
  }
  COORD_RETURN_IF_ERROR(txn.Commit());
  return out;
}

StatusOr<std::pair<bool, std::string>> Coordinator::Renew(const Value& locker, const Value& timeout,
                                                          const Value& paths) {
  COORD_ASSIGN_OR_RETURN(auto parsed, ParsePaths(paths));
  const double now = clock_->Now();
  const double deadline = now + TimeoutOf(timeout);
  for (const auto& p : parsed) {
    auto held = LiveLock(store_, p.key, now);
    if (!held) return std::make_pair(false, PathText(p.path) + " is held by None");
    if (!SameLocker(held->owner, locker)) {
      return std::make_pair(false, PathText(p.path) + " is held by " + OwnerText(held->owner));
    }
  }
  Txn txn(this);
  for (const auto& p : parsed) {
    txn.batch().Put(Cf::kLocks, p.key, storage::EncodeLock({locker, deadline, p.path}));
  }
  COORD_RETURN_IF_ERROR(txn.Commit());
  return std::make_pair(true, std::string());
}

StatusOr<std::vector<Value>> Coordinator::ReadLock(const Value& paths) {
  COORD_ASSIGN_OR_RETURN(auto parsed, ParsePaths(paths));
  const double now = clock_->Now();
  std::vector<Value> out;
  for (const auto& p : parsed) {
    auto held = LiveLock(store_, p.key, now);
    out.push_back(held ? held->owner : Value::Null());
  }
  return out;
}

StatusOr<std::pair<bool, std::string>> Coordinator::Unlock(const Value& locker,
                                                           const Value& paths) {
  COORD_ASSIGN_OR_RETURN(auto parsed, ParsePaths(paths));
  const double now = clock_->Now();
  for (const auto& p : parsed) {
    auto held = LiveLock(store_, p.key, now);
    if (!held) return std::make_pair(false, PathText(p.path) + " is not held");
    if (!SameLocker(held->owner, locker)) {
      return std::make_pair(false, PathText(p.path) + " is held by " + OwnerText(held->owner));
    }
  }
  Txn txn(this);
  for (const auto& p : parsed) txn.batch().Delete(Cf::kLocks, p.key);
  COORD_RETURN_IF_ERROR(txn.Commit());
  return std::make_pair(true, std::string());
}

StatusOr<uint64_t> Coordinator::DeleteNamespace(const Value& prefix) {
  const std::string k = keys::LockLabel(EncodeCbor(prefix));
  Txn txn(this);
  txn.batch().DeleteRange(Cf::kLocks, k, keys::PrefixEnd(k));
  COORD_RETURN_IF_ERROR(txn.Commit());
  return uint64_t{0};
}

StatusOr<std::vector<LockRecord>> Coordinator::ListLocks() {
  std::vector<LockRecord> out;
  const double now = clock_->Now();
  auto it = store_->NewIterator(Cf::kLocks, "", "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto rec = storage::DecodeLock(it->value());
    if (!rec.ok()) return rec.status();
    if (rec->deadline > now) out.push_back(std::move(rec).value());
  }
  COORD_RETURN_IF_ERROR(it->status());
  return out;
}

Status Coordinator::PruneLocks(double now) {
  Txn txn(this);
  size_t pruned = 0;
  auto it = store_->NewIterator(Cf::kLocks, "", "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto rec = storage::DecodeLock(it->value());
    if (rec.ok() && rec->deadline > now) continue;
    txn.batch().Delete(Cf::kLocks, it->key());
    ++pruned;
  }
  COORD_RETURN_IF_ERROR(it->status());
  return pruned ? txn.Commit() : Status::Ok();
}

}  // namespace coordinated::scheduler
