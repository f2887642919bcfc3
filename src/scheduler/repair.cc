// RepairStore: see repair.h.
#include "scheduler/repair.h"

#include <fmt/format.h>

#include <array>
#include <map>

#include "scheduler/unit_index.h"
#include "storage/attempts.h"
#include "storage/keys.h"
#include "storage/records.h"

namespace coordinated::scheduler {

using storage::Cf;
using storage::SpecId;
namespace keys = storage::keys;

namespace {

constexpr size_t kBatchOps = 10000;

// Collects writes and applies them every kBatchOps operations.
class Batcher {
 public:
  explicit Batcher(storage::Store* store) : store_(store) {}
  storage::WriteBatch& batch() { return batch_; }
  Status Maybe() { return batch_.Count() >= kBatchOps ? Flush() : Status::Ok(); }
  Status Flush() {
    Status s = store_->Write(batch_);
    batch_.Clear();
    return s;
  }

 private:
  storage::Store* store_;
  storage::WriteBatch batch_;
};

// Deletes every key of a column family; returns how many there were.
StatusOr<uint64_t> EmptyFamily(storage::Store* store, Cf cf) {
  Batcher b(store);
  uint64_t n = 0;
  auto it = store->NewIterator(cf, "", "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    b.batch().Delete(cf, it->key());
    ++n;
    COORD_RETURN_IF_ERROR(b.Maybe());
  }
  COORD_RETURN_IF_ERROR(it->status());
  COORD_RETURN_IF_ERROR(b.Flush());
  return n;
}

std::string Printable(std::string_view key) { return Value::Bytes(key).ToDiagnostic(); }

}  // namespace

StatusOr<RepairReport> RepairStore(storage::Store* store) {
  RepairReport report;

  // Forward edges: how many each dependent unit has.
  std::map<std::string, uint32_t> edges_of;  // dependent unit ref -> forward edges
  {
    auto it = store->NewIterator(Cf::kDepsForward, "", "");
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      SpecId sid;
      std::string_view k;
      const size_t n = storage::DecodeUnitRef(it->key(), &sid, &k);
      if (n == 0) {
        report.notes.push_back("malformed deps_forward key left in place");
        continue;
      }
      ++edges_of[std::string(it->key().substr(0, n))];
    }
    COORD_RETURN_IF_ERROR(it->status());
  }

  // 1. Empty the derived families.
  for (Cf cf : kUnitIndexFamilies) {
    COORD_ASSIGN_OR_RETURN(uint64_t n, EmptyFamily(store, cf));
    report.index_entries_removed += n;
  }
  COORD_ASSIGN_OR_RETURN(uint64_t old_reverse, EmptyFamily(store, Cf::kDepsReverse));
  (void)old_reverse;

  // 2. Reverse edges from forward edges.
  {
    Batcher b(store);
    auto it = store->NewIterator(Cf::kDepsForward, "", "");
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      SpecId sid;
      std::string_view k;
      const size_t n = storage::DecodeUnitRef(it->key(), &sid, &k);
      if (n == 0) continue;
      const std::string_view dref = it->key().substr(0, n);
      const std::string_view pref = it->key().substr(n);
      std::string rev(pref);
      rev.append(dref);
      b.batch().Put(Cf::kDepsReverse, rev, it->value());
      ++report.reverse_edges_written;
      COORD_RETURN_IF_ERROR(b.Maybe());
    }
    COORD_RETURN_IF_ERROR(it->status());
    COORD_RETURN_IF_ERROR(b.Flush());
  }

  // 3. Per spec: index entries, blockers and counters from the unit records.
  std::vector<SpecId> ids;
  {
    auto it = store->NewIterator(Cf::kSpecs, "", "");
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() == 4) ids.push_back(storage::GetU32(it->key()));
    }
    COORD_RETURN_IF_ERROR(it->status());
  }
  for (SpecId id : ids) {
    ++report.specs;
    storage::SpecStats stats;
    std::string v;
    Status s = store->Get(Cf::kMeta, keys::SpecStats(id), &v);
    if (s.ok()) {
      auto st = storage::DecodeStats(v);
      if (st.ok()) {
        stats = *st;
      } else {
        report.notes.push_back(fmt::format("spec {}: unreadable counters replaced", id));
      }
    } else if (s.code() != Code::kNotFound) {
      return s;
    }
    std::array<uint64_t, 6> counts{};
    Batcher b(store);
    const std::string prefix = keys::Spec(id);
    auto it = store->NewIterator(Cf::kUnits, prefix, keys::PrefixEnd(prefix));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string key(it->key().substr(prefix.size()));
      auto rec = storage::DecodeUnit(it->value());
      if (!rec.ok()) {
        report.notes.push_back(fmt::format("spec {}: unit {} does not decode ({}); left alone", id,
                                           Printable(key), rec.status().message()));
        continue;
      }
      storage::UnitRecord u = std::move(rec).value();
      auto e = edges_of.find(keys::UnitRef(id, key));
      const uint32_t edges = e == edges_of.end() ? 0 : e->second;
      bool rewrite = false;
      if (u.blockers != edges) {
        u.blockers = edges;
        rewrite = true;
      }
      if (u.status == storage::kAvailable && u.blockers > 0) {
        u.status = storage::kBlocked;
        rewrite = true;
      } else if (u.status == storage::kBlocked && u.blockers == 0) {
        u.status = storage::kAvailable;
        rewrite = true;
      }
      if (rewrite) ++report.blockers_fixed;
      // A PENDING unit's open attempt belongs in its record, not in the attempts family.
      COORD_ASSIGN_OR_RETURN(bool folded,
                             storage::FoldStoredOpenAttempt(*store, id, key, &u, &b.batch()));
      if (folded) ++report.open_attempts_folded;
      if (rewrite || folded) b.batch().Put(Cf::kUnits, it->key(), storage::EncodeUnit(u));
      for (const IndexEntry& ie : UnitIndexEntries(id, key, u)) {
        b.batch().Put(ie.cf, ie.key, "");
        ++report.index_entries_written;
      }
      if (storage::ValidStatus(u.status)) ++counts[u.status];
      ++report.units;
      COORD_RETURN_IF_ERROR(b.Maybe());
    }
    COORD_RETURN_IF_ERROR(it->status());
    if (counts != stats.counts) {
      ++report.counters_fixed;
      stats.counts = counts;
    }
    b.batch().Put(Cf::kMeta, keys::SpecStats(id), storage::EncodeStats(stats));
    COORD_RETURN_IF_ERROR(b.Flush());
  }
  COORD_RETURN_IF_ERROR(store->Sync());
  return report;
}

}  // namespace coordinated::scheduler
