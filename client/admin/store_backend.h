// StoreBackend: the Backend over a data directory opened read-only. Reads records directly (no
// Coordinator calls that could write: nothing here expires leases or releases delayed units).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "backend.h"
#include "storage/keys.h"
#include "storage/records.h"
#include "storage/store.h"

namespace coordadmin {

class StoreBackend : public Backend {
 public:
  // `store` must outlive the backend.
  static StatusOr<std::unique_ptr<StoreBackend>> Create(coordinated::storage::Store* store);

  StatusOr<std::vector<SpecRow>> Specs() override;
  StatusOr<std::optional<SpecRow>> Spec(const Value& name) override;
  StatusOr<std::vector<UnitRow>> Units(const UnitQuery& query) override;
  StatusOr<std::optional<UnitRow>> Unit(const Value& spec, const Value& key) override;
  StatusOr<std::vector<WorkerRow>> Workers() override;
  StatusOr<std::optional<WorkerRow>> Worker(const Value& id) override;
  StatusOr<std::vector<LockRow>> Locks() override;
  StatusOr<std::vector<std::string>> Check() override;
  double Now() override;

 private:
  struct SpecEntry {
    coordinated::storage::SpecId id = 0;
    coordinated::storage::SpecRecord record;
    coordinated::storage::SpecStats stats;
  };
  explicit StoreBackend(coordinated::storage::Store* store) : store_(store) {}
  Status Load();
  const SpecEntry* Find(const Value& name) const;
  SpecRow RowOf(const SpecEntry& e) const;
  StatusOr<UnitRow> RowOf(const SpecEntry& e, std::string_view key,
                          const coordinated::storage::UnitRecord& u);
  // The key as the unit record says it was created (bytes or text), bytes when unknown.
  Value KeyValue(coordinated::storage::SpecId id, std::string_view key);
  Value SpecName(coordinated::storage::SpecId id) const;
  StatusOr<WorkerRow> WorkerOf(std::string_view key, const coordinated::storage::WorkerRecord& w,
                               bool details);

  coordinated::storage::Store* store_;
  std::map<std::string, SpecEntry> specs_;  // by name bytes
};

}  // namespace coordadmin
