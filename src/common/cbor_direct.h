// A direct CBOR decoder for items that are complete in memory: the fast path in front of
// StreamDecoder (common/cbor.h).
//
// StreamDecoder is resumable (it takes a message in pieces as they arrive) and so builds every
// item through a stack of partial containers and one callback per head. Most messages, and
// every stored record, are whole in one buffer; this decoder reads those by recursive descent,
// building each container in place.
//
// Contract: DecodeDirect either decodes exactly what StreamDecoder would (same Value, same
// number of bytes, the same limits honoured) and returns true, or returns false and leaves the
// item to StreamDecoder, which then gives the result or the precise error. It returns false
// for an incomplete item, for anything malformed or beyond a limit, and for the forms it
// leaves to StreamDecoder: indefinite lengths (and so break codes), reserved heads and
// two-byte simple values below 32. It never allocates more than the input can fill: a declared
// count or length larger than the bytes left is a fall-back, not a reservation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/cbor.h"
#include "common/value.h"

namespace coordinated {

// Decodes one item from the front of [data, data + size). On success sets *out and
// *consumed (the item's bytes; more may follow) and returns true.
bool DecodeDirect(const uint8_t* data, size_t size, const DecodeLimits& limits, Value* out,
                  size_t* consumed);

// Checks the item at the front of [data, data + size) as DecodeDirect would, without building
// it; on success sets *consumed and returns true.
bool SkipDirect(const uint8_t* data, size_t size, const DecodeLimits& limits, size_t* consumed);

// One step of a path from the top of an item down into it: the value of a map entry whose key
// is a byte or text string with these bytes, one element of an array, or every element. A tag
// does not count as a step (a tuple's elements are reached as an array's).
struct PathStep {
  enum Kind { kKey, kIndex, kAnyIndex } kind;
  std::string key;   // kKey
  size_t index = 0;  // kIndex
};

// DecodeDirect, except that every item at the end of `encoded_at` is kept as its encoded bytes
// (Value::Encoded) instead of being decoded. Such an item passes exactly the checks and counts
// toward the limits exactly as if it were decoded, so this succeeds on the same inputs as
// DecodeDirect, and decoding each kept item gives what DecodeDirect would have put there. An
// empty path keeps nothing.
bool DecodeDirectKeeping(const uint8_t* data, size_t size, const DecodeLimits& limits,
                         const std::vector<PathStep>& encoded_at, Value* out, size_t* consumed);

}  // namespace coordinated
