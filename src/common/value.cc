#include "common/value.h"

#include <fmt/format.h>

#include <cassert>
#include <cmath>
#include <cstring>

#include "common/cbor.h"

namespace coordinated {

Value Value::Undefined() {
  Value v;
  v.kind_ = Kind::kUndefined;
  return v;
}
Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.num_ = b ? 1 : 0;
  return v;
}
Value Value::Int(int64_t i) {
  if (i >= 0) return UInt(static_cast<uint64_t>(i));
  return NegIntArg(static_cast<uint64_t>(-(i + 1)));
}
Value Value::UInt(uint64_t u) {
  Value v;
  v.kind_ = Kind::kUInt;
  v.num_ = u;
  return v;
}
Value Value::NegIntArg(uint64_t m) {
  Value v;
  v.kind_ = Kind::kNegInt;
  v.num_ = m;
  return v;
}
Value Value::Double(double d) {
  Value v;
  v.kind_ = Kind::kDouble;
  std::memcpy(&v.num_, &d, sizeof d);
  return v;
}
Value Value::Bytes(std::string_view s) {
  Value v;
  v.kind_ = Kind::kBytes;
  v.str_.assign(s.data(), s.size());
  return v;
}
Value Value::Text(std::string_view s) {
  Value v;
  v.kind_ = Kind::kText;
  v.str_.assign(s.data(), s.size());
  return v;
}
Value Value::String(Kind kind, std::string_view s) {
  return kind == Kind::kText ? Text(s) : Bytes(s);
}
Value Value::Array(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kArray;
  v.items_ = std::move(items);
  return v;
}
Value Value::Tuple(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kTuple;
  v.items_ = std::move(items);
  return v;
}
Value Value::Map() {
  Value v;
  v.kind_ = Kind::kMap;
  return v;
}
Value Value::Tag(uint64_t tag, Value item) {
  if (tag == kTagTuple && item.kind_ == Kind::kArray) {
    item.kind_ = Kind::kTuple;
    return item;
  }
  Value v;
  v.kind_ = Kind::kTag;
  v.num_ = tag;
  v.items_.push_back(std::move(item));
  return v;
}
Value Value::Simple(uint8_t s) {
  // 20..23 are false, true, null and undefined; 24..31 are not valid simple values.
  if (s == 20 || s == 21) return Bool(s == 21);
  if (s == 22) return Null();
  if (s >= 23 && s < 32) return Undefined();
  Value v;
  v.kind_ = Kind::kSimple;
  v.num_ = s;
  return v;
}

bool Value::as_bool() const {
  assert(kind_ == Kind::kBool);
  return num_ != 0;
}
double Value::as_double() const {
  assert(kind_ == Kind::kDouble);
  double d;
  std::memcpy(&d, &num_, sizeof d);
  return d;
}
const std::string& Value::str() const {
  assert(is_string());
  return str_;
}
uint64_t Value::tag() const {
  assert(kind_ == Kind::kTag);
  return num_;
}
const Value& Value::tagged() const {
  assert(kind_ == Kind::kTag && items_.size() == 1);
  return items_[0];
}

