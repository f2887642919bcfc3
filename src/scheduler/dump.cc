// Dump and restore (see dump.h and docs/admin.md): the JSON value encoding, the dump writer and
// the restore reader.
#include "scheduler/dump.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <istream>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <vector>

#include "common/cbor.h"
#include "scheduler/unit_index.h"
#include "storage/attempts.h"
#include "storage/keys.h"
#include "storage/migrations.h"
#include "storage/records.h"

namespace coordinated::scheduler {

using storage::Cf;
using storage::SpecId;
namespace keys = storage::keys;

// ---- small helpers ----------------------------------------------------------------------------

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlong forms
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return false;
    }
    if (i + len > n) return false;
    const auto c1 = static_cast<uint8_t>(s[i + 1]);
    if (c1 < lo || c1 > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      const auto ck = static_cast<uint8_t>(s[i + k]);
      if (ck < 0x80 || ck > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

StatusOr<std::string> Base64Decode(std::string_view text) {
  auto digit = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return Status::InvalidArgument("base64 length is not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int d[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        d[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return Status::InvalidArgument("bad base64 padding");
      d[k] = digit(c);
      if (d[k] < 0) return Status::InvalidArgument("bad base64 character");
    }
    const uint32_t v = (d[0] << 18) | (d[1] << 12) | (d[2] << 6) | d[3];
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xFF));
  }
  return out;
}

std::string JsonLine(const Json& j) {
  // The encoding only puts valid UTF-8 into strings; `replace` just guarantees no exception.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// ---- the value encoding -----------------------------------------------------------------------

namespace {

Json Wrap(const char* key, Json value) {
  Json o = Json::object();
  o[key] = std::move(value);
  return o;
}

std::string U128ToString(unsigned __int128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v > 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return std::string(s.rbegin(), s.rend());
}

Json FloatJson(double d) {
  if (std::isfinite(d)) return Json(d);
  if (std::isinf(d)) return Wrap("$float", d > 0 ? "inf" : "-inf");
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  if (bits == 0x7ff8000000000000ull) return Wrap("$float", "nan");
  return Wrap("$float", fmt::format("nan:{:016x}", bits));
}

std::string UuidText(std::string_view b) {
  std::string out;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out += fmt::format("{:02x}", static_cast<uint8_t>(b[i]));
  }
  return out;
}

std::optional<std::string> ParseUuid(std::string_view s) {
  if (s.size() != 36) return std::nullopt;
  std::string out;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  size_t i = 0;
  while (i < s.size()) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int h = hex(s[i]), l = hex(s[i + 1]);
    if (h < 0 || l < 0) return std::nullopt;
    out.push_back(static_cast<char>(h * 16 + l));
    i += 2;
  }
  if (out.size() != 16) return std::nullopt;
  return out;
}

Json MapJson(const Value& v) {
  const size_t n = v.map_size();
  bool all_text = true, all_bytes = true;
  std::set<std::string_view> seen;
  bool unique = true;
  for (size_t i = 0; i < n; ++i) {
    const Value& k = v.key_at(i);
    if (!k.is_string() || !IsValidUtf8(k.str())) {
      all_text = all_bytes = false;
      break;
    }
    if (k.is_text()) {
      all_bytes = false;
      if (!k.str().empty() && k.str()[0] == '$') all_text = false;
    } else {
      all_text = false;
    }
    if (!seen.insert(k.str()).second) unique = false;
  }
  if (unique && (all_text || all_bytes)) {
    Json o = Json::object();
    for (size_t i = 0; i < n; ++i) o[v.key_at(i).str()] = ValueToJson(v.value_at(i));
    return all_text ? o : Wrap("$bmap", std::move(o));
  }
  Json entries = Json::array();
  for (size_t i = 0; i < n; ++i) {
    entries.push_back(Json::array({ValueToJson(v.key_at(i)), ValueToJson(v.value_at(i))}));
  }
  return Wrap("$map", std::move(entries));
}

}  // namespace

Json ValueToJson(const Value& v) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kEncoded:
      return ValueToJson(v.Decoded());
    case K::kNull:
      return nullptr;
    case K::kUndefined:
      return Wrap("$undefined", true);
    case K::kBool:
      return v.as_bool();
    case K::kUInt:
      return v.raw_num();
    case K::kNegInt: {
      const uint64_t m = v.raw_num();
      if (m <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return static_cast<int64_t>(-1 - static_cast<int64_t>(m));
      }
      return Wrap("$int", "-" + U128ToString(static_cast<unsigned __int128>(m) + 1));
    }
    case K::kDouble:
      return FloatJson(v.as_double());
    case K::kBytes:
      if (IsValidUtf8(v.str())) return Wrap("$bytes", v.str());
      return Wrap("$base64", Base64Encode(v.str()));
    case K::kText:
      if (IsValidUtf8(v.str())) return v.str();
      return Wrap("$text_base64", Base64Encode(v.str()));
    case K::kArray:
    case K::kTuple: {
      Json a = Json::array();
      for (const Value& e : v.items()) a.push_back(ValueToJson(e));
      return v.is_tuple() ? Wrap("$tuple", std::move(a)) : a;
    }
    case K::kMap:
      return MapJson(v);
    case K::kTag: {
      const Value& t = v.tagged();
      if (v.tag() == Value::kTagUuid && t.is_bytes() && t.str().size() == 16) {
        return Wrap("$uuid", UuidText(t.str()));
      }
      Json o = Json::object();
      o["$tag"] = v.tag();
      o["value"] = ValueToJson(t);
      return o;
    }
    case K::kSimple:
      return Wrap("$simple", v.raw_num());
  }
  return nullptr;
}

