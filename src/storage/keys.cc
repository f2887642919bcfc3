#include "storage/keys.h"

#include <cmath>
#include <cstring>

namespace coordinated::storage {

void PutU32(std::string* out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out->push_back(static_cast<char>(v >> s));
}
void PutU64(std::string* out, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out->push_back(static_cast<char>(v >> s));
}
uint32_t GetU32(std::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}
uint64_t GetU64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

uint64_t SortableDouble(double d) {
  if (d == 0) d = 0;  // -0.0 and 0.0 sort together
  if (std::isnan(d)) d = 0;
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  // Negative: flip all bits (larger magnitude sorts first); positive: flip the sign bit.
  return (u & (1ull << 63)) ? ~u : (u | (1ull << 63));
}
double FromSortableDouble(uint64_t u) {
  u = (u & (1ull << 63)) ? (u & ~(1ull << 63)) : ~u;
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}
uint64_t InvertedPriority(double priority) { return ~SortableDouble(priority); }
double FromInvertedPriority(uint64_t u) { return FromSortableDouble(~u); }

uint64_t TimeKey(double unix_seconds) {
  double us = std::floor(unix_seconds * 1e6);
  if (!(us > -9.2e18)) us = -9.2e18;  // also catches NaN
  if (us > 9.2e18) us = 9.2e18;
  return static_cast<uint64_t>(static_cast<int64_t>(us)) ^ (1ull << 63);
}
double FromTimeKey(uint64_t u) {
  return static_cast<double>(static_cast<int64_t>(u ^ (1ull << 63))) / 1e6;
}

namespace keys {

std::string Spec(SpecId id) {
  std::string k;
  PutU32(&k, id);
  return k;
}
std::string Unit(SpecId id, std::string_view key) {
  std::string k = Spec(id);
  k.append(key);
  return k;
}
static std::string IdNumKey(SpecId id, uint64_t n, std::string_view key) {
  std::string k = Spec(id);
  PutU64(&k, n);
  k.append(key);
  return k;
}
std::string Ready(SpecId id, double priority, std::string_view key) {
  return IdNumKey(id, InvertedPriority(priority), key);
}
std::string Delayed(SpecId id, double not_before, std::string_view key) {
  return IdNumKey(id, TimeKey(not_before), key);
}
std::string Lease(SpecId id, double deadline, std::string_view key) {
  return IdNumKey(id, TimeKey(deadline), key);
}
std::string Waiting(SpecId id, double since, std::string_view key) {
  return IdNumKey(id, TimeKey(since), key);
}
std::string StatusPrefix(SpecId id, int status) {
  std::string k = Spec(id);
  k.push_back(static_cast<char>(status));
  return k;
}
std::string ByStatus(SpecId id, int status, double priority, std::string_view key) {
  std::string k = StatusPrefix(id, status);
  PutU64(&k, InvertedPriority(priority));
  k.append(key);
  return k;
}
std::string CompletedPrefix(SpecId id, int status) { return StatusPrefix(id, status); }
std::string Completed(SpecId id, int status, double when, std::string_view key) {
  std::string k = StatusPrefix(id, status);
  PutU64(&k, TimeKey(when));
  k.append(key);
  return k;
}
std::string AttemptPrefix(SpecId id, std::string_view key) {
  std::string k = Spec(id);
  PutU32(&k, static_cast<uint32_t>(key.size()));
  k.append(key);
  return k;
}
std::string Attempt(SpecId id, std::string_view key, uint32_t number) {
  std::string k = AttemptPrefix(id, key);
  PutU32(&k, number);
  return k;
}
std::string WorkerUnitPrefix(std::string_view worker) {
  std::string k;
  PutU32(&k, static_cast<uint32_t>(worker.size()));
  k.append(worker);
  return k;
}
std::string WorkerUnit(std::string_view worker, SpecId id, std::string_view key) {
  std::string k = WorkerUnitPrefix(worker);
  PutU32(&k, id);
  k.append(key);
  return k;
}
std::string ChildPrefix(std::string_view parent) { return WorkerUnitPrefix(parent); }
std::string Child(std::string_view parent, std::string_view child) {
  std::string k = ChildPrefix(parent);
  k.append(child);
  return k;
}
std::string LockLabel(std::string_view encoded_label) {
  std::string k;
  PutU32(&k, static_cast<uint32_t>(encoded_label.size()));
  k.append(encoded_label);
  return k;
}
std::string UnitRef(SpecId id, std::string_view key) { return AttemptPrefix(id, key); }
std::string DepEdge(SpecId from_spec, std::string_view from_key, SpecId to_spec,
                    std::string_view to_key) {
  return UnitRef(from_spec, from_key) + UnitRef(to_spec, to_key);
}
std::string SpecStats(SpecId id) {
  std::string k(kSpecStatsPrefix);
  PutU32(&k, id);
  return k;
}
std::string PrefixEnd(std::string_view prefix) {
  std::string k(prefix);
  while (!k.empty()) {
    if (static_cast<uint8_t>(k.back()) != 0xff) {
      k.back() = static_cast<char>(static_cast<uint8_t>(k.back()) + 1);
      return k;
    }
    k.pop_back();
  }
  return k;
}

}  // namespace keys

size_t DecodeUnitRef(std::string_view k, SpecId* spec, std::string_view* key) {
  if (k.size() < 8) return 0;
  *spec = GetU32(k);
  const uint32_t len = GetU32(k.substr(4));
  if (k.size() < 8 + static_cast<size_t>(len)) return 0;
  *key = k.substr(8, len);
  return 8 + len;
}

DecodedIndexKey DecodeIndexKey(std::string_view k) {
  DecodedIndexKey d;
  if (k.size() < 12) {
    d.valid = false;
    return d;
  }
  d.spec = GetU32(k);
  d.number = GetU64(k.substr(4));
  d.unit_key = k.substr(12);
  return d;
}

DecodedIndexKey DecodeStatusIndexKey(std::string_view k, int* status) {
  DecodedIndexKey d;
  if (k.size() < 13) {
    d.valid = false;
    *status = -1;
    return d;
  }
  d.spec = GetU32(k);
  *status = static_cast<uint8_t>(k[4]);
  d.number = GetU64(k.substr(5));
  d.unit_key = k.substr(13);
  return d;
}

}  // namespace coordinated::storage
