#include "storage/migrations.h"

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <vector>

#include "storage/attempts.h"
#include "storage/keys.h"
#include "storage/records.h"
#include "storage/store.h"

namespace coordinated::storage {

namespace {

// A step's writes, applied in batches of up to 20,000 operations (a step over millions of
// units must not build one batch of them all), then synced once.
class StepWriter {
 public:
  explicit StepWriter(Store* store) : store_(store) {}
  WriteBatch& batch() { return batch_; }
  // Applies the batch once it is full.
  Status Maybe() {
    if (batch_.Count() < 20000) return Status::Ok();
    Status s = store_->Write(batch_);
    batch_.Clear();
    return s;
  }
  Status Finish() {
    if (!batch_.empty()) COORD_RETURN_IF_ERROR(store_->Write(batch_));
    return store_->Sync();
  }

 private:
  Store* store_;
  WriteBatch batch_;
};

// 1 -> 2 (migrations/0002_waiting_index.md): every AVAILABLE unit gets an available_since time
// (the migration's time: how long it waited before is not recorded in version 1) and its
// kWaiting entry. Idempotent: a re-run rewrites the same keys with a later time after deleting
// the entries of the earlier run.
Status AddWaitingIndex(Store* store) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  WriteBatch clear;
  clear.DeleteRange(Cf::kWaiting, "", std::string(8, '\xff'));
  COORD_RETURN_IF_ERROR(store->Write(clear));
  StepWriter w(store);
  auto it = store->NewIterator(Cf::kUnits, "", "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    COORD_ASSIGN_OR_RETURN(UnitRecord u, DecodeUnit(it->value()));
    if (u.status != kAvailable) continue;
    const std::string_view k = it->key();
    if (k.size() < 4) return Status::Corruption("unit key shorter than a spec id");
    u.available_since = now;
    w.batch().Put(Cf::kUnits, k, EncodeUnit(u));
    w.batch().Put(Cf::kWaiting, keys::Waiting(GetU32(k), WaitingSince(u), k.substr(4)), "");
    COORD_RETURN_IF_ERROR(w.Maybe());
  }
  COORD_RETURN_IF_ERROR(it->status());
  return w.Finish();
}

// 2 -> 3 (migrations/0003_narrow_by_status.md): by_status keeps only units no other index lists
// in its order: PENDING entries go (leases lists them all), and AVAILABLE entries of units not
// delayed go (ready is the same order). Idempotent: a re-run finds nothing more to delete.
Status NarrowByStatus(Store* store) {
  StepWriter w(store);
  auto it = store->NewIterator(Cf::kByStatus, "", "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    // Damage (a short key, a unit record that does not decode) is left as found for `check`
    // to report and `check --repair` to rebuild: a migration that stopped on it would leave a
    // store no binary opens.
    int status = 0;
    const DecodedIndexKey d = DecodeStatusIndexKey(it->key(), &status);
    if (!d.valid) continue;
    bool drop = status == kPending;
    if (status == kAvailable) {
      std::string v;
      Status s = store->Get(Cf::kUnits, keys::Unit(d.spec, d.unit_key), &v);
      if (s.ok()) {
        auto u = DecodeUnit(v);
        drop = u.ok() && u->status == kAvailable && !InByStatus(*u);
      } else if (s.code() != Code::kNotFound) {
        return s;
      }
    }
    if (!drop) continue;
    w.batch().Delete(Cf::kByStatus, it->key());
    COORD_RETURN_IF_ERROR(w.Maybe());
  }
  COORD_RETURN_IF_ERROR(it->status());
  return w.Finish();
}

// 3 -> 4 (migrations/0004_open_attempt_in_unit.md): a PENDING unit's current attempt moves from
// its kAttempts record into the unit record (lease_start = the attempt's start); the attempt
// record is deleted in the same batch. Idempotent: a unit already moved has no record left.
Status MoveOpenAttempts(Store* store) {
  StepWriter w(store);
  auto it = store->NewIterator(Cf::kLeases, "", "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    // Damage is skipped, as in NarrowByStatus; a PENDING unit this pass does not reach (its
    // lease entry lost) is folded by `check --repair` (repair.h).
    const DecodedIndexKey d = DecodeIndexKey(it->key());
    if (!d.valid) continue;
    std::string v;
    const std::string uk = keys::Unit(d.spec, d.unit_key);
    Status s = store->Get(Cf::kUnits, uk, &v);
    if (s.code() == Code::kNotFound) continue;
    COORD_RETURN_IF_ERROR(s);
    auto u = DecodeUnit(v);
    if (!u.ok()) continue;
    COORD_ASSIGN_OR_RETURN(bool folded,
                           FoldStoredOpenAttempt(*store, d.spec, d.unit_key, &*u, &w.batch()));
    if (!folded) continue;  // not PENDING, or moved already
    w.batch().Put(Cf::kUnits, uk, EncodeUnit(*u));
    COORD_RETURN_IF_ERROR(w.Maybe());
  }
  COORD_RETURN_IF_ERROR(it->status());
  return w.Finish();
}

}  // namespace

