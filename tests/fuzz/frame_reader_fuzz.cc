// libFuzzer target for the frame reader: the server's read loop over StreamDecoder
// (src/rpc/server.cc Consume and HandleItem) with the tag-24 unwrapping it does
// (rpc::DecodeMessage, checked against DecodeCbor).
//
// The input is a byte stream as a connection would receive it. It is read twice: once in
// chunks whose sizes come from a generator seeded by the input (1 byte up to 4 KiB each, as
// socket reads split it), and once in a single chunk. Each read keeps the unconsumed bytes and
// appends the next chunk, feeds the decoder until it needs more, unwraps each complete item
// (tag 24 over a byte string is decoded again; tag 24 over anything else, an undecodable inner
// message or a null message ends the conversation) and records what a dispatcher would get.
// Both reads must deliver the same messages and end the same way: how the bytes arrive never
// changes what is decoded. Every delivered message must re-encode and decode to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/cbor.h"
#include "common/status.h"
#include "common/value.h"
#include "fuzz_util.h"
#include "rpc/envelope.h"

namespace {

using coordfuzz::FuzzDie;
using coordinated::DecodeCbor;
using coordinated::DecodeLimits;
using coordinated::EncodeCbor;
using coordinated::StreamDecoder;
using coordinated::Value;

constexpr const char* kTarget = "frame_reader_fuzz";

// Small enough to reach the limit paths quickly, large enough for every seed.
DecodeLimits FuzzLimits() {
  DecodeLimits limits;
  limits.max_bytes = 64 << 10;
  limits.max_depth = 16;
  limits.max_items = 4096;
  return limits;
}

enum class End {
  kOpen,      // the stream ended between items or inside one (the peer may send more)
  kError,     // the decoder refused the stream
  kBadTag,    // tag 24 over a non-byte-string
  kBadInner,  // tag 24 whose content does not decode
  kNull,      // a null message ends the conversation
};

struct Conversation {
  std::vector<Value> messages;  // what the dispatcher is handed, in order
  End end = End::kOpen;
};

// HandleItem: unwraps tag 24; false when the conversation ends here.
bool HandleItem(Value item, Conversation* conv) {
  Value msg;
  if (item.is_tag() && item.tag() == Value::kTagEncodedCbor) {
    if (!item.tagged().is_bytes()) {
      conv->end = End::kBadTag;
      return false;
    }
    // As the server does; the data it keeps encoded changes nothing a reader can see.
    auto inner = coordinated::rpc::DecodeMessage(item.tagged().str(), FuzzLimits());
    auto plain = DecodeCbor(item.tagged().str(), FuzzLimits());
    if (inner.ok() != plain.ok() || (inner.ok() && *inner != *plain) ||
        (!inner.ok() && inner.status().message() != plain.status().message())) {
      FuzzDie(kTarget, "DecodeMessage and DecodeCbor disagree", inner.ok() ? &*inner : nullptr);
    }
    if (!inner.ok()) {
      conv->end = End::kBadInner;
      return false;
    }
    msg = std::move(inner).value();
  } else {
    msg = std::move(item);
  }
  if (msg.is_null()) {
    conv->end = End::kNull;
    return false;
  }
  conv->messages.push_back(std::move(msg));
  return true;
}

// Reads `data` in chunks of the given sizes (the last chunk takes the rest).
Conversation Read(const uint8_t* data, size_t size, const std::vector<size_t>& chunks) {
  Conversation conv;
  StreamDecoder decoder(FuzzLimits());
  std::string buf;
  size_t fed = 0;
  size_t next_chunk = 0;
  while (fed < size) {
    size_t n = next_chunk < chunks.size() ? chunks[next_chunk++] : size - fed;
    if (n > size - fed) n = size - fed;
    buf.append(reinterpret_cast<const char*>(data) + fed, n);
    fed += n;
    while (!buf.empty()) {
      size_t consumed = 0;
      const auto r =
          decoder.Feed(reinterpret_cast<const uint8_t*>(buf.data()), buf.size(), &consumed);
      if (consumed > buf.size()) FuzzDie(kTarget, "consumed more than fed");
      buf.erase(0, consumed);
      if (r == StreamDecoder::Result::kError) {
        if (decoder.error().ok()) FuzzDie(kTarget, "kError with an OK status");
        conv.end = End::kError;
        return conv;
      }
      if (r == StreamDecoder::Result::kNeedMore) break;  // the rest comes with the next read
      if (!HandleItem(decoder.TakeValue(), &conv)) return conv;
    }
  }
  return conv;
}

void CheckRoundTrip(const Value& v) {
  const std::string enc = EncodeCbor(v);
  DecodeLimits generous;
  generous.max_bytes = enc.size() + 16;
  generous.max_items = enc.size() + 16;
  auto back = DecodeCbor(enc, generous);
  if (!back.ok() || *back != v) FuzzDie(kTarget, "message does not survive re-encoding", &v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  coordfuzz::SplitMix rng(coordfuzz::HashBytes(data, size));
  std::vector<size_t> chunks;
  for (size_t covered = 0; covered < size;) {
    // Mostly tiny reads (every split point inside heads), sometimes large ones.
    const uint64_t r = rng.Next();
    const size_t n = 1 + (r >> 8) % (size_t{1} << (r % 13));
    chunks.push_back(n);
    covered += n;
  }
  const Conversation chunked = Read(data, size, chunks);
  const Conversation whole = Read(data, size, {});
  if (chunked.end != whole.end) FuzzDie(kTarget, "chunked and whole reads end differently");
  if (chunked.messages.size() != whole.messages.size()) {
    FuzzDie(kTarget, "chunked and whole reads deliver different message counts");
  }
  for (size_t i = 0; i < whole.messages.size(); ++i) {
    if (chunked.messages[i] != whole.messages[i]) {
      FuzzDie(kTarget, "chunked and whole reads deliver different messages", &whole.messages[i]);
    }
    CheckRoundTrip(whole.messages[i]);
  }
  return 0;
}
