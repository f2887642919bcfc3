#include "run_config.h"

#include <algorithm>
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
  // As "u%010llu" would print it, without printf's cost (the load generator makes one per unit).
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + i % 10);
    i /= 10;
  } while (i > 0);
  std::string key(1 + std::max(n, 10), '0');
  key[0] = 'u';
  for (int d = 0; d < n; ++d) key[key.size() - 1 - static_cast<size_t>(d)] = digits[d];
  return key;
}

}  // namespace coordinate::bench
