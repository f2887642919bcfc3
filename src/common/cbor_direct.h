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

#include "common/cbor.h"
#include "common/value.h"

namespace coordinated {

// Decodes one item from the front of [data, data + size). On success sets *out and
// *consumed (the item's bytes; more may follow) and returns true.
bool DecodeDirect(const uint8_t* data, size_t size, const DecodeLimits& limits, Value* out,
                  size_t* consumed);

}  // namespace coordinated