namespace {

Status Bad(std::string_view what) {
  return Status::InvalidArgument("not a value encoding: " + std::string(what));
}

StatusOr<std::string> StringField(const Json& j, const char* what) {
  if (!j.is_string()) return Bad(std::string(what) + " needs a string");
  return j.get<std::string>();
}

StatusOr<Value> DecodeWrapper(const Json& j) {
  const std::string& key = j.begin().key();
  const Json& x = j.begin().value();
  if (j.size() == 2) {
    if (!j.contains("$tag") || !j.contains("value")) return Bad("unknown form with two keys");
    const Json& tag = j["$tag"];
    if (!tag.is_number_unsigned()) return Bad("$tag needs an unsigned integer");
    COORD_ASSIGN_OR_RETURN(Value item, ValueFromJson(j["value"]));
    return Value::Tag(tag.get<uint64_t>(), std::move(item));
  }
  if (j.size() != 1) return Bad("a '$' form has one key");
  if (key == "$bytes") {
    COORD_ASSIGN_OR_RETURN(std::string s, StringField(x, "$bytes"));
    return Value::Bytes(s);
  }
  if (key == "$base64" || key == "$text_base64") {
    COORD_ASSIGN_OR_RETURN(std::string s, StringField(x, key.c_str()));
    COORD_ASSIGN_OR_RETURN(std::string raw, Base64Decode(s));
    return key == "$base64" ? Value::Bytes(raw) : Value::Text(raw);
  }
  if (key == "$tuple") {
    if (!x.is_array()) return Bad("$tuple needs an array");
    std::vector<Value> items;
    items.reserve(x.size());
    for (const Json& e : x) {
      COORD_ASSIGN_OR_RETURN(Value item, ValueFromJson(e));
      items.push_back(std::move(item));
    }
    return Value::Tuple(std::move(items));
  }
  if (key == "$bmap") {
    if (!x.is_object()) return Bad("$bmap needs an object");
    Value m = Value::Map();
    for (auto it = x.begin(); it != x.end(); ++it) {
      COORD_ASSIGN_OR_RETURN(Value val, ValueFromJson(it.value()));
      m.AppendEntry(Value::Bytes(it.key()), std::move(val));
    }
    return m;
  }
  if (key == "$map") {
    if (!x.is_array()) return Bad("$map needs an array");
    Value m = Value::Map();
    for (const Json& e : x) {
      if (!e.is_array() || e.size() != 2) return Bad("$map entries are [key, value] pairs");
      COORD_ASSIGN_OR_RETURN(Value k, ValueFromJson(e[0]));
      COORD_ASSIGN_OR_RETURN(Value val, ValueFromJson(e[1]));
      m.AppendEntry(std::move(k), std::move(val));
    }
    return m;
  }
  if (key == "$uuid") {
    COORD_ASSIGN_OR_RETURN(std::string s, StringField(x, "$uuid"));
    auto raw = ParseUuid(s);
    if (!raw) return Bad("malformed $uuid");
    return Value::Uuid(*raw);
  }
  if (key == "$int") {
    COORD_ASSIGN_OR_RETURN(std::string s, StringField(x, "$int"));
    // Only integers below -2^63 need this form; accept any integer anyway.
    const bool neg = !s.empty() && s[0] == '-';
    const size_t start = neg ? 1 : 0;
    if (s.size() == start || s.size() - start > 21) return Bad("malformed $int");
    unsigned __int128 mag = 0;
    for (size_t i = start; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return Bad("malformed $int");
      mag = mag * 10 + static_cast<unsigned>(s[i] - '0');
    }
    const unsigned __int128 limit = static_cast<unsigned __int128>(1) << 64;
    if (!neg) {
      if (mag >= limit) return Bad("$int out of range");
      return Value::UInt(static_cast<uint64_t>(mag));
    }
    if (mag == 0) return Value::UInt(0);
    if (mag > limit) return Bad("$int out of range");
    return Value::NegIntArg(static_cast<uint64_t>(mag - 1));
  }
  if (key == "$float") {
    COORD_ASSIGN_OR_RETURN(std::string s, StringField(x, "$float"));
    if (s == "inf") return Value::Double(std::numeric_limits<double>::infinity());
    if (s == "-inf") return Value::Double(-std::numeric_limits<double>::infinity());
    if (s == "nan") return Value::Double(std::numeric_limits<double>::quiet_NaN());
    if (s.size() == 20 && s.compare(0, 4, "nan:") == 0) {
      uint64_t bits = 0;
      for (size_t i = 4; i < s.size(); ++i) {
        const char c = s[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (d < 0) return Bad("malformed $float");
        bits = (bits << 4) | static_cast<uint64_t>(d);
      }
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return Value::Double(d);
    }
    return Bad("malformed $float");
  }
  if (key == "$undefined") return Value::Undefined();
  if (key == "$simple") {
    if (!x.is_number_unsigned() || x.get<uint64_t>() > 255) return Bad("$simple needs 0..255");
    return Value::Simple(static_cast<uint8_t>(x.get<uint64_t>()));
  }
  return Bad("unknown form " + key);
}

}  // namespace

StatusOr<Value> ValueFromJson(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return Value::Null();
    case Json::value_t::boolean:
      return Value::Bool(j.get<bool>());
    case Json::value_t::number_unsigned:
      return Value::UInt(j.get<uint64_t>());
    case Json::value_t::number_integer:
      return Value::Int(j.get<int64_t>());
    case Json::value_t::number_float:
      return Value::Double(j.get<double>());
    case Json::value_t::string:
      return Value::Text(j.get_ref<const std::string&>());
    case Json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const Json& e : j) {
        COORD_ASSIGN_OR_RETURN(Value item, ValueFromJson(e));
        items.push_back(std::move(item));
      }
      return Value::Array(std::move(items));
    }
    case Json::value_t::object: {
      bool wrapper = false;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!it.key().empty() && it.key()[0] == '$') wrapper = true;
      }
      if (wrapper) return DecodeWrapper(j);
      Value m = Value::Map();
      for (auto it = j.begin(); it != j.end(); ++it) {
        COORD_ASSIGN_OR_RETURN(Value val, ValueFromJson(it.value()));
        m.AppendEntry(Value::Text(it.key()), std::move(val));
      }
      return m;
    }
    default:
      return Bad("binary or discarded JSON value");
  }
}

