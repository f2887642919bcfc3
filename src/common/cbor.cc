#include "common/cbor.h"

#include <cbor.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "common/cbor_direct.h"

namespace coordinated {

// ---------------------------------------------------------------------------------------------
// Encoding

namespace {

void PutHead(std::string* out, uint8_t major, uint64_t arg) {
  const uint8_t m = static_cast<uint8_t>(major << 5);
  if (arg < 24) {
    out->push_back(static_cast<char>(m | arg));
  } else if (arg <= 0xff) {
    out->push_back(static_cast<char>(m | 24));
    out->push_back(static_cast<char>(arg));
  } else if (arg <= 0xffff) {
    out->push_back(static_cast<char>(m | 25));
    for (int s = 8; s >= 0; s -= 8) out->push_back(static_cast<char>(arg >> s));
  } else if (arg <= 0xffffffffull) {
    out->push_back(static_cast<char>(m | 26));
    for (int s = 24; s >= 0; s -= 8) out->push_back(static_cast<char>(arg >> s));
  } else {
    out->push_back(static_cast<char>(m | 27));
    for (int s = 56; s >= 0; s -= 8) out->push_back(static_cast<char>(arg >> s));
  }
}

}  // namespace

void EncodeHead(uint8_t major, uint64_t arg, std::string* out) { PutHead(out, major, arg); }

void EncodeCbor(const Value& v, std::string* out) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kNull:
      out->push_back(static_cast<char>(0xf6));
      return;
    case K::kUndefined:
      out->push_back(static_cast<char>(0xf7));
      return;
    case K::kBool:
      out->push_back(static_cast<char>(v.as_bool() ? 0xf5 : 0xf4));
      return;
    case K::kUInt:
      PutHead(out, 0, v.raw_num());
      return;
    case K::kNegInt:
      PutHead(out, 1, v.raw_num());
      return;
    case K::kDouble: {
      double d = v.as_double();
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      out->push_back(static_cast<char>(0xfb));
      for (int s = 56; s >= 0; s -= 8) out->push_back(static_cast<char>(bits >> s));
      return;
    }
    case K::kBytes:
    case K::kText:
      PutHead(out, v.is_bytes() ? 2 : 3, v.str().size());
      out->append(v.str());
      return;
    case K::kEncoded:
      out->append(v.encoded());
      return;
    case K::kTuple:
      PutHead(out, 6, Value::kTagTuple);
      [[fallthrough]];
    case K::kArray:
      PutHead(out, 4, v.items().size());
      for (const auto& it : v.items()) EncodeCbor(it, out);
      return;
    case K::kMap:
      PutHead(out, 5, v.map_size());
      for (const auto& it : v.items()) EncodeCbor(it, out);
      return;
    case K::kTag:
      PutHead(out, 6, v.tag());
      EncodeCbor(v.tagged(), out);
      return;
    case K::kSimple:
      if (v.raw_num() < 24) {
        out->push_back(static_cast<char>(0xe0 | v.raw_num()));
      } else {
        out->push_back(static_cast<char>(0xf8));
        out->push_back(static_cast<char>(v.raw_num()));
      }
      return;
  }
}

