#include "snapshot.h"

#include <fmt/format.h>

#include "workload.h"

namespace crashtest {

using coordinate::B;
using coordinated::Status;
using coordinated::StatusOr;
using coordinated::Value;

namespace {

constexpr int64_t kPage = 10000;       // get_work_units' largest page
constexpr size_t kStatusChunk = 2000;  // keys per get_work_unit_status call

Status ReadSpec(coordinate::Api& api, const std::string& spec, StoreSnapshot* out) {
  std::vector<std::string> keys;
  std::optional<Value> start;
  while (true) {
    coordinate::GetWorkUnitsOptions o;
    o.limit = kPage;
    o.start = start;
    COORD_ASSIGN_OR_RETURN(auto page, api.GetWorkUnits(B(spec), o));
    for (const auto& kv : page) keys.push_back(kv.first.str());
    if (static_cast<int64_t>(page.size()) < kPage) break;
    start = B(keys.back() + std::string(1, '\0'));  // `start` is inclusive
  }
  for (size_t i = 0; i < keys.size(); i += kStatusChunk) {
    std::vector<Value> chunk;
    for (size_t j = i; j < keys.size() && j < i + kStatusChunk; ++j) chunk.push_back(B(keys[j]));
    COORD_ASSIGN_OR_RETURN(auto st, api.GetWorkUnitStatus(B(spec), chunk));
    if (st.size() != chunk.size()) return Status::IOError("get_work_unit_status: wrong length");
    for (size_t j = 0; j < st.size(); ++j) {
      // Listed a moment ago and nothing else runs: a unit cannot vanish in between.
      if (!st[j]) return Status::Internal("listed unit has no status: " + chunk[j].str());
      UnitState u;
      u.status = st[j]->status;
      if (st[j]->worker_id && st[j]->worker_id->is_string()) u.worker = st[j]->worker_id->str();
      out->units[UnitId{spec, chunk[j].str()}] = u;
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<StoreSnapshot> TakeSnapshot(coordinate::Api& api) {
  StoreSnapshot snap;
  for (const auto& spec : WorkloadSpecs()) {
    Status s = ReadSpec(api, spec, &snap);
    if (!s.ok()) return Status(s.code(), "reading " + spec + ": " + s.message());
  }
  std::vector<Value> paths;
  std::vector<std::string> labels;
  for (int i = 0; i < kLockPaths; ++i) {
    labels.push_back(fmt::format("p{}", i));
    paths.push_back(LockPath(labels.back()));
  }
  snap.locks_read_invoke = WallNow();
  COORD_ASSIGN_OR_RETURN(auto owners, api.ReadLock(paths));
  snap.locks_read_complete = WallNow();
  if (owners.size() != labels.size()) return Status::IOError("readlock: wrong length");
  for (size_t i = 0; i < labels.size(); ++i) {
    snap.lock_owner[labels[i]] = owners[i] && owners[i]->is_string()
                                     ? std::optional<std::string>(owners[i]->str())
                                     : std::nullopt;
  }
  COORD_ASSIGN_OR_RETURN(snap.check_problems, api.Check());
  return snap;
}

}  // namespace crashtest