// ---- shared between dump and restore ------------------------------------------------------------

namespace {

constexpr const char* kStatusNames[] = {"",        "available", "blocked",
                                        "pending", "finished",  "failed"};
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

uint64_t Fnv(uint64_t h, std::string_view s) {
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= kFnvPrime;
  }
  return h;
}

std::string IsoTime(double t) {
  const auto secs = static_cast<time_t>(std::floor(t));
  const int ms = static_cast<int>((t - std::floor(t)) * 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

Json OptNum(const std::optional<double>& d) { return d ? FloatJson(*d) : Json(nullptr); }

Json CountsJson(const DumpCounts& c) {
  Json o = Json::object();
  o["specs"] = c.specs;
  o["units"] = c.units;
  o["attempts"] = c.attempts;
  o["workers"] = c.workers;
  o["worker_units"] = c.worker_units;
  o["locks"] = c.locks;
  o["deps"] = c.deps;
  return o;
}

Json StatusCounts(const std::array<uint64_t, 6>& a) {
  Json o = Json::object();
  for (int s = 1; s <= 5; ++s) o[kStatusNames[s]] = a[s];
  return o;
}

std::string LockKeyOf(const Value& path) {
  std::string k;
  if (!path.is_sequence()) return k;
  for (const Value& label : path.items()) k += keys::LockLabel(EncodeCbor(label));
  return k;
}

// Writes lines, keeping the checksum of everything after the header.
class LineWriter {
 public:
  explicit LineWriter(std::ostream& out) : out_(out) {}
  void Header(const Json& j) { out_ << JsonLine(j) << '\n'; }
  void Line(const Json& j) {
    std::string s = JsonLine(j);
    s.push_back('\n');
    hash_ = Fnv(hash_, s);
    out_ << s;
  }
  std::string Checksum() const { return fmt::format("fnv1a64:{:016x}", hash_); }
  bool ok() const { return out_.good(); }

 private:
  std::ostream& out_;
  uint64_t hash_ = kFnvOffset;
};

struct SpecInfo {
  SpecId id;
  storage::SpecRecord record;
  storage::SpecStats stats;
};

}  // namespace

// ---- dump ---------------------------------------------------------------------------------------

namespace {

class Dumper {
 public:
  Dumper(const storage::Store& store, std::ostream& out, const DumpOptions& options)
      : store_(store), w_(out), options_(options) {}

  StatusOr<DumpCounts> Run() {
    COORD_RETURN_IF_ERROR(Header());
    COORD_RETURN_IF_ERROR(Global());
    COORD_RETURN_IF_ERROR(Specs());
    for (const SpecInfo& s : specs_) COORD_RETURN_IF_ERROR(Units(s));
    COORD_RETURN_IF_ERROR(Workers());
    COORD_RETURN_IF_ERROR(WorkerUnits());
    COORD_RETURN_IF_ERROR(Locks());
    COORD_RETURN_IF_ERROR(Deps());
    Json t = Json::object();
    t["type"] = "trailer";
    t["counts"] = CountsJson(counts_);
    t["checksum"] = w_.Checksum();
    w_.Header(t);  // not part of its own checksum
    Report(true);
    if (!w_.ok()) return Status::IOError("writing the dump failed");
    return counts_;
  }

 private:
  Status Header() {
    const double now =
        options_.now > 0
            ? options_.now
            : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
    Json h = Json::object();
    h["type"] = "header";
    h["format"] = kDumpFormat;
    h["format_version"] = kDumpFormatVersion;
    h["daemon_version"] = options_.daemon_version;
    auto fv = storage::ReadFormatVersion(&store_);
    h["store_format_version"] = fv.ok() ? Json(*fv) : Json(nullptr);
    h["time"] = IsoTime(now);
    w_.Header(h);
    return Status::Ok();
  }

  Status Global() {
    Json g = Json::object();
    g["type"] = "global";
    std::string v;
    Status s = store_.Get(Cf::kMeta, keys::kMode, &v);
    if (!s.ok() && s.code() != Code::kNotFound) return s;
    g["mode"] = s.ok() ? ValueToJson(Value::Text(v)) : Json(nullptr);
    s = store_.Get(Cf::kMeta, keys::kNextSpecId, &v);
    if (!s.ok() && s.code() != Code::kNotFound) return s;
    g["next_spec_id"] = s.ok() && v.size() == 4 ? Json(storage::GetU32(v)) : Json(nullptr);
    w_.Line(g);
    return Status::Ok();
  }

  Status Specs() {
    auto it = store_.NewIterator(Cf::kSpecs, "", "");
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 4) return Status::Corruption("malformed spec key");
      SpecInfo s;
      s.id = storage::GetU32(it->key());
      auto rec = storage::DecodeSpec(it->value());
      if (!rec.ok()) return rec.status().Prefixed(fmt::format("spec {}", s.id));
      s.record = std::move(rec).value();
      std::string v;
      Status st = store_.Get(Cf::kMeta, keys::SpecStats(s.id), &v);
      if (st.ok()) {
        auto stats = storage::DecodeStats(v);
        if (!stats.ok()) return stats.status().Prefixed(fmt::format("spec {} stats", s.id));
        s.stats = *stats;
      } else if (st.code() != Code::kNotFound) {
        return st;
      }
      for (int k = 1; k <= 5; ++k) total_units_ += s.stats.counts[k];
      names_[s.id] = ValueToJson(s.record.name);
      specs_.push_back(std::move(s));
    }
    COORD_RETURN_IF_ERROR(it->status());
    for (const SpecInfo& s : specs_) {
      Json j = Json::object();
      j["type"] = "spec";
      j["id"] = s.id;
      j["name"] = ValueToJson(s.record.name);
      j["definition"] = ValueToJson(s.record.definition);
      j["control"] = ValueToJson(s.record.control);
      j["counts"] = StatusCounts(s.stats.counts);
      j["archived"] = StatusCounts(s.stats.archived);
      j["next_continuous"] = FloatJson(s.stats.next_continuous);
      w_.Line(j);
      ++counts_.specs;
    }
    return Status::Ok();
  }

  Status Units(const SpecInfo& spec) {
    const std::string prefix = keys::Spec(spec.id);
    auto it = store_.NewIterator(Cf::kUnits, prefix, keys::PrefixEnd(prefix));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string key(it->key().substr(prefix.size()));
      auto rec = storage::DecodeUnit(it->value());
      if (!rec.ok()) {
        return rec.status().Prefixed(
            fmt::format("spec {} unit {}", spec.id, Value::Bytes(key).ToDiagnostic()));
      }
      const storage::UnitRecord& u = *rec;
      Json j = Json::object();
      j["type"] = "unit";
      j["spec"] = names_[spec.id];
      j["key"] = ValueToJson(u.key_is_text ? Value::Text(key) : Value::Bytes(key));
      j["status"] = storage::ValidStatus(u.status) ? Json(kStatusNames[u.status]) : Json(u.status);
      j["priority"] = FloatJson(u.priority);
      j["data"] = ValueToJson(u.data);
      j["worker_id"] = ValueToJson(u.worker_id);
      j["expiration"] = OptNum(u.expiration);
      j["not_before"] = FloatJson(u.not_before);
      j["attempts"] = u.attempts;
      j["expiries"] = u.expiries;
      j["blockers"] = u.blockers;
      if (u.status == storage::kAvailable) j["available_since"] = FloatJson(u.available_since);
      Json log = Json::array();
      COORD_ASSIGN_OR_RETURN(auto attempts, storage::ReadAttempts(store_, spec.id, key, u));
      for (const storage::NumberedAttempt& n : attempts) {
        const storage::AttemptRecord& a = n.record;
        Json aj = Json::object();
        aj["n"] = n.number;
        aj["worker_id"] = ValueToJson(a.worker_id);
        aj["start"] = FloatJson(a.start);
        aj["expires"] = FloatJson(a.expires);
        aj["end"] = OptNum(a.end);
        aj["status"] = a.status;
        log.push_back(std::move(aj));
        ++counts_.attempts;
      }
      j["attempt_log"] = std::move(log);
      w_.Line(j);
      ++counts_.units;
      if (counts_.units % 2000 == 0) Report(false);
    }
    return it->status();
  }

  Status Workers() {
    auto it = store_.NewIterator(Cf::kWorkers, "", "");
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto rec = storage::DecodeWorker(it->value());
      if (!rec.ok()) return rec.status().Prefixed("worker record");
      Json j = Json::object();
      j["type"] = "worker";
      j["id"] = ValueToJson(rec->id);
      j["mode"] = ValueToJson(rec->mode);
      j["data"] = ValueToJson(rec->data);
      j["parent"] = ValueToJson(rec->parent);
      j["last_heard"] = FloatJson(rec->last_heard);
      j["expires"] = FloatJson(rec->expires);
      if (!rec->id.is_string() || rec->id.str() != it->key()) {
        j["key"] = ValueToJson(Value::Bytes(it->key()));
      }
      w_.Line(j);
      ++counts_.workers;
    }
    return it->status();
  }

  Json SpecRef(SpecId id, std::string_view key) {
    Json j = Json::object();
    auto n = names_.find(id);
    if (n != names_.end()) {
      j["spec"] = n->second;
    } else {
      j["spec_id"] = id;
    }
    j["key"] = ValueToJson(Value::Bytes(key));
    return j;
  }

  Status WorkerUnits() {
    auto it = store_.NewIterator(Cf::kWorkerUnits, "", "");
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view k = it->key();
      if (k.size() < 4) return Status::Corruption("malformed worker_units key");
      const uint32_t len = storage::GetU32(k);
      if (k.size() < 8 + static_cast<size_t>(len)) {
        return Status::Corruption("malformed worker_units key");
      }
      Json j = Json::object();
      j["type"] = "worker_unit";
      j["worker"] = ValueToJson(Value::Bytes(k.substr(4, len)));
      const SpecId id = storage::GetU32(k.substr(4 + len));
      Json ref = SpecRef(id, k.substr(8 + len));
      for (auto e = ref.begin(); e != ref.end(); ++e) j[e.key()] = e.value();
      w_.Line(j);
      ++counts_.worker_units;
    }
    return it->status();
  }

  Status Locks() {
    auto it = store_.NewIterator(Cf::kLocks, "", "");
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto rec = storage::DecodeLock(it->value());
      if (!rec.ok()) return rec.status().Prefixed("lock record");
      Json j = Json::object();
      j["type"] = "lock";
      j["path"] = ValueToJson(rec->path);
      j["owner"] = ValueToJson(rec->owner);
      j["deadline"] = FloatJson(rec->deadline);
      if (LockKeyOf(rec->path) != it->key()) j["key"] = ValueToJson(Value::Bytes(it->key()));
      w_.Line(j);
      ++counts_.locks;
    }
    return it->status();
  }

  Status Deps() {
    auto it = store_.NewIterator(Cf::kDepsForward, "", "");
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      SpecId ds, ps;
      std::string_view dk, pk;
      const size_t n = storage::DecodeUnitRef(it->key(), &ds, &dk);
      if (n == 0 || storage::DecodeUnitRef(it->key().substr(n), &ps, &pk) == 0) {
        return Status::Corruption("malformed deps_forward key");
      }
      Json j = Json::object();
      j["type"] = "dep";
      j["unit"] = SpecRef(ds, dk);
      j["waits_for"] = SpecRef(ps, pk);
      j["hard"] = it->value() == std::string_view("\x01", 1);
      w_.Line(j);
      ++counts_.deps;
    }
    return it->status();
  }

  void Report(bool done) {
    if (!options_.progress) return;
    DumpProgress p;
    p.units = counts_.units;
    p.total_units = total_units_;
    p.done = done;
    options_.progress(p);
  }

  const storage::Store& store_;
  LineWriter w_;
  const DumpOptions& options_;
  std::vector<SpecInfo> specs_;
  std::map<SpecId, Json> names_;
  DumpCounts counts_;
  uint64_t total_units_ = 0;
};

}  // namespace

