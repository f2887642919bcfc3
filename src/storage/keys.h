// Key encodings. Every key sorts correctly under RocksDB's bytewise comparator:
//  * spec ids are 4-byte big-endian integers, first in every per-spec key;
//  * priorities are 8-byte order-preserving images of IEEE doubles, inverted so that a forward
//    scan yields the highest priority first;
//  * times (deadlines, not-before, completion) are 8-byte big-endian microseconds since the
//    Unix epoch, offset by 2^63 so that times before 1970 still sort;
//  * a unit key is raw bytes and always the last component of a key it is sorted by, so any
//    byte sequence (NUL, 0xFF, invalid UTF-8) sorts bytewise with no escaping; where something
//    must follow a variable-length component, that component is length-prefixed (4 bytes).
// See docs/storage-format.md for the layout of each column family.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace coordinated::storage {

using SpecId = uint32_t;

void PutU32(std::string* out, uint32_t v);
void PutU64(std::string* out, uint64_t v);
uint32_t GetU32(std::string_view in);  // first 4 bytes, big-endian
uint64_t GetU64(std::string_view in);  // first 8 bytes, big-endian

// Order-preserving encodings.
uint64_t SortableDouble(double d);  // a < b  <=>  SortableDouble(a) < SortableDouble(b)
double FromSortableDouble(uint64_t u);
uint64_t InvertedPriority(double priority);  // higher priority sorts first
double FromInvertedPriority(uint64_t u);
uint64_t TimeKey(double unix_seconds);  // microseconds + 2^63
double FromTimeKey(uint64_t u);

namespace keys {
std::string Spec(SpecId id);  // also the prefix of every per-spec key
std::string Unit(SpecId id, std::string_view key);
std::string Ready(SpecId id, double priority, std::string_view key);
std::string Delayed(SpecId id, double not_before, std::string_view key);
std::string Lease(SpecId id, double deadline, std::string_view key);
std::string Waiting(SpecId id, double since, std::string_view key);
std::string StatusPrefix(SpecId id, int status);
std::string ByStatus(SpecId id, int status, double priority, std::string_view key);
std::string CompletedPrefix(SpecId id, int status);
std::string Completed(SpecId id, int status, double when, std::string_view key);
std::string AttemptPrefix(SpecId id, std::string_view key);
std::string Attempt(SpecId id, std::string_view key, uint32_t number);
std::string WorkerUnitPrefix(std::string_view worker);
std::string WorkerUnit(std::string_view worker, SpecId id, std::string_view key);
std::string ChildPrefix(std::string_view parent);
std::string Child(std::string_view parent, std::string_view child);
// A lock path: each label as a 4-byte length and its CBOR encoding, so a path's key is a
// prefix of its descendants' keys exactly at label boundaries.
std::string LockLabel(std::string_view encoded_label);
// A unit reference inside dependency keys: spec id, 4-byte key length, key.
std::string UnitRef(SpecId id, std::string_view key);
std::string DepEdge(SpecId from_spec, std::string_view from_key, SpecId to_spec,
                    std::string_view to_key);
// Meta keys.
inline constexpr std::string_view kFormatVersion = "format_version";
inline constexpr std::string_view kNextSpecId = "next_spec_id";
inline constexpr std::string_view kMode = "mode";
std::string SpecStats(SpecId id);  // "stats/" + spec id
inline constexpr std::string_view kSpecStatsPrefix = "stats/";

// The smallest key greater than every key starting with `prefix` ("" when none exists).
std::string PrefixEnd(std::string_view prefix);
}  // namespace keys

// Decoding of the components after a known prefix.
struct DecodedIndexKey {
  SpecId spec = 0;
  uint64_t number = 0;  // priority image or time key, by column family
  std::string_view unit_key;
  bool valid = true;  // false: the key was too short to hold its fixed fields (a damaged store)
};
// Splits a unit reference at the start of `k` (as written by UnitRef); returns its length,
// 0 when malformed.
size_t DecodeUnitRef(std::string_view k, SpecId* spec, std::string_view* key);

// For kReady/kDelayed/kLeases/kWaiting keys (spec, 8 bytes, unit key). A key shorter than
// 12 bytes decodes as {valid = false} with zero fields; nothing past its end is read.
DecodedIndexKey DecodeIndexKey(std::string_view k);
// For kByStatus/kCompleted keys (spec, status byte, 8 bytes, unit key). A key shorter than 13
// bytes decodes as {valid = false}, status -1.
DecodedIndexKey DecodeStatusIndexKey(std::string_view k, int* status);

}  // namespace coordinated::storage