std::string EncodeCbor(const Value& v) {
  std::string out;
  EncodeCbor(v, &out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding: libcbor callbacks forward to the StreamDecoder.

namespace {

StreamDecoder* D(void* ctx) { return static_cast<StreamDecoder*>(ctx); }

const cbor_callbacks kCallbacks = [] {
  cbor_callbacks cb = cbor_empty_callbacks;
  cb.uint8 = [](void* c, uint8_t v) { D(c)->OnUInt(v); };
  cb.uint16 = [](void* c, uint16_t v) { D(c)->OnUInt(v); };
  cb.uint32 = [](void* c, uint32_t v) { D(c)->OnUInt(v); };
  cb.uint64 = [](void* c, uint64_t v) { D(c)->OnUInt(v); };
  cb.negint8 = [](void* c, uint8_t v) { D(c)->OnNegInt(v); };
  cb.negint16 = [](void* c, uint16_t v) { D(c)->OnNegInt(v); };
  cb.negint32 = [](void* c, uint32_t v) { D(c)->OnNegInt(v); };
  cb.negint64 = [](void* c, uint64_t v) { D(c)->OnNegInt(v); };
  cb.byte_string = [](void* c, cbor_data d, size_t n) { D(c)->OnString(false, d, n); };
  cb.byte_string_start = [](void* c) { D(c)->OnStringStart(false); };
  cb.string = [](void* c, cbor_data d, size_t n) { D(c)->OnString(true, d, n); };
  cb.string_start = [](void* c) { D(c)->OnStringStart(true); };
  cb.array_start = [](void* c, size_t n) { D(c)->OnArrayStart(n, false); };
  cb.indef_array_start = [](void* c) { D(c)->OnArrayStart(0, true); };
  cb.map_start = [](void* c, size_t n) { D(c)->OnMapStart(n, false); };
  cb.indef_map_start = [](void* c) { D(c)->OnMapStart(0, true); };
  cb.tag = [](void* c, uint64_t t) { D(c)->OnTag(t); };
  cb.float2 = [](void* c, float f) { D(c)->OnDouble(f); };
  cb.float4 = [](void* c, float f) { D(c)->OnDouble(f); };
  cb.float8 = [](void* c, double f) { D(c)->OnDouble(f); };
  cb.undefined = [](void* c) { D(c)->OnSimple(Value::Undefined()); };
  cb.null = [](void* c) { D(c)->OnSimple(Value::Null()); };
  cb.boolean = [](void* c, bool b) { D(c)->OnSimple(Value::Bool(b)); };
  cb.indef_break = [](void* c) { D(c)->OnBreak(); };
  return cb;
}();

// Elements reserved up front for a container's declared count: beyond this the vector grows as
// elements arrive, so nested hostile counts cannot reserve more than they deliver.
constexpr size_t kMaxReserve = 4096;

// Length of a string head at `p` (major type 2 or 3 with a 1..8 byte argument), or 0 when the
// head is incomplete. Used to refuse oversized strings before libcbor waits for their bytes.
size_t StringHeadLen(const uint8_t* p, size_t n, uint64_t* declared) {
  if ((p[0] & 0x1f) > 27) return 1;  // indefinite or reserved: libcbor decides
  return ReadHeadArgument(p, n, declared);
}

}  // namespace

void StreamDecoder::Fail(Status s) {
  if (error_.ok()) error_ = std::move(s);
}

bool StreamDecoder::CheckCount(uint64_t n) {
  const size_t budget = limits_.max_bytes > item_bytes_ ? limits_.max_bytes - item_bytes_ : 0;
  if (n > budget) {
    Fail(Status::ResourceExhausted(
        fmt::format("declared {} elements but at most {} bytes may follow", n, budget)));
    return false;
  }
  if (n > limits_.max_items || items_ + n > limits_.max_items) {
    Fail(Status::ResourceExhausted(
        fmt::format("more than {} data items in one message", limits_.max_items)));
    return false;
  }
  return true;
}

bool StreamDecoder::DepthExceeded() {
  if (stack_.size() < limits_.max_depth) return false;
  Fail(Status::ResourceExhausted(fmt::format("nesting deeper than {} levels", limits_.max_depth)));
  return true;
}

bool StreamDecoder::CountStart() {
  // Containers and tags are counted when they open (leaves and empty containers in Emit).
  if (++items_ > limits_.max_items) {
    Fail(Status::ResourceExhausted(
        fmt::format("more than {} data items in one message", limits_.max_items)));
    return false;
  }
  return true;
}

bool StreamDecoder::PushFrame(Frame f) {
  if (DepthExceeded()) return false;
  stack_.push_back(std::move(f));
  return true;
}

void StreamDecoder::Emit(Value v) {
  if (!error_.ok()) return;
  if (++items_ > limits_.max_items) {
    Fail(Status::ResourceExhausted(
        fmt::format("more than {} data items in one message", limits_.max_items)));
    return;
  }
  while (true) {
    if (stack_.empty()) {
      done_ = std::move(v);
      have_done_ = true;
      return;
    }
    Frame& top = stack_.back();
    switch (top.type) {
      case Frame::Type::kChunks:
        Fail(Status::InvalidArgument("malformed CBOR: indefinite string holds a non-string"));
        return;
      case Frame::Type::kArray:
        top.value.Append(std::move(v));
        break;
      case Frame::Type::kMap:
        if (!top.has_key) {
          top.key = std::move(v);
          top.has_key = true;
        } else {
          top.value.AppendEntry(std::move(top.key), std::move(v));
          top.has_key = false;
        }
        break;
      case Frame::Type::kTag: {
        Value tagged = Value::Tag(top.tag, std::move(v));
        stack_.pop_back();
        v = std::move(tagged);
        continue;  // the tagged item is complete: attach it one level up
      }
    }
    if (top.indefinite) return;
    if (--top.remaining > 0) return;
    Value finished = std::move(top.value);
    stack_.pop_back();
    v = std::move(finished);
  }
}

void StreamDecoder::OnUInt(uint64_t v) { Emit(Value::UInt(v)); }
void StreamDecoder::OnNegInt(uint64_t v) { Emit(Value::NegIntArg(v)); }
void StreamDecoder::OnDouble(double d) { Emit(Value::Double(d)); }
void StreamDecoder::OnSimple(Value v) { Emit(std::move(v)); }

void StreamDecoder::OnString(bool text, const uint8_t* data, size_t len) {
  if (!stack_.empty() && stack_.back().type == Frame::Type::kChunks) {
    Frame& top = stack_.back();
    if (top.text != text) {
      Fail(Status::InvalidArgument("malformed CBOR: string chunk of the wrong type"));
      return;
    }
    if (++items_ > limits_.max_items) {
      Fail(Status::ResourceExhausted("too many string chunks"));
      return;
    }
    top.chunks.append(reinterpret_cast<const char*>(data), len);
    return;
  }
  Emit(Value::String(text ? Value::Kind::kText : Value::Kind::kBytes,
                     std::string_view(reinterpret_cast<const char*>(data), len)));
}

void StreamDecoder::OnStringStart(bool text) {
  if (!stack_.empty() && stack_.back().type == Frame::Type::kChunks) {
    Fail(Status::InvalidArgument("malformed CBOR: nested indefinite string"));
    return;
  }
  Frame f;
  f.type = Frame::Type::kChunks;
  f.indefinite = true;
  f.text = text;
  PushFrame(std::move(f));
}

void StreamDecoder::OnArrayStart(size_t n, bool indefinite) {
  if (!stack_.empty() && stack_.back().type == Frame::Type::kChunks) {
    Fail(Status::InvalidArgument("malformed CBOR: indefinite string holds a non-string"));
    return;
  }
  if (!indefinite && n == 0) {
    if (DepthExceeded()) return;
    Emit(Value::Array());
    return;
  }
  if (!indefinite && !CheckCount(n)) return;
  if (!CountStart()) return;
  Frame f;
  f.type = Frame::Type::kArray;
  f.indefinite = indefinite;
  f.remaining = n;
  f.value = Value::Array();
  if (!indefinite) f.value.mutable_items().reserve(std::min<size_t>({n, available_, kMaxReserve}));
  PushFrame(std::move(f));
}

void StreamDecoder::OnMapStart(size_t n, bool indefinite) {
  if (!stack_.empty() && stack_.back().type == Frame::Type::kChunks) {
    Fail(Status::InvalidArgument("malformed CBOR: indefinite string holds a non-string"));
    return;
  }
  if (!indefinite && n == 0) {
    if (DepthExceeded()) return;
    Emit(Value::Map());
    return;
  }
  if (!indefinite && (n > (SIZE_MAX / 2) || !CheckCount(2 * static_cast<uint64_t>(n)))) {
    Fail(Status::ResourceExhausted("map too large"));
    return;
  }
  if (!CountStart()) return;
  Frame f;
  f.type = Frame::Type::kMap;
  f.indefinite = indefinite;
  f.remaining = 2 * static_cast<uint64_t>(n);
  f.value = Value::Map();
  if (!indefinite) {
    f.value.mutable_items().reserve(std::min<size_t>({2 * n, available_, kMaxReserve}));
  }
  PushFrame(std::move(f));
}

void StreamDecoder::OnTag(uint64_t tag) {
  if (!stack_.empty() && stack_.back().type == Frame::Type::kChunks) {
    Fail(Status::InvalidArgument("malformed CBOR: indefinite string holds a non-string"));
    return;
  }
  if (!CountStart()) return;
  Frame f;
  f.type = Frame::Type::kTag;
  f.remaining = 1;
  f.tag = tag;
  PushFrame(std::move(f));
}

void StreamDecoder::OnBreak() {
  if (stack_.empty() || !stack_.back().indefinite) {
    Fail(Status::InvalidArgument("malformed CBOR: unexpected break"));
    return;
  }
  Frame top = std::move(stack_.back());
  stack_.pop_back();
  switch (top.type) {
    case Frame::Type::kChunks:
      Emit(Value::String(top.text ? Value::Kind::kText : Value::Kind::kBytes, top.chunks));
      return;
    case Frame::Type::kMap:
      if (top.has_key) {
        Fail(Status::InvalidArgument("malformed CBOR: map with a key but no value"));
        return;
      }
      [[fallthrough]];
    case Frame::Type::kArray:
      Emit(std::move(top.value));
      return;
    case Frame::Type::kTag:
      Fail(Status::InvalidArgument("malformed CBOR: unexpected break"));
      return;
  }
}

StreamDecoder::Result StreamDecoder::Feed(const uint8_t* data, size_t size, size_t* consumed) {
  size_t off = 0;
  *consumed = 0;
  if (!error_.ok()) return Result::kError;
  // A whole item at the start: decode it directly (see common/cbor_direct.h). Anything else
  // (incomplete, malformed, indefinite) goes through libcbor below, head by head.
  if (direct_ && stack_.empty() && item_bytes_ == 0 && !have_done_ && size > 0 &&
      DecodeDirect(data, size, limits_, &done_, consumed)) {
    have_done_ = true;
    item_bytes_ = *consumed;
    return Result::kDone;
  }
  while (off < size) {
    const uint8_t first = data[off];
    const uint8_t major = first >> 5;
    // Heads libcbor 0.8's streaming decoder refuses but CBOR allows: one-byte tags 6..20 and
    // simple values 0..19 and 32..255.
    if ((first >= 0xc6 && first <= 0xd4) || (first >= 0xe0 && first <= 0xf3) || first == 0xf8) {
      size_t len = 1;
      if (first == 0xf8) {
        if (size - off < 2) break;
        if (data[off + 1] < 32) {
          Fail(Status::InvalidArgument("malformed CBOR: two-byte simple value below 32"));
          return Result::kError;
        }
        len = 2;
      }
      off += len;
      item_bytes_ += len;
      if (major == 6) {
        OnTag(first & 0x1f);
      } else {
        OnSimple(Value::Simple(len == 2 ? data[off - 1] : (first & 0x1f)));
      }
      if (!error_.ok()) return Result::kError;
      if (have_done_) {
        *consumed = off;
        return Result::kDone;
      }
      continue;
    }
    if (major == 2 || major == 3) {
      uint64_t declared = 0;
      const size_t head = StringHeadLen(data + off, size - off, &declared);
      if (head == 0) break;  // need the rest of the head
      const uint64_t budget = limits_.max_bytes > item_bytes_ ? limits_.max_bytes - item_bytes_ : 0;
      if ((data[off] & 0x1f) <= 27 && (declared > budget || head + declared > budget)) {
        Fail(Status::ResourceExhausted(
            fmt::format("string of {} bytes exceeds the message limit of {} bytes", declared,
                        limits_.max_bytes)));
        return Result::kError;
      }
    }
    available_ = size - off;
    cbor_decoder_result r = cbor_stream_decode(data + off, size - off, &kCallbacks, this);
    if (r.status == CBOR_DECODER_ERROR) {
      Fail(Status::InvalidArgument(fmt::format(
          "malformed CBOR at byte {} of the message (0x{:02x})", item_bytes_, data[off])));
      return Result::kError;
    }
    if (r.status == CBOR_DECODER_NEDATA) {
      if (item_bytes_ + r.required > limits_.max_bytes) {
        Fail(Status::ResourceExhausted(
            fmt::format("message exceeds the limit of {} bytes", limits_.max_bytes)));
        return Result::kError;
      }
      break;
    }
    off += r.read;
    item_bytes_ += r.read;
    if (!error_.ok()) return Result::kError;
    if (item_bytes_ > limits_.max_bytes) {
      Fail(Status::ResourceExhausted(
          fmt::format("message exceeds the limit of {} bytes", limits_.max_bytes)));
      return Result::kError;
    }
    if (have_done_) {
      *consumed = off;
      return Result::kDone;
    }
  }
  *consumed = off;
  return Result::kNeedMore;
}

Value StreamDecoder::TakeValue() {
  have_done_ = false;
  item_bytes_ = 0;
  items_ = 0;
  return std::move(done_);
}

StatusOr<Value> DecodeCbor(std::string_view bytes, const DecodeLimits& limits, bool direct) {
  StreamDecoder dec(limits);
  dec.set_direct(direct);
  size_t consumed = 0;
  auto r = dec.Feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &consumed);
  if (r == StreamDecoder::Result::kError) return dec.error();
  if (r == StreamDecoder::Result::kNeedMore) {
    return Status::InvalidArgument("malformed CBOR: truncated item");
  }
  if (consumed != bytes.size()) {
    return Status::InvalidArgument("malformed CBOR: trailing bytes after the item");
  }
  return dec.TakeValue();
}

}  // namespace coordinated