StatusOr<DumpCounts> DumpStore(const storage::Store& store, std::ostream& out,
                               const DumpOptions& options) {
  return Dumper(store, out, options).Run();
}

// ---- restore ------------------------------------------------------------------------------------

StatusOr<bool> StoreIsEmpty(const storage::Store& store) {
  for (const auto& info : storage::kColumnFamilies) {
    auto it = store.NewIterator(info.cf, "", "");
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (info.cf == Cf::kMeta && it->key() == keys::kFormatVersion) continue;
      return false;
    }
    COORD_RETURN_IF_ERROR(it->status());
  }
  return true;
}

Status ClearStore(storage::Store* store) {
  for (const auto& info : storage::kColumnFamilies) {
    storage::WriteBatch batch;
    auto it = store->NewIterator(info.cf, "", "");
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (info.cf == Cf::kMeta && it->key() == keys::kFormatVersion) continue;
      batch.Delete(info.cf, it->key());
      if (batch.Count() >= 10000) {
        COORD_RETURN_IF_ERROR(store->Write(batch));
        batch.Clear();
      }
    }
    COORD_RETURN_IF_ERROR(it->status());
    COORD_RETURN_IF_ERROR(store->Write(batch));
  }
  return store->Sync();
}

namespace {

// Field access with errors that name the field.
StatusOr<const Json*> Field(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return Status::InvalidArgument(fmt::format("missing field \"{}\"", name));
  return &*it;
}

StatusOr<Value> ValueField(const Json& j, const char* name) {
  COORD_ASSIGN_OR_RETURN(const Json* f, Field(j, name));
  auto v = ValueFromJson(*f);
  if (!v.ok()) return v.status().Prefixed(name);
  return v;
}

StatusOr<double> NumberField(const Json& j, const char* name) {
  COORD_ASSIGN_OR_RETURN(Value v, ValueField(j, name));
  if (!v.is_number()) return Status::InvalidArgument(fmt::format("\"{}\" must be a number", name));
  return *v.AsNumber();
}

StatusOr<std::optional<double>> OptNumberField(const Json& j, const char* name) {
  COORD_ASSIGN_OR_RETURN(Value v, ValueField(j, name));
  if (v.is_null()) return std::optional<double>();
  if (!v.is_number()) return Status::InvalidArgument(fmt::format("\"{}\" must be a number", name));
  return std::optional<double>(*v.AsNumber());
}

StatusOr<uint64_t> UIntField(const Json& j, const char* name, uint64_t max) {
  COORD_ASSIGN_OR_RETURN(const Json* f, Field(j, name));
  if (!f->is_number_unsigned() || f->get<uint64_t>() > max) {
    return Status::InvalidArgument(fmt::format("\"{}\" must be an integer 0..{}", name, max));
  }
  return f->get<uint64_t>();
}

StatusOr<std::string> StringOf(const Json& j, const char* name) {
  COORD_ASSIGN_OR_RETURN(Value v, ValueField(j, name));
  if (!v.is_string()) return Status::InvalidArgument(fmt::format("\"{}\" must be a string", name));
  return v.str();
}

StatusOr<int> StatusField(const Json& j) {
  COORD_ASSIGN_OR_RETURN(const Json* f, Field(j, "status"));
  if (f->is_string()) {
    for (int s = 1; s <= 5; ++s) {
      if (f->get_ref<const std::string&>() == kStatusNames[s]) return s;
    }
  } else if (f->is_number_unsigned()) {
    return static_cast<int>(f->get<uint64_t>() & 0xff);
  }
  return Status::InvalidArgument("unknown unit status " + f->dump());
}

class Restorer {
 public:
  Restorer(storage::Store* store, const RestoreOptions& options)
      : store_(store), options_(options) {}

