// Value: an in-memory CBOR data item that keeps every distinction a Python client can observe.
//
// Kinds: null, undefined, bool, integer (the full CBOR range: unsigned 0..2^64-1 and negative
// -1..-2^64), double (half and single floats widen to double), byte string, text string, array,
// tuple (an array under tag 128, a Python tuple), map (any key kinds, insertion order kept,
// duplicate keys kept as sent), tag (any other tag over one item; a UUID is tag 37 over a
// 16-byte byte string) and other simple values. One more kind, encoded, holds one complete,
// well-formed CBOR item as its bytes, not decoded: the request decoder keeps the data of units
// being added that way (common/cbor_direct.h, DecodeDirectKeeping) and the record encoder
// writes those bytes as they are, so data nobody looks at is never turned into a tree and back.
// Code that looks into a value that may be encoded calls Decoded() first: to every accessor an
// encoded value is an opaque scalar (not a map, not a string, size 0). Equality, Truthy and
// the diagnostic form decode it.
//
// Invariants:
//  * kUInt holds n in num_; kNegInt holds the CBOR argument m, meaning the integer -1 - m.
//  * kMap stores keys and values interleaved in items_ (k0, v0, k1, v1, ...).
//  * kTag stores exactly one element in items_ and the tag number in num_.
//  * Tag 128 over an array is always represented as kTuple, never as kTag.
//  * kEncoded holds the bytes of exactly one well-formed item in str_ (checked, against the
//    limits of whoever read them, when the value was made).
//
// Equality (operator==) is structural and kind-sensitive: b"a" != u"a", 1 != 1.0, and a tuple
// is not an array. Key lookups with FindKey are *name-like*: a byte string and a text string
// with the same bytes match, as Python 2 str and unicode compared equal.
//
// Thread-safety: a Value is a plain value type; const access is safe from many threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace coordinated {

class Value {
 public:
  enum class Kind : uint8_t {
    kNull,
    kUndefined,
    kBool,
    kUInt,
    kNegInt,
    kDouble,
    kBytes,
    kText,
    kArray,
    kTuple,
    kMap,
    kTag,
    kSimple,
    kEncoded,
  };
  static constexpr uint64_t kTagEncodedCbor = 24;
  static constexpr uint64_t kTagUuid = 37;
  static constexpr uint64_t kTagTuple = 128;

  Value() = default;  // null

  // Constructors by kind.
  static Value Null() { return Value(); }
  static Value Undefined();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value UInt(uint64_t u);
  static Value NegIntArg(uint64_t m);  // the integer -1 - m
  static Value Double(double d);
  static Value Bytes(std::string_view s);
  static Value Text(std::string_view s);
  static Value Array(std::vector<Value> items = {});
  static Value Tuple(std::vector<Value> items = {});
  // The same from values moved in: `Tuple({std::move(a), std::move(b)})` copies each element
  // (a braced list's elements are const), these do not.
  template <typename... V>
  requires(std::is_same_v<V, Value>&&...) static Value ArrayOf(V... items) {
    return Array(Moved(std::move(items)...));
  }
  template <typename... V>
  requires(std::is_same_v<V, Value>&&...) static Value TupleOf(V... items) {
    return Tuple(Moved(std::move(items)...));
  }
  static Value Map();
  static Value Tag(uint64_t tag, Value item);
  static Value Simple(uint8_t v);
  static Value Uuid(std::string_view sixteen_bytes) { return Tag(kTagUuid, Bytes(sixteen_bytes)); }
  // An item kept as its encoding; `cbor` must be one well-formed item (see the invariants).
  static Value Encoded(std::string cbor);
  // A bytes-or-text value of the given kind (kBytes or kText).
  static Value String(Kind kind, std::string_view s);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kUInt || kind_ == Kind::kNegInt; }
  bool is_double() const { return kind_ == Kind::kDouble; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_bytes() const { return kind_ == Kind::kBytes; }
  bool is_text() const { return kind_ == Kind::kText; }
  bool is_string() const { return is_bytes() || is_text(); }  // bytes or text
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_tuple() const { return kind_ == Kind::kTuple; }
  bool is_sequence() const { return is_array() || is_tuple(); }  // list or tuple
  bool is_map() const { return kind_ == Kind::kMap; }
  bool is_tag() const { return kind_ == Kind::kTag; }
  bool is_encoded() const { return kind_ == Kind::kEncoded; }
  // The bytes of an encoded value.
  const std::string& encoded() const;
  // The value itself: for an encoded one, its decoded form; otherwise a copy.
  Value Decoded() const;

  // Scalars. Calling an accessor of the wrong kind is a programming error (asserts).
  bool as_bool() const;
  double as_double() const;
  uint64_t raw_num() const { return num_; }  // kUInt value, kNegInt argument, tag, simple
  const std::string& str() const;            // bytes or text content
  uint64_t tag() const;
  const Value& tagged() const;

  // Integer views: nullopt when not an int or out of range.
  std::optional<int64_t> AsInt64() const;
  // Any number (int or double) as a double; nullopt for other kinds.
  std::optional<double> AsNumber() const;
  // Python truthiness: null/false/0/0.0/empty string/empty container are false.
  bool Truthy() const;

  // Sequences (array or tuple) and tags.
  const std::vector<Value>& items() const { return items_; }
  std::vector<Value>& mutable_items() { return items_; }
  size_t size() const;  // elements of a sequence, entries of a map, bytes of a string
  void Append(Value v) { items_.push_back(std::move(v)); }

  // Maps.
  size_t map_size() const { return items_.size() / 2; }
  const Value& key_at(size_t i) const { return items_[2 * i]; }
  const Value& value_at(size_t i) const { return items_[2 * i + 1]; }
  Value& mutable_value_at(size_t i) { return items_[2 * i + 1]; }
  // Appends an entry without checking for an existing key (decoder use).
  void AppendEntry(Value k, Value v);
  // Finds a string key by its bytes (bytes or text key). nullptr when absent.
  const Value* FindKey(std::string_view name) const;
  Value* FindMutableKey(std::string_view name);
  // Finds a key equal to `k` (structural equality, except that bytes/text compare by content).
  const Value* Find(const Value& k) const;
  // Sets an entry: replaces the value of a name-equal key, else appends.
  void Set(Value k, Value v);
  // Removes entries whose key has these bytes. Returns true if something was removed.
  bool EraseKey(std::string_view name);

  friend bool operator==(const Value& a, const Value& b);
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

  // CBOR diagnostic notation, for logs and test failure messages.
  std::string ToDiagnostic() const;

 private:
  template <typename... V>
  static std::vector<Value> Moved(V... items) {
    std::vector<Value> v;
    v.reserve(sizeof...(items));
    (v.push_back(std::move(items)), ...);
    return v;
  }
  Kind kind_ = Kind::kNull;
  uint64_t num_ = 0;  // see invariants; also the bit pattern of a double
  std::string str_;
  std::vector<Value> items_;
};

// Convenience for building request and reply maps with byte-string keys, as Python 2 sent them.
Value MapOf(std::initializer_list<std::pair<std::string_view, Value>> entries);
// Bytes-or-text name equality (Python 2 str == unicode for ASCII/UTF-8 content).
bool NameEquals(const Value& v, std::string_view name);

}  // namespace coordinated
