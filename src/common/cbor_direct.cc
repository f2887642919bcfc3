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

// kKeep: Item also takes a null `out` (check only) and keeps the items at the end of a path
// encoded; without it (DecodeDirect) neither costs a branch.
template <bool kKeep>
class Direct {
 public:
  Direct(const uint8_t* data, size_t size, const DecodeLimits& limits,
         const std::vector<PathStep>* encoded_at = nullptr)
      : p_(data), end_(data + size), limits_(limits), encoded_at_(encoded_at) {}

  const uint8_t* position() const { return p_; }

  // Decodes one item into *out, or with `out` null only checks it (the same checks, the same
  // counts toward the limits) and moves past it. `depth` is the number of containers and tags
  // around it; `at` how many steps of `encoded_at_` lead to it (kOffPath: none apply).
  bool Item(Value* out, size_t depth, size_t at = kOffPath) {
    if (kKeep && out && encoded_at_ && at == encoded_at_->size()) {
      const uint8_t* start = p_;
      if (!Item(nullptr, depth)) return false;
      *out = Value::Encoded(
          std::string(reinterpret_cast<const char*>(start), static_cast<size_t>(p_ - start)));
      return true;
    }
    if (p_ == end_) return false;
    const uint8_t first = *p_;
    const uint8_t major = first >> 5;
    const uint8_t ai = first & 0x1f;
    uint64_t arg;
    if (!Argument(&arg)) return false;
    if (++items_ > limits_.max_items) return false;
    switch (major) {
      case 0:
        if (!kKeep || out) *out = Value::UInt(arg);
        return true;
      case 1:
        if (!kKeep || out) *out = Value::NegIntArg(arg);
        return true;
      case 2:
      case 3: {
        if (arg > static_cast<uint64_t>(end_ - p_)) return false;
        const std::string_view s(reinterpret_cast<const char*>(p_), static_cast<size_t>(arg));
        p_ += arg;
        if (!kKeep || out) {
          *out = Value::String(major == 3 ? Value::Kind::kText : Value::Kind::kBytes, s);
        }
        return true;
      }
      case 4:
        return Sequence(out, arg, 1, depth, at);
      case 5:
        return Sequence(out, arg, 2, depth, at);
      case 7:
        return Simple(out, ai, arg);
      default: {  // 6: a tag over one item (transparent to encoded_at_: a tuple is a sequence)
        if (depth >= Depth()) return false;
        if (kKeep && !out) return Item(nullptr, depth + 1);
        Value inner;
        if (!Item(&inner, depth + 1, at)) return false;
        *out = Value::Tag(arg, std::move(inner));
        return true;
      }
    }
  }

  static constexpr size_t kOffPath = static_cast<size_t>(-1);

 private:
  size_t Depth() const { return std::min(limits_.max_depth, kMaxRecursion); }

  // Reads the head's argument (definite forms only; for major type 7 the simple value or the
  // float's bits) and moves past the head.
  bool Argument(uint64_t* arg) {
    const size_t len = ReadHeadArgument(p_, static_cast<size_t>(end_ - p_), arg);
    p_ += len;
    return len > 0;  // 0: incomplete, indefinite or reserved
  }

  // Where element `i` of an array (or the value of a map entry with key `key`) of an item
  // `at` steps along encoded_at_ stands: one step further when the next step names it.
  size_t Step(size_t at, size_t i, const Value* key) const {
    if (!encoded_at_ || at == kOffPath || at >= encoded_at_->size()) return kOffPath;
    const PathStep& step = (*encoded_at_)[at];
    if (key) {
      return step.kind == PathStep::kKey && NameEquals(*key, step.key) ? at + 1 : kOffPath;
    }
    if (step.kind == PathStep::kAnyIndex || (step.kind == PathStep::kIndex && step.index == i)) {
      return at + 1;
    }
    return kOffPath;
  }

  // An array (`per` 1) or a map (`per` 2) of `n` entries.
  bool Sequence(Value* out, uint64_t n, uint64_t per, size_t depth, size_t at) {
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
    if (kKeep && !out) {
      for (uint64_t i = 0; i < elements; ++i) {
        --pending_;  // Item counts it in items_
        if (!Item(nullptr, depth + 1)) return false;
      }
      return true;
    }
    *out = per == 1 ? Value::Array() : Value::Map();
    std::vector<Value>& items = out->mutable_items();
    items.resize(static_cast<size_t>(elements));
    for (size_t i = 0; i < items.size(); ++i) {
      --pending_;  // Item counts it in items_
      size_t next = kOffPath;
      if (kKeep && at != kOffPath) {
        next = per == 1 ? Step(at, i, nullptr) : (i % 2 ? Step(at, i, &items[i - 1]) : kOffPath);
      }
      if (!Item(&items[i], depth + 1, next)) return false;
    }
    return true;
  }

  // Major type 7: simple values and floats; `bits` is the head's argument.
  static bool Simple(Value* out, uint8_t ai, uint64_t bits) {
    if (ai == 24 && bits < 32) return false;  // not well-formed; StreamDecoder reports it
    if (kKeep && !out) return true;
    switch (ai) {
      case 24:
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
  const std::vector<PathStep>* encoded_at_;  // null: decode everything
  size_t items_ = 0;                         // items decoded or begun, as StreamDecoder counts them
  uint64_t pending_ = 0;  // elements declared by open containers and not yet begun
};

// Runs `d` over one item into `out` (null: check only) and, when the item is whole and within
// the byte limit, hands it over with its byte count.
template <bool kKeep>
bool Run(Direct<kKeep>& d, const uint8_t* data, const DecodeLimits& limits, Value* out,
         size_t* consumed) {
  Value v;
  if (!d.Item(out ? &v : nullptr, 0, 0)) return false;
  const size_t n = static_cast<size_t>(d.position() - data);
  if (n > limits.max_bytes) return false;
  if (out) *out = std::move(v);
  *consumed = n;
  return true;
}

}  // namespace

bool DecodeDirect(const uint8_t* data, size_t size, const DecodeLimits& limits, Value* out,
                  size_t* consumed) {
  Direct<false> d(data, size, limits);
  return Run(d, data, limits, out, consumed);
}

bool SkipDirect(const uint8_t* data, size_t size, const DecodeLimits& limits, size_t* consumed) {
  Direct<true> d(data, size, limits);
  return Run(d, data, limits, nullptr, consumed);
}

bool DecodeDirectKeeping(const uint8_t* data, size_t size, const DecodeLimits& limits,
                         const std::vector<PathStep>& encoded_at, Value* out, size_t* consumed) {
  Direct<true> d(data, size, limits, encoded_at.empty() ? nullptr : &encoded_at);
  return Run(d, data, limits, out, consumed);
}

}  // namespace coordinated