  // One line (without its newline); `raw` is the text for the checksum.
  Status Line(const Json& j, std::string_view raw) {
    if (done_) return Status::InvalidArgument("content after the trailer line");
    if (!j.is_object()) return Status::InvalidArgument("a dump line must be a JSON object");
    COORD_ASSIGN_OR_RETURN(const Json* tf, Field(j, "type"));
    if (!tf->is_string()) return Status::InvalidArgument("\"type\" must be a string");
    const std::string& type = tf->get_ref<const std::string&>();
    if (!header_) {
      if (type != "header") return Status::InvalidArgument("the first line must be the header");
      return HeaderLine(j);
    }
    if (type == "trailer") return TrailerLine(j);
    hash_ = Fnv(hash_, raw);
    hash_ = Fnv(hash_, "\n");
    if (type == "global") return GlobalLine(j);
    if (type == "spec") return SpecLine(j);
    if (type == "unit") return UnitLine(j);
    if (type == "worker") return WorkerLine(j);
    if (type == "worker_unit") return WorkerUnitLine(j);
    if (type == "lock") return LockLine(j);
    if (type == "dep") return DepLine(j);
    return Status::InvalidArgument("unknown line type \"" + type + "\"");
  }

  bool done() const { return done_; }
  const DumpCounts& counts() const { return counts_; }
  void set_bytes(uint64_t b) { bytes_ = b; }