const std::vector<Migration>& Migrations() {
  // Version 1 is the initial format (migrations/0001_initial.md).
  static const std::vector<Migration> kSteps = {
      {1, 2, "migrations/0002_waiting_index.md", AddWaitingIndex},
      {2, 3, "migrations/0003_narrow_by_status.md", NarrowByStatus},
      {3, 4, "migrations/0004_open_attempt_in_unit.md", MoveOpenAttempts},
  };
  return kSteps;
}

StatusOr<uint64_t> ReadFormatVersion(const Store* store) {
  std::string v;
  Status s = store->Get(Cf::kMeta, keys::kFormatVersion, &v);
  if (s.code() == Code::kNotFound) return uint64_t{0};
  if (!s.ok()) return s;
  if (v.size() != 8) return Status::Corruption("format_version is not 8 bytes");
  return GetU64(v);
}

static Status WriteVersion(Store* store, WriteBatch& batch, uint64_t version) {
  std::string v;
  PutU64(&v, version);
  batch.Put(Cf::kMeta, keys::kFormatVersion, v);
  return store->Write(batch);
}

Status CheckFormatVersion(const Store* store) {
  COORD_ASSIGN_OR_RETURN(uint64_t version, ReadFormatVersion(store));
  if (version > kFormatVersion) {
    return Status::FailedPrecondition(fmt::format(
        "the store at {} has format version {}, newer than this coordinated supports ({}); "
        "run a newer coordinated",
        store->path(), version, kFormatVersion));
  }
  if (version != 0 && version < kFormatVersion) {
    return Status::FailedPrecondition(fmt::format(
        "the store at {} has format version {}; start coordinated on it once to migrate it to {}",
        store->path(), version, kFormatVersion));
  }
  return Status::Ok();
}

Status RunMigrations(Store* store) {
  COORD_ASSIGN_OR_RETURN(uint64_t version, ReadFormatVersion(store));
  if (version > kFormatVersion) return CheckFormatVersion(store);
  if (version == 0) {
    // Either brand new or not ours: a store with specs but no version is not a store we wrote.
    auto it = store->NewIterator(Cf::kSpecs, "", "");
    it->SeekToFirst();
    if (it->Valid()) {
      return Status::Corruption("the store at " + store->path() +
                                " holds data but no format version");
    }
    WriteBatch batch;
    return WriteVersion(store, batch, kFormatVersion);
  }
  for (const auto& step : Migrations()) {
    if (step.from != version) continue;
    COORD_RETURN_IF_ERROR(step.apply(store).Prefixed(std::string(step.doc)));
    WriteBatch batch;
    COORD_RETURN_IF_ERROR(WriteVersion(store, batch, step.to));
    version = step.to;
  }
  if (version != kFormatVersion) {
    return Status::FailedPrecondition(
        fmt::format("no migration path from format version {} to {}", version, kFormatVersion));
  }
  return Status::Ok();
}

}  // namespace coordinated::storage
