// Coordinator::CheckConsistency: the full-scan invariant check behind `coordinate-admin check`
// and the restart tests.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "scheduler/coordinator.h"
#include "scheduler/unit_index.h"
#include "storage/keys.h"

namespace coordinated::scheduler {

using storage::Cf;
using storage::UnitRecord;
namespace keys = storage::keys;

namespace {
std::string Printable(std::string_view key) { return Value::Bytes(key).ToDiagnostic(); }
}  // namespace

std::vector<std::string> Coordinator::CheckConsistency() const {
  std::vector<std::string> problems;
  auto has = [&](Cf cf, const std::string& k) {
    std::string v;
    return store_->Get(cf, k, &v).ok();
  };
  for (const auto& entry : specs_) {
    const std::string& name = entry.first;  // (a plain reference: lambdas below capture it)
    const SpecState* spec = entry.second.get();
    const std::string prefix = keys::Spec(spec->id);
    const std::string end = keys::PrefixEnd(prefix);
    std::array<uint64_t, 6> counts{};
    std::set<std::string, std::less<>> pending;  // listing positions of PENDING records
    auto it = store_->NewIterator(Cf::kUnits, prefix, end);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string key(it->key().substr(prefix.size()));
      auto rec = storage::DecodeUnit(it->value());
      if (!rec.ok()) {
        problems.push_back(
            fmt::format("spec {}: unit {}: {}", name, Printable(key), rec.status().ToString()));
        continue;
      }
      const UnitRecord& u = *rec;
      ++counts[u.status];
      if (u.status == storage::kPending) pending.insert(ListingPosition(u.priority, key));
      if (u.status == storage::kPending && u.attempts > 0 &&
          has(Cf::kAttempts, keys::Attempt(spec->id, key, u.attempts))) {
        problems.push_back(
            fmt::format("spec {}: unit {} is PENDING but its open attempt {} has a stored record",
                        name, Printable(key), u.attempts));
      }
      for (const IndexEntry& e : UnitIndexEntries(spec->id, key, u)) {
        if (!has(e.cf, e.key)) {
          problems.push_back(fmt::format("spec {}: unit {} has no {} entry", name, Printable(key),
                                         storage::CfName(e.cf)));
        }
      }
    }
    for (int s = 1; s <= 5; ++s) {
      if (counts[s] != spec->stats.counts[s]) {
        problems.push_back(fmt::format("spec {}: status {} counter says {}, a scan finds {}", name,
                                       s, spec->stats.counts[s], counts[s]));
      }
    }
    // The in-memory order of PENDING units, once built, lists exactly the PENDING records.
    if (spec->pending_order && *spec->pending_order != pending) {
      problems.push_back(fmt::format(
          "spec {}: the in-memory PENDING order holds {} units, the records say {} (or differ)",
          name, spec->pending_order->size(), pending.size()));
    }
    // Every index entry must point at a unit in the matching state.
    struct IndexCheck {
      Cf cf;
      bool with_status;
      const char* what;
    };
    for (IndexCheck ic :
         {IndexCheck{Cf::kReady, false, "ready"}, IndexCheck{Cf::kDelayed, false, "delayed"},
          IndexCheck{Cf::kLeases, false, "lease"}, IndexCheck{Cf::kByStatus, true, "by_status"},
          IndexCheck{Cf::kCompleted, true, "completed"},
          IndexCheck{Cf::kWaiting, false, "waiting"}}) {
      auto idx = store_->NewIterator(ic.cf, prefix, end);
      uint64_t entries = 0;
      for (idx->SeekToFirst(); idx->Valid(); idx->Next()) {
        ++entries;
        int status = 0;
        auto d = ic.with_status ? storage::DecodeStatusIndexKey(idx->key(), &status)
                                : storage::DecodeIndexKey(idx->key());
        if (!d.valid) {
          problems.push_back(fmt::format("spec {}: malformed {} index key {}", name, ic.what,
                                         Printable(idx->key())));
          continue;
        }
        std::string v;
        if (!store_->Get(Cf::kUnits, keys::Unit(spec->id, d.unit_key), &v).ok()) {
          problems.push_back(fmt::format("spec {}: {} entry for missing unit {}", name, ic.what,
                                         Printable(d.unit_key)));
          continue;
        }
        auto u = storage::DecodeUnit(v);
        if (!u.ok()) continue;  // reported above
        // Stale unless the unit's record implies exactly this entry.
        const std::vector<IndexEntry> implied = UnitIndexEntries(spec->id, d.unit_key, *u);
        const bool ok = std::find(implied.begin(), implied.end(),
                                  IndexEntry{ic.cf, std::string(idx->key())}) != implied.end();
        if (!ok) {
          problems.push_back(fmt::format("spec {}: stale {} entry for unit {} (status {})", name,
                                         ic.what, Printable(d.unit_key), u->status));
        }
      }
      (void)entries;
    }
  }
  // Dependency edges: mirrored both ways, and each unit's blocker count equals its edges.
  std::map<std::string, uint32_t> edges_of;  // dependent ref -> forward edges
  auto fwd = store_->NewIterator(Cf::kDepsForward, "", "");
  for (fwd->SeekToFirst(); fwd->Valid(); fwd->Next()) {
    storage::SpecId sid;
    std::string_view k;
    const size_t n = storage::DecodeUnitRef(fwd->key(), &sid, &k);
    if (n == 0) {
      problems.push_back("malformed deps_forward key");
      continue;
    }
    const std::string dref(fwd->key().substr(0, n));
    const std::string pref(fwd->key().substr(n));
    ++edges_of[dref];
    if (!has(Cf::kDepsReverse, pref + dref)) {
      problems.push_back("dependency edge of unit " + Printable(k) + " has no reverse entry");
    }
  }
  auto rev = store_->NewIterator(Cf::kDepsReverse, "", "");
  for (rev->SeekToFirst(); rev->Valid(); rev->Next()) {
    storage::SpecId sid;
    std::string_view k;
    const size_t n = storage::DecodeUnitRef(rev->key(), &sid, &k);
    if (n == 0) continue;
    const std::string pref(rev->key().substr(0, n));
    const std::string dref(rev->key().substr(n));
    if (!has(Cf::kDepsForward, dref + pref)) {
      problems.push_back("reverse dependency edge of unit " + Printable(k) +
                         " has no forward entry");
    }
  }
  for (const auto& [name, spec] : specs_) {
    const std::string prefix = keys::Spec(spec->id);
    auto it = store_->NewIterator(Cf::kUnits, prefix, keys::PrefixEnd(prefix));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto rec = storage::DecodeUnit(it->value());
      if (!rec.ok()) continue;
      const std::string key(it->key().substr(prefix.size()));
      auto e = edges_of.find(keys::UnitRef(spec->id, key));
      const uint32_t edges = e == edges_of.end() ? 0 : e->second;
      if (rec->blockers != edges) {
        problems.push_back(fmt::format("spec {}: unit {} counts {} blockers but has {} edges", name,
                                       Printable(key), rec->blockers, edges));
      }
      if ((rec->status == storage::kBlocked) != (rec->blockers > 0) &&
          (rec->status == storage::kBlocked || rec->status == storage::kAvailable)) {
        problems.push_back(fmt::format("spec {}: unit {} is {} with {} blockers", name,
                                       Printable(key), rec->status, rec->blockers));
      }
    }
  }
  return problems;
}

}  // namespace coordinated::scheduler
