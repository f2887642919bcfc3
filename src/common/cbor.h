// CBOR encoding and bounded, resumable decoding of Value.
//
// Encoding produces the bytes the original Python daemon produced: shortest-form heads for
// integers and lengths, definite lengths everywhere, every float as an 8-byte double (0xFB),
// tuples as tag 128 over an array, map entries in insertion order.
//
// An item that is whole in the buffer is decoded directly (common/cbor_direct.h); otherwise
// decoding is built on libcbor's streaming decoder (cbor_stream_decode), one head at a time, so
// an item can be fed in pieces as it arrives from a socket. Limits are enforced *before*
// anything is allocated: a declared string length or element count that cannot fit in what is
// left of the byte budget is refused at once, nesting deeper than max_depth is refused, and the
// number of decoded items is capped (each item costs memory regardless of its wire size).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace coordinated {

// Appends a CBOR head (major type 0..7 and its argument) in shortest form.
void EncodeHead(uint8_t major, uint64_t arg, std::string* out);

// Reads the argument of the head at `p` (`n` bytes readable): the additional information itself
// below 24, else the 1, 2, 4 or 8 big-endian bytes after the initial byte. Returns the head's
// length, or 0 when it is incomplete or its additional information is 28..31 (reserved, or an
// indefinite length, which has no argument).
inline size_t ReadHeadArgument(const uint8_t* p, size_t n, uint64_t* arg) {
  if (n == 0) return 0;
  const uint8_t ai = p[0] & 0x1f;
  if (ai < 24) {
    *arg = ai;
    return 1;
  }
  if (ai > 27) return 0;
  const size_t len = 1 + (size_t{1} << (ai - 24));
  if (n < len) return 0;
  uint64_t v = 0;
  for (size_t i = 1; i < len; ++i) v = (v << 8) | p[i];
  *arg = v;
  return len;
}

// Appends the encoding of `v` to `*out`.
void EncodeCbor(const Value& v, std::string* out);
std::string EncodeCbor(const Value& v);

struct DecodeLimits {
  size_t max_bytes = 64u << 20;  // one top-level item, all heads and payloads included
  size_t max_depth = 64;         // containers and tags nested in each other
  size_t max_items = 4u << 20;   // data items in one top-level item
};

// Decodes a stream of top-level CBOR items incrementally.
//
// Usage: call Feed(data, size, &consumed) with everything received so far that has not been
// consumed. It returns:
//   * kDone: one complete item is ready in TakeValue(); `consumed` bytes belong to it.
//   * kNeedMore: every byte up to `consumed` was absorbed into the partial item; call again with
//     the remaining bytes plus more data.
//   * kError: the input is malformed or breaks a limit; error() says why. The decoder must not be
//     used again (the byte stream has no recoverable framing).
// Not thread-safe; one decoder per connection.
class StreamDecoder {
 public:
  enum class Result { kDone, kNeedMore, kError };
  explicit StreamDecoder(DecodeLimits limits = {}) : limits_(limits) {}

  Result Feed(const uint8_t* data, size_t size, size_t* consumed);
  // Whether an item found whole at the start of a Feed is decoded by DecodeDirect (the
  // default) or, like every other item, head by head. Tests and fuzzers compare the two.
  void set_direct(bool direct) { direct_ = direct; }
  Value TakeValue();
  const Status& error() const { return error_; }
  // Bytes absorbed into the item being decoded (0 between items).
  size_t item_bytes() const { return item_bytes_; }

  // Callback entry points (public for the C callback table; not part of the API).
  void OnUInt(uint64_t v);
  void OnNegInt(uint64_t v);
  void OnString(bool text, const uint8_t* data, size_t len);
  void OnStringStart(bool text);
  void OnArrayStart(size_t n, bool indefinite);
  void OnMapStart(size_t n, bool indefinite);
  void OnTag(uint64_t tag);
  void OnDouble(double d);
  void OnSimple(Value v);
  void OnBreak();

 private:
  struct Frame {
    enum class Type { kArray, kMap, kTag, kChunks } type;
    bool indefinite = false;
    uint64_t remaining = 0;  // items still expected (definite); map counts keys and values
    Value value;             // container being built (array or map)
    Value key;               // kMap: the key waiting for its value
    bool has_key = false;
    uint64_t tag = 0;    // kTag
    bool text = false;   // kChunks: text (true) or byte (false) string
    std::string chunks;  // kChunks: the content so far
  };
  void Emit(Value v);  // a complete item: attach to the innermost container or finish
  void Fail(Status s);
  bool CheckCount(uint64_t n);
  bool PushFrame(Frame f);
  bool DepthExceeded();
  bool CountStart();

  DecodeLimits limits_;
  std::vector<Frame> stack_;
  Value done_;
  bool have_done_ = false;
  size_t item_bytes_ = 0;
  size_t items_ = 0;
  size_t available_ = 0;  // bytes handed to the current Feed call not yet consumed
  Status error_;
  bool direct_ = true;
};

// Decodes exactly one item that must span all of `bytes`. `direct` as in
// StreamDecoder::set_direct.
StatusOr<Value> DecodeCbor(std::string_view bytes, const DecodeLimits& limits = {},
                           bool direct = true);

}  // namespace coordinated