 private:
  Status HeaderLine(const Json& j) {
    auto f = j.find("format");
    if (f == j.end() || !f->is_string() || f->get<std::string>() != kDumpFormat) {
      return Status::InvalidArgument("not a coordinate dump (header format)");
    }
    COORD_ASSIGN_OR_RETURN(uint64_t v, UIntField(j, "format_version", UINT32_MAX));
    if (v == 0 || v > kDumpFormatVersion) {
      return Status::FailedPrecondition(
          fmt::format("dump format version {} is not supported (this tool reads version {})", v,
                      kDumpFormatVersion));
    }
    header_ = true;
    return Status::Ok();
  }

  Status GlobalLine(const Json& j) {
    COORD_ASSIGN_OR_RETURN(Value mode, ValueField(j, "mode"));
    if (!mode.is_null()) {
      if (!mode.is_string()) return Status::InvalidArgument("\"mode\" must be a string");
      batch_.Put(Cf::kMeta, keys::kMode, mode.str());
    }
    COORD_ASSIGN_OR_RETURN(const Json* n, Field(j, "next_spec_id"));
    if (!n->is_null()) {
      COORD_ASSIGN_OR_RETURN(uint64_t id, UIntField(j, "next_spec_id", UINT32_MAX));
      std::string v;
      storage::PutU32(&v, static_cast<uint32_t>(id));
      batch_.Put(Cf::kMeta, keys::kNextSpecId, v);
    }
    return Status::Ok();
  }

  Status SpecLine(const Json& j) {
    COORD_ASSIGN_OR_RETURN(uint64_t id64, UIntField(j, "id", UINT32_MAX));
    const auto id = static_cast<SpecId>(id64);
    storage::SpecRecord rec;
    COORD_ASSIGN_OR_RETURN(rec.name, ValueField(j, "name"));
    if (!rec.name.is_string()) return Status::InvalidArgument("a spec name must be a string");
    COORD_ASSIGN_OR_RETURN(rec.definition, ValueField(j, "definition"));
    COORD_ASSIGN_OR_RETURN(rec.control, ValueField(j, "control"));
    if (stats_.count(id) || by_name_.count(rec.name.str())) {
      return Status::InvalidArgument("spec " + rec.name.ToDiagnostic() + " appears twice");
    }
    storage::SpecStats stats;
    COORD_ASSIGN_OR_RETURN(const Json* archived, Field(j, "archived"));
    if (!archived->is_object()) return Status::InvalidArgument("\"archived\" must be an object");
    for (int s = 1; s <= 5; ++s) {
      auto a = archived->find(kStatusNames[s]);
      if (a == archived->end()) continue;
      if (!a->is_number_unsigned()) return Status::InvalidArgument("archived counts are integers");
      stats.archived[s] = a->get<uint64_t>();
    }
    COORD_ASSIGN_OR_RETURN(stats.next_continuous, NumberField(j, "next_continuous"));
    batch_.Put(Cf::kSpecs, keys::Spec(id), storage::EncodeSpec(rec));
    by_name_[rec.name.str()] = id;
    stats_[id] = stats;
    ++counts_.specs;
    return Status::Ok();
  }

  StatusOr<SpecId> SpecOf(const Json& j) {
    if (j.contains("spec_id")) {
      COORD_ASSIGN_OR_RETURN(uint64_t id, UIntField(j, "spec_id", UINT32_MAX));
      return static_cast<SpecId>(id);
    }
    COORD_ASSIGN_OR_RETURN(std::string name, StringOf(j, "spec"));
    auto it = by_name_.find(name);
    if (it == by_name_.end()) {
      return Status::InvalidArgument("reference to spec " + Value::Bytes(name).ToDiagnostic() +
                                     " before (or without) its spec line");
    }
    return it->second;
  }

