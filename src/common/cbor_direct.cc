#include "common/cbor_direct.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace coordinated {

namespace {

// Recursion stops here even when DecodeLimits allows deeper nesting; StreamDecoder (which keeps
// its own stack on the heap) takes anything deeper.
constexpr size_t kMaxRecursion = 128;

// A half-precision float as a double, by RFC 8949 Appendix D. (libcbor returns it as a float;
// every half is exact in a float, so the value and a NaN's bits are the same.)
double DecodeHalf(uint16_t half) {
  const int exp = (half >> 10) & 0x1f;
  const int mant = half & 0x3ff;
  double val;
  if (exp == 0) {
    val = std::ldexp(mant, -24);
  } else if (exp != 31) {
    val = std::ldexp(mant + 1024, exp - 25);
  } else {
    val = mant == 0 ? INFINITY : NAN;
  }
  return static_cast<double>(static_cast<float>((half & 0x8000) ? -val : val));
}

class Direct {
 public:
  Direct(const uint8_t* data, size_t size, const DecodeLimits& limits)
      : p_(data), end_(data + size), limits_(limits) {}

  const uint8_t* position() const { return p_; }

  // Decodes one item into *out. `depth` is the number of containers and tags around it.
  bool Item(Value* out, size_t depth) {
    if (p_ == end_) return false;
    const uint8_t first = *p_;
    const uint8_t major = first >> 5;
    const uint8_t ai = first & 0x1f;
    uint64_t arg;
    if (!Argument(&arg)) return false;
    if (++items_ > limits_.max_items) return false;
    switch (major) {
      case 0:
        *out = Value::UInt(arg);
        return true;
      case 1:
        *out = Value::NegIntArg(arg);
        return true;
      case 2:
      case 3: {
        if (arg > static_cast<uint64_t>(end_ - p_)) return false;
        const std::string_view s(reinterpret_cast<const char*>(p_), static_cast<size_t>(arg));
        p_ += arg;
        *out = Value::String(major == 3 ? Value::Kind::kText : Value::Kind::kBytes, s);
        return true;
      }
      case 4:
        return Sequence(out, arg, 1, depth);
      case 5:
        return Sequence(out, arg, 2, depth);
      case 7:
        return Simple(out, ai, arg);
      default: {  // 6: a tag over one item
        if (depth >= Depth()) return false;
        Value inner;
        if (!Item(&inner, depth + 1)) return false;
        *out = Value::Tag(arg, std::move(inner));
        return true;
      }
    }
  }

 private:
  size_t Depth() const { return std::min(limits_.max_depth, kMaxRecursion); }

  // Reads the head's argument (definite forms only; for major type 7 the simple value or the
  // float's bits) and moves past the head.
  bool Argument(uint64_t* arg) {
    const size_t len = ReadHeadArgument(p_, static_cast<size_t>(end_ - p_), arg);
    p_ += len;
    return len > 0;  // 0: incomplete, indefinite or reserved
  }

  // An array (`per` 1) or a map (`per` 2) of `n` entries.
  bool Sequence(Value* out, uint64_t n, uint64_t per, size_t depth) {
    if (depth >= Depth()) return false;
    // Every element takes at least one byte, so a count beyond the bytes left cannot be
    // complete; checking first keeps a hostile count from reserving memory.
    const uint64_t left = static_cast<uint64_t>(end_ - p_);
    if (n > left / per) return false;
    // Each element counts toward max_items as it is decoded, so a complete item never has
    // more decoded plus declared-but-not-yet-decoded elements than that: refusing more here
    // bounds what all the open containers together allocate by max_items, not by the bytes
    // left, however deep they nest.
    const uint64_t elements = n * per;
    if (elements > limits_.max_items || items_ + pending_ + elements > limits_.max_items) {
      return false;
    }
    pending_ += elements;
    *out = per == 1 ? Value::Array() : Value::Map();
    std::vector<Value>& items = out->mutable_items();
    items.resize(static_cast<size_t>(elements));
    for (Value& v : items) {
      --pending_;  // Item counts it in items_
      if (!Item(&v, depth + 1)) return false;
    }
    return true;
  }

  // Major type 7: simple values and floats; `bits` is the head's argument.
  static bool Simple(Value* out, uint8_t ai, uint64_t bits) {
    switch (ai) {
      case 24:
        if (bits < 32) return false;  // not well-formed; StreamDecoder reports it
        *out = Value::Simple(static_cast<uint8_t>(bits));
        return true;
      case 25:
        *out = Value::Double(DecodeHalf(static_cast<uint16_t>(bits)));
        return true;
      case 26: {
        float f;
        const uint32_t b32 = static_cast<uint32_t>(bits);
        std::memcpy(&f, &b32, sizeof f);
        *out = Value::Double(static_cast<double>(f));
        return true;
      }
      case 27: {
        double d;
        std::memcpy(&d, &bits, sizeof d);
        *out = Value::Double(d);
        return true;
      }
      default:  // 0..23: false, true, null, undefined and the unassigned simple values
        *out = Value::Simple(ai);
        return true;
    }
  }

  const uint8_t* p_;
  const uint8_t* end_;
  const DecodeLimits& limits_;
  size_t items_ = 0;      // items decoded or begun, as StreamDecoder counts them
  uint64_t pending_ = 0;  // elements declared by open containers and not yet begun
};

}  // namespace

bool DecodeDirect(const uint8_t* data, size_t size, const DecodeLimits& limits, Value* out,
                  size_t* consumed) {
  Direct d(data, size, limits);
  Value v;
  if (!d.Item(&v, 0)) return false;
  const size_t n = static_cast<size_t>(d.position() - data);
  if (n > limits.max_bytes) return false;
  *out = std::move(v);
  *consumed = n;
  return true;
}

}  // namespace coordinated
