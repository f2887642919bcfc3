// RpcBackend: the Backend through a running daemon (list_work_specs, get_work_units,
// get_work_unit_status, list_worker_modes, list_locks, check, ...).
#pragma once

#include "backend.h"
#include "coordinate/client.h"

namespace coordadmin {

class RpcBackend : public Backend {
 public:
  explicit RpcBackend(coordinate::Client* client) : c_(client) {}
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
  Status FillSpecs(std::vector<SpecRow>* rows);
  Status FillStatuses(const Value& spec, std::vector<UnitRow>* rows);
  coordinate::Client* c_;
};

}  // namespace coordadmin