  Status UnitLine(const Json& j) {
    COORD_ASSIGN_OR_RETURN(SpecId id, SpecOf(j));
    if (!j.contains("spec")) return Status::InvalidArgument("a unit line names its spec");
    COORD_ASSIGN_OR_RETURN(Value key, ValueField(j, "key"));
    if (!key.is_string()) return Status::InvalidArgument("a unit key must be a string");
    storage::UnitRecord u;
    u.key_is_text = key.is_text();
    COORD_ASSIGN_OR_RETURN(u.status, StatusField(j));
    COORD_ASSIGN_OR_RETURN(u.priority, NumberField(j, "priority"));
    COORD_ASSIGN_OR_RETURN(u.data, ValueField(j, "data"));
    COORD_ASSIGN_OR_RETURN(u.worker_id, ValueField(j, "worker_id"));
    COORD_ASSIGN_OR_RETURN(u.expiration, OptNumberField(j, "expiration"));
    COORD_ASSIGN_OR_RETURN(u.not_before, NumberField(j, "not_before"));
    COORD_ASSIGN_OR_RETURN(uint64_t attempts, UIntField(j, "attempts", UINT32_MAX));
    COORD_ASSIGN_OR_RETURN(uint64_t expiries, UIntField(j, "expiries", UINT32_MAX));
    COORD_ASSIGN_OR_RETURN(uint64_t blockers, UIntField(j, "blockers", UINT32_MAX));
    u.attempts = static_cast<uint32_t>(attempts);
    u.expiries = static_cast<uint32_t>(expiries);
    u.blockers = static_cast<uint32_t>(blockers);
    if (j.contains("available_since")) {
      COORD_ASSIGN_OR_RETURN(u.available_since, NumberField(j, "available_since"));
    } else if (u.status == storage::kAvailable) {
      // Older dumps do not say how long a unit has waited: it starts waiting now.
      u.available_since =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
    }
    const std::string& k = key.str();
    if (auto log = j.find("attempt_log"); log != j.end()) {
      if (!log->is_array()) return Status::InvalidArgument("\"attempt_log\" must be an array");
      for (const Json& a : *log) {
        if (!a.is_object()) return Status::InvalidArgument("attempts are objects");
        COORD_ASSIGN_OR_RETURN(uint64_t n, UIntField(a, "n", UINT32_MAX));
        storage::AttemptRecord rec;
        COORD_ASSIGN_OR_RETURN(rec.worker_id, ValueField(a, "worker_id"));
        COORD_ASSIGN_OR_RETURN(rec.start, NumberField(a, "start"));
        COORD_ASSIGN_OR_RETURN(rec.expires, NumberField(a, "expires"));
        COORD_ASSIGN_OR_RETURN(rec.end, OptNumberField(a, "end"));
        COORD_ASSIGN_OR_RETURN(rec.status, StringOf(a, "status"));
        ++counts_.attempts;
        if (u.status == storage::kPending && n == u.attempts) {
          // A PENDING unit's open attempt lives in its record (storage/attempts.h).
          u.lease_start = rec.start;
          continue;
        }
        batch_.Put(Cf::kAttempts, keys::Attempt(id, k, static_cast<uint32_t>(n)),
                   storage::EncodeAttempt(rec));
      }
    }
    batch_.Put(Cf::kUnits, keys::Unit(id, k), storage::EncodeUnit(u));
    for (const IndexEntry& e : UnitIndexEntries(id, k, u)) batch_.Put(e.cf, e.key, "");
    auto st = stats_.find(id);
    if (st != stats_.end() && storage::ValidStatus(u.status)) ++st->second.counts[u.status];
    ++counts_.units;
    if (++units_in_batch_ >= options_.batch_units) COORD_RETURN_IF_ERROR(Flush());
    if (counts_.units % 2000 == 0) Report(false);
    return Status::Ok();
  }

  StatusOr<std::string> KeyOrDerived(const Json& j, std::string derived) {
    if (!j.contains("key")) return derived;
    return StringOf(j, "key");
  }

  Status WorkerLine(const Json& j) {
    storage::WorkerRecord w;
    COORD_ASSIGN_OR_RETURN(w.id, ValueField(j, "id"));
    COORD_ASSIGN_OR_RETURN(w.mode, ValueField(j, "mode"));
    COORD_ASSIGN_OR_RETURN(w.data, ValueField(j, "data"));
    COORD_ASSIGN_OR_RETURN(w.parent, ValueField(j, "parent"));
    COORD_ASSIGN_OR_RETURN(w.last_heard, NumberField(j, "last_heard"));
    COORD_ASSIGN_OR_RETURN(w.expires, NumberField(j, "expires"));
    COORD_ASSIGN_OR_RETURN(std::string key,
                           KeyOrDerived(j, w.id.is_string() ? w.id.str() : std::string()));
    batch_.Put(Cf::kWorkers, key, storage::EncodeWorker(w));
    if (w.parent.is_string()) batch_.Put(Cf::kWorkerChildren, keys::Child(w.parent.str(), key), "");
    ++counts_.workers;
    return MaybeFlush();
  }

