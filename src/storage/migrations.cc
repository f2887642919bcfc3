#include "storage/migrations.h"

#include <fmt/format.h>

#include <vector>

#include "storage/keys.h"
#include "storage/store.h"

namespace coordinated::storage {

const std::vector<Migration>& Migrations() {
  // Version 1 is the initial format (migrations/0001_initial.md): nothing to migrate from.
  static const std::vector<Migration> kSteps = {};
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
