#include "storage/attempts.h"

#include "storage/store.h"

namespace coordinated::storage {

StatusOr<std::vector<NumberedAttempt>> ReadAttempts(const Store& store, SpecId spec,
                                                    std::string_view key, const UnitRecord& unit) {
  std::vector<NumberedAttempt> out;
  const std::string prefix = keys::AttemptPrefix(spec, key);
  auto it = store.NewIterator(Cf::kAttempts, prefix, keys::PrefixEnd(prefix));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != prefix.size() + 4) continue;  // not an attempt key of this unit
    const uint32_t number = GetU32(it->key().substr(prefix.size()));
    // The open attempt's number is never stored; a record there would be stale.
    if (unit.status == kPending && number == unit.attempts) continue;
    auto a = DecodeAttempt(it->value());
    if (!a.ok()) return a.status().Prefixed("attempt record");
    out.push_back({number, std::move(*a)});
  }
  COORD_RETURN_IF_ERROR(it->status());
  if (unit.status == kPending && unit.attempts > 0) {
    out.push_back({unit.attempts, OpenAttempt(unit)});
  }
  return out;
}

StatusOr<bool> FoldStoredOpenAttempt(const Store& store, SpecId spec, std::string_view key,
                                     UnitRecord* unit, WriteBatch* batch) {
  if (unit->status != kPending || unit->attempts == 0) return false;
  const std::string k = keys::Attempt(spec, key, unit->attempts);
  std::string v;
  Status s = store.Get(Cf::kAttempts, k, &v);
  if (s.code() == Code::kNotFound) return false;
  COORD_RETURN_IF_ERROR(s);
  if (auto a = DecodeAttempt(v); a.ok() && unit->lease_start == 0) unit->lease_start = a->start;
  batch->Delete(Cf::kAttempts, k);
  return true;
}

}  // namespace coordinated::storage