  Status WorkerUnitLine(const Json& j) {
    COORD_ASSIGN_OR_RETURN(std::string worker, StringOf(j, "worker"));
    COORD_ASSIGN_OR_RETURN(SpecId id, SpecOf(j));
    COORD_ASSIGN_OR_RETURN(std::string key, StringOf(j, "key"));
    batch_.Put(Cf::kWorkerUnits, keys::WorkerUnit(worker, id, key), "");
    ++counts_.worker_units;
    return MaybeFlush();
  }

  Status LockLine(const Json& j) {
    storage::LockRecord l;
    COORD_ASSIGN_OR_RETURN(l.path, ValueField(j, "path"));
    COORD_ASSIGN_OR_RETURN(l.owner, ValueField(j, "owner"));
    COORD_ASSIGN_OR_RETURN(l.deadline, NumberField(j, "deadline"));
    COORD_ASSIGN_OR_RETURN(std::string key, KeyOrDerived(j, LockKeyOf(l.path)));
    if (key.empty()) return Status::InvalidArgument("a lock path must be a non-empty list");
    batch_.Put(Cf::kLocks, key, storage::EncodeLock(l));
    ++counts_.locks;
    return MaybeFlush();
  }

  Status DepLine(const Json& j) {
    COORD_ASSIGN_OR_RETURN(const Json* d, Field(j, "unit"));
    COORD_ASSIGN_OR_RETURN(const Json* p, Field(j, "waits_for"));
    if (!d->is_object() || !p->is_object()) {
      return Status::InvalidArgument("\"unit\" and \"waits_for\" must be objects");
    }
    COORD_ASSIGN_OR_RETURN(SpecId ds, SpecOf(*d));
    COORD_ASSIGN_OR_RETURN(std::string dk, StringOf(*d, "key"));
    COORD_ASSIGN_OR_RETURN(SpecId ps, SpecOf(*p));
    COORD_ASSIGN_OR_RETURN(std::string pk, StringOf(*p, "key"));
    COORD_ASSIGN_OR_RETURN(const Json* hard, Field(j, "hard"));
    if (!hard->is_boolean()) return Status::InvalidArgument("\"hard\" must be true or false");
    const std::string flag(1, hard->get<bool>() ? '\x01' : '\x00');
    batch_.Put(Cf::kDepsForward, keys::DepEdge(ds, dk, ps, pk), flag);
    batch_.Put(Cf::kDepsReverse, keys::DepEdge(ps, pk, ds, dk), flag);
    ++counts_.deps;
    return MaybeFlush();
  }

  Status TrailerLine(const Json& j) {
    COORD_ASSIGN_OR_RETURN(const Json* c, Field(j, "counts"));
    if (*c != CountsJson(counts_)) {
      return Status::Corruption("the trailer's counts " + c->dump() +
                                " do not match the lines read " + CountsJson(counts_).dump());
    }
    if (auto sum = j.find("checksum"); sum != j.end()) {
      const std::string mine = fmt::format("fnv1a64:{:016x}", hash_);
      if (!sum->is_string() || sum->get<std::string>() != mine) {
        return Status::Corruption("checksum mismatch: the dump was altered or damaged");
      }
    }
    for (const auto& [id, stats] : stats_) {
      batch_.Put(Cf::kMeta, keys::SpecStats(id), storage::EncodeStats(stats));
    }
    COORD_RETURN_IF_ERROR(Flush());
    COORD_RETURN_IF_ERROR(store_->Sync());
    done_ = true;
    Report(true);
    return Status::Ok();
  }

  Status MaybeFlush() {
    if (batch_.Count() >= 20000) return Flush();
    return Status::Ok();
  }

  Status Flush() {
    units_in_batch_ = 0;
    Status s = store_->Write(batch_);
    batch_.Clear();
    return s;
  }

  void Report(bool done) {
    if (!options_.progress) return;
    DumpProgress p;
    p.units = counts_.units;
    p.bytes = bytes_;
    p.done = done;
    options_.progress(p);
  }

  storage::Store* store_;
  const RestoreOptions& options_;
  storage::WriteBatch batch_;
  size_t units_in_batch_ = 0;
  bool header_ = false;
  bool done_ = false;
  uint64_t hash_ = kFnvOffset;
  uint64_t bytes_ = 0;
  std::map<std::string, SpecId> by_name_;
  std::map<SpecId, storage::SpecStats> stats_;
  DumpCounts counts_;
};

}  // namespace

StatusOr<DumpCounts> RestoreStore(storage::Store* store, std::istream& in,
                                  const RestoreOptions& options) {
  COORD_ASSIGN_OR_RETURN(bool empty, StoreIsEmpty(*store));
  if (!empty) {
    if (!options.force) {
      return Status::FailedPrecondition(
          "the target store is not empty (use --force to replace its contents)");
    }
    COORD_RETURN_IF_ERROR(ClearStore(store));
  }
  Restorer r(store, options);
  std::string line;
  uint64_t lineno = 0, bytes = 0;
  while (std::getline(in, line)) {
    ++lineno;
    bytes += line.size() + 1;
    r.set_bytes(bytes);
    if (line.empty() || line == "\r") continue;
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return Status::InvalidArgument(fmt::format("line {}: not valid JSON", lineno));
    }
    Status s = r.Line(j, line);
    if (!s.ok()) return Status(s.code(), fmt::format("line {}: {}", lineno, s.message()));
  }
  if (in.bad()) return Status::IOError("reading the dump failed");
  if (!r.done()) {
    return Status::Corruption(
        "the dump ends without its trailer line (truncated?); the target is incomplete");
  }
  return r.counts();
}

}  // namespace coordinated::scheduler
