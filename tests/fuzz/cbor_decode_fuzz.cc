// libFuzzer target for the CBOR decoder (src/common/cbor.h).
//
// Each input is decoded twice: once through StreamDecoder fed in two chunks (the split point
// comes from the first byte, the caller re-feeding unconsumed bytes as a connection would), and
// once through DecodeCbor. The two must agree, and DecodeCbor without its direct path
// (common/cbor_direct.h, libcbor head by head only) must give the same value or the same error.
// Every successfully decoded value is re-encoded and decoded again; the result must equal the value
// and re-encode to the same bytes. Any disagreement aborts, which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/cbor.h"
#include "common/value.h"

namespace {

using coordinated::DecodeCbor;
using coordinated::DecodeLimits;
using coordinated::EncodeCbor;
using coordinated::StatusOr;
using coordinated::StreamDecoder;
using coordinated::Value;

[[noreturn]] void Die(const char* what, const Value* v) {
  std::fprintf(stderr, "cbor_decode_fuzz: %s\n", what);
  if (v != nullptr) std::fprintf(stderr, "value: %s\n", v->ToDiagnostic().c_str());
  std::abort();
}

// Small limits keep each run fast and exercise the limit paths; they are large enough for
// every seed in the corpus.
DecodeLimits FuzzLimits() {
  DecodeLimits limits;
  limits.max_bytes = 1 << 20;
  limits.max_depth = 32;
  limits.max_items = 1 << 16;
  return limits;
}

// Checks that `v` survives encode -> decode unchanged, byte for byte.
void CheckRoundTrip(const Value& v) {
  const std::string enc = EncodeCbor(v);
  DecodeLimits generous;  // the re-encoding may be larger (floats widen, lengths become definite)
  generous.max_bytes = enc.size() + 16;
  generous.max_depth = 64;
  generous.max_items = enc.size() + 16;
  StatusOr<Value> back = DecodeCbor(enc, generous);
  if (!back.ok()) Die("re-encoded value does not decode", &v);
  if (*back != v) Die("re-decoded value differs", &v);
  if (EncodeCbor(*back) != enc) Die("re-encoding is not stable", &v);
}

// Feeds `data` in two chunks. Returns the first item's result: kDone with *out set and
// *item_size its byte count, kNeedMore if the input ended inside the first item, or kError.
StreamDecoder::Result StreamTwoChunks(const uint8_t* data, size_t size, size_t split, Value* out,
                                      size_t* item_size) {
  StreamDecoder dec(FuzzLimits());
  std::string pending(reinterpret_cast<const char*>(data), split);
  size_t fed = split;
  size_t total = 0;
  for (int round = 0; round < 2; ++round) {
    size_t consumed = 0;
    const auto r =
        dec.Feed(reinterpret_cast<const uint8_t*>(pending.data()), pending.size(), &consumed);
    if (consumed > pending.size()) Die("consumed more than fed", nullptr);
    total += consumed;
    if (r == StreamDecoder::Result::kError) {
      if (dec.error().ok()) Die("kError with an OK status", nullptr);
      return r;
    }
    if (r == StreamDecoder::Result::kDone) {
      if (dec.item_bytes() != total) Die("item_bytes disagrees with consumed", nullptr);
      *out = dec.TakeValue();
      *item_size = total;
      if (dec.item_bytes() != 0) Die("item_bytes not reset by TakeValue", nullptr);
      return r;
    }
    if (dec.item_bytes() != total) Die("item_bytes disagrees with consumed", nullptr);
    pending.erase(0, consumed);
    pending.append(reinterpret_cast<const char*>(data) + fed, size - fed);
    fed = size;
  }
  return StreamDecoder::Result::kNeedMore;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t split = data[0] % (size + 1);

  Value streamed;
  size_t item_size = 0;
  const auto r = StreamTwoChunks(data, size, split, &streamed, &item_size);

  const StatusOr<Value> whole =
      DecodeCbor(std::string_view(reinterpret_cast<const char*>(data), size), FuzzLimits());

  const StatusOr<Value> headwise = DecodeCbor(
      std::string_view(reinterpret_cast<const char*>(data), size), FuzzLimits(), /*direct=*/false);
  if (whole.ok() != headwise.ok()) Die("direct and head-by-head decoding disagree", nullptr);
  if (whole.ok() && (*whole != *headwise || EncodeCbor(*whole) != EncodeCbor(*headwise))) {
    Die("direct and head-by-head values differ", &*whole);
  }
  if (!whole.ok() && (whole.status().code() != headwise.status().code() ||
                      whole.status().message() != headwise.status().message())) {
    Die("direct and head-by-head errors differ", nullptr);
  }

  if (whole.ok()) {
    // DecodeCbor accepted exactly one item spanning the input; the stream must agree.
    if (r != StreamDecoder::Result::kDone) Die("DecodeCbor ok but stream did not finish", nullptr);
    if (item_size != size) Die("stream item size differs from DecodeCbor's", &*whole);
    if (streamed != *whole) Die("stream and DecodeCbor values differ", &*whole);
    CheckRoundTrip(*whole);
  } else if (r == StreamDecoder::Result::kDone) {
    // The first item is complete but DecodeCbor refused: there must be trailing bytes, and the
    // first item alone must decode to the same value.
    if (item_size >= size) Die("stream finished an item DecodeCbor refused", &streamed);
    const StatusOr<Value> first =
        DecodeCbor(std::string_view(reinterpret_cast<const char*>(data), item_size), FuzzLimits());
    if (!first.ok() || *first != streamed) Die("first item does not decode alone", &streamed);
    CheckRoundTrip(streamed);
  }
  return 0;
}