std::optional<int64_t> Value::AsInt64() const {
  if (kind_ == Kind::kUInt) {
    if (num_ > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(num_);
  }
  if (kind_ == Kind::kNegInt) {
    if (num_ > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return -static_cast<int64_t>(num_) - 1;
  }
  return std::nullopt;
}

std::optional<double> Value::AsNumber() const {
  if (kind_ == Kind::kUInt) return static_cast<double>(num_);
  if (kind_ == Kind::kNegInt) return -1.0 - static_cast<double>(num_);
  if (kind_ == Kind::kDouble) return as_double();
  return std::nullopt;
}

Value Value::Encoded(std::string cbor) {
  Value v;
  v.kind_ = Kind::kEncoded;
  v.str_ = std::move(cbor);
  return v;
}

const std::string& Value::encoded() const {
  assert(kind_ == Kind::kEncoded);
  return str_;
}

Value Value::Decoded() const {
  if (kind_ != Kind::kEncoded) return *this;
  // Well-formed by the invariant; a failure here would be a bug in whoever made the value. The
  // limits are what the bytes themselves bound (they were checked against the reader's own).
  DecodeLimits limits;
  limits.max_bytes = str_.size();
  limits.max_items = str_.size();
  limits.max_depth = str_.size();
  auto v = DecodeCbor(str_, limits);
  assert(v.ok());
  return v.ok() ? std::move(v).value() : Value::Undefined();
}

bool Value::Truthy() const {
  switch (kind_) {
    case Kind::kEncoded:
      return Decoded().Truthy();
    case Kind::kNull:
    case Kind::kUndefined:
      return false;
    case Kind::kBool:
    case Kind::kUInt:
      return num_ != 0;
    case Kind::kNegInt:
      return true;
    case Kind::kDouble:
      return as_double() != 0.0;
    case Kind::kBytes:
    case Kind::kText:
      return !str_.empty();
    case Kind::kArray:
    case Kind::kTuple:
    case Kind::kMap:
      return !items_.empty();
    case Kind::kTag:
    case Kind::kSimple:
      return true;
  }
  return true;
}

size_t Value::size() const {
  if (is_string()) return str_.size();
  if (is_map()) return map_size();
  return items_.size();
}

void Value::AppendEntry(Value k, Value v) {
  assert(kind_ == Kind::kMap);
  items_.push_back(std::move(k));
  items_.push_back(std::move(v));
}

const Value* Value::FindKey(std::string_view name) const {
  if (kind_ != Kind::kMap) return nullptr;
  for (size_t i = 0; i + 1 < items_.size(); i += 2) {
    if (NameEquals(items_[i], name)) return &items_[i + 1];
  }
  return nullptr;
}

Value* Value::FindMutableKey(std::string_view name) {
  return const_cast<Value*>(static_cast<const Value*>(this)->FindKey(name));
}

namespace {
bool KeyEquals(const Value& a, const Value& b) {
  if (a.is_string() && b.is_string()) return a.str() == b.str();
  return a == b;
}
}  // namespace

const Value* Value::Find(const Value& k) const {
  if (kind_ != Kind::kMap) return nullptr;
  for (size_t i = 0; i + 1 < items_.size(); i += 2) {
    if (KeyEquals(items_[i], k)) return &items_[i + 1];
  }
  return nullptr;
}

void Value::Set(Value k, Value v) {
  assert(kind_ == Kind::kMap);
  for (size_t i = 0; i + 1 < items_.size(); i += 2) {
    if (KeyEquals(items_[i], k)) {
      items_[i + 1] = std::move(v);
      return;
    }
  }
  AppendEntry(std::move(k), std::move(v));
}

bool Value::EraseKey(std::string_view name) {
  if (kind_ != Kind::kMap) return false;
  bool removed = false;
  for (size_t i = 0; i + 1 < items_.size();) {
    if (NameEquals(items_[i], name)) {
      items_.erase(items_.begin() + static_cast<long>(i),
                   items_.begin() + static_cast<long>(i) + 2);
      removed = true;
    } else {
      i += 2;
    }
  }
  return removed;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind_ == Value::Kind::kEncoded || b.kind_ == Value::Kind::kEncoded) {
    return a.Decoded() == b.Decoded();
  }
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Value::Kind::kNull:
    case Value::Kind::kUndefined:
      return true;
    case Value::Kind::kDouble:
      return a.as_double() == b.as_double() ||
             (std::isnan(a.as_double()) && std::isnan(b.as_double()));
    case Value::Kind::kBytes:
    case Value::Kind::kText:
      return a.str_ == b.str_;
    default:
      return a.num_ == b.num_ && a.items_ == b.items_;
  }
}

namespace {
void AppendQuoted(std::string* out, const std::string& s, bool text) {
  if (!text) {
    out->append("h'");
    for (unsigned char c : s) out->append(fmt::format("{:02x}", c));
    out->append("'");
    return;
  }
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      out->append(fmt::format("\\u{:04x}", c));
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

void Diag(const Value& v, std::string* out) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kNull:
      out->append("null");
      break;
    case K::kUndefined:
      out->append("undefined");
      break;
    case K::kBool:
      out->append(v.as_bool() ? "true" : "false");
      break;
    case K::kUInt:
      out->append(std::to_string(v.raw_num()));
      break;
    case K::kNegInt:
      if (v.raw_num() == UINT64_MAX) {
        out->append("-18446744073709551616");
      } else {
        out->append("-" + std::to_string(v.raw_num() + 1));
      }
      break;
    case K::kDouble: {
      const double d = v.as_double();
      if (std::isnan(d)) {
        out->append("NaN");
      } else if (std::isinf(d)) {
        out->append(d > 0 ? "Infinity" : "-Infinity");
      } else {
        std::string s = fmt::format("{}", d);
        if (s.find_first_of(".eE") == std::string::npos) s += ".0";
        out->append(s);
      }
      break;
    }
    case K::kBytes:
      AppendQuoted(out, v.str(), false);
      break;
    case K::kText:
      AppendQuoted(out, v.str(), true);
      break;
    case K::kArray:
    case K::kTuple: {
      if (v.is_tuple()) out->append("128(");
      out->push_back('[');
      bool first = true;
      for (const auto& it : v.items()) {
        if (!first) out->append(", ");
        first = false;
        Diag(it, out);
      }
      out->push_back(']');
      if (v.is_tuple()) out->push_back(')');
      break;
    }
    case K::kMap: {
      out->push_back('{');
      for (size_t i = 0; i < v.map_size(); ++i) {
        if (i) out->append(", ");
        Diag(v.key_at(i), out);
        out->append(": ");
        Diag(v.value_at(i), out);
      }
      out->push_back('}');
      break;
    }
    case K::kTag:
      out->append(std::to_string(v.tag()) + "(");
      Diag(v.tagged(), out);
      out->push_back(')');
      break;
    case K::kSimple:
      out->append("simple(" + std::to_string(v.raw_num()) + ")");
      break;
    case K::kEncoded:
      Diag(v.Decoded(), out);
      break;
  }
}
}  // namespace

std::string Value::ToDiagnostic() const {
  std::string out;
  Diag(*this, &out);
  return out;
}

Value MapOf(std::initializer_list<std::pair<std::string_view, Value>> entries) {
  Value m = Value::Map();
  for (const auto& [k, v] : entries) m.AppendEntry(Value::Bytes(k), v);
  return m;
}

bool NameEquals(const Value& v, std::string_view name) { return v.is_string() && v.str() == name; }

}  // namespace coordinated
