#include "run_config.h"

#include <cstdio>

namespace coordinate::bench {

const char* WorkloadName(Workload w) {
  switch (w) {
    case Workload::kFloor:
      return "floor";
    case Workload::kAdd:
      return "add";
    case Workload::kDo:
      return "do";
    case Workload::kMixed:
      return "mixed";
    case Workload::kRestart:
      return "restart";
  }
  return "?";
}

namespace {
const char* SyncName(SyncMode s) {
  switch (s) {
    case SyncMode::kOn:
      return "on";
    case SyncMode::kOff:
      return "off";
    case SyncMode::kExternal:
      return "ext";
  }
  return "?";
}
}  // namespace

std::string Label(const RunConfig& c) {
  std::string out = WorkloadName(c.workload);
  if (c.workload != Workload::kRestart) out += " w=" + std::to_string(c.workers);
  if (c.workload == Workload::kFloor) return out;
  if (c.workload == Workload::kDo) out += " k=" + std::to_string(c.batch);
  if (c.workload == Workload::kAdd) out += " batch=" + std::to_string(c.batch);
  out += std::string(" sync=") + SyncName(c.sync);
  out += " specs=" + std::to_string(c.specs);
  out += " payload=" + std::to_string(c.payload);
  out += " backlog=" + std::to_string(c.backlog);
  if (c.idle > 0) out += " idle=" + std::to_string(c.idle);
  if (c.settle) out += " settled";
  return out;
}

std::string SpecName(const RunConfig& c, int i) {
  if (c.specs <= 1) return c.spec_prefix;
  char buf[16];
  std::snprintf(buf, sizeof buf, "-%04d", i);
  return c.spec_prefix + buf;
}

std::string UnitKey(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "u%010llu", static_cast<unsigned long long>(i));
  return buf;
}

}  // namespace coordinate::bench
