// Dump and restore: the whole store as JSON lines, and back (behind `coordinate-admin dump` and
// `coordinate-admin restore`; docs/admin.md describes the format line by line).
//
// A dump is a header line, then one line per global setting, spec, unit (with its attempt
// records), worker, worker-unit link, lock and dependency edge, then a trailer line with counts
// and a checksum. Every client value (names, keys, data, definitions, worker ids, lock paths)
// goes through ValueToJson, an encoding that keeps each CBOR distinction JSON cannot hold
// (bytes vs text, tuples, tags and UUIDs, non-string map keys, map order, ints vs floats).
//
// Restore writes the records and rebuilds everything derived from them: every unit index entry
// (UnitIndexEntries), every SpecStats counter (archived counts and next_continuous come from the
// dump), the reverse dependency edges and the worker parent/child links, in batches. Dumping a
// restored store gives the dump it came from, byte for byte, except the header's time.
//
// Both work on a storage::Store directly; the caller opens it (read-only for dumps) and makes
// sure no daemon writes to it meanwhile. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/value.h"
#include "storage/store.h"

namespace coordinated::scheduler {

using Json = nlohmann::ordered_json;

// ---- the JSON value encoding ----------------------------------------------------------------
//
//   null, true/false               as JSON
//   integers                       JSON integers; below -2^63: {"$int": "<decimal>"}
//   floats                         JSON numbers that always carry a '.' or an exponent;
//                                  {"$float": "inf" | "-inf" | "nan" | "nan:<16 hex digits>"}
//   text strings                   JSON strings; not UTF-8: {"$text_base64": "<base64>"}
//   byte strings                   {"$bytes": "<the bytes as text>"} when they are UTF-8, else
//                                  {"$base64": "<base64>"}
//   arrays                         JSON arrays
//   tuples (tag 128)               {"$tuple": [...]}
//   maps                           a JSON object when every key is UTF-8 text, none starts with
//                                  '$' and none repeats; {"$bmap": {...}} when every key is a
//                                  UTF-8 byte string and none repeats; else
//                                  {"$map": [[key, value], ...]}. Entry order is kept.
//   UUIDs (tag 37 over 16 bytes)   {"$uuid": "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"}
//   other tags                     {"$tag": n, "value": ...}
//   undefined, simple values       {"$undefined": true}, {"$simple": n}
Json ValueToJson(const Value& v);
// The inverse; kInvalidArgument for JSON that is not an encoding (unknown "$" form, bad base64).
StatusOr<Value> ValueFromJson(const Json& j);

// Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);
std::string Base64Encode(std::string_view bytes);
StatusOr<std::string> Base64Decode(std::string_view text);
// A JSON document on one line (valid UTF-8 guaranteed by the encoding above).
std::string JsonLine(const Json& j);

// ---- dump and restore -----------------------------------------------------------------------

inline constexpr std::string_view kDumpFormat = "coordinate-dump";
inline constexpr uint64_t kDumpFormatVersion = 1;

struct DumpCounts {
  uint64_t specs = 0;
  uint64_t units = 0;
  uint64_t attempts = 0;
  uint64_t workers = 0;
  uint64_t worker_units = 0;
  uint64_t locks = 0;
  uint64_t deps = 0;
  bool operator==(const DumpCounts&) const = default;
};

// Progress of a dump or restore, reported every few thousand units and once at the end.
struct DumpProgress {
  uint64_t units = 0;        // units written or read so far
  uint64_t total_units = 0;  // expected units (dump: from the counters; restore: 0 = unknown)
  uint64_t bytes = 0;        // restore: input bytes consumed so far
  bool done = false;
};
using ProgressFn = std::function<void(const DumpProgress&)>;

struct DumpOptions {
  std::string daemon_version;  // written to the header
  double now = 0;              // header time (Unix seconds); 0 = the system clock
  ProgressFn progress;         // optional
};

// Writes the dump of `store` to `out`. Orphaned records (units or attempts of a spec that no
// longer exists, reverse edges without a forward edge) are not part of a dump.
StatusOr<DumpCounts> DumpStore(const storage::Store& store, std::ostream& out,
                               const DumpOptions& options);

struct RestoreOptions {
  bool force = false;         // replace the contents of a non-empty store
  size_t batch_units = 1000;  // units per write batch
  ProgressFn progress;        // optional
};

// True when the store holds nothing but its format version.
StatusOr<bool> StoreIsEmpty(const storage::Store& store);
// Deletes every record except the format version.
Status ClearStore(storage::Store* store);

// Reads a dump from `in` into `store`. Refuses (kFailedPrecondition) a non-empty store unless
// options.force, in which case its contents are deleted first. A dump of a newer format, a
// malformed line, a reference to an unknown spec, or a missing/mismatched trailer is an error
// (kInvalidArgument / kCorruption); the records read before the error stay written, so the
// store must then be restored again (with force).
StatusOr<DumpCounts> RestoreStore(storage::Store* store, std::istream& in,
                                  const RestoreOptions& options);

}  // namespace coordinated::scheduler
