#include "rpc/envelope.h"

#include <string.h>

#include <type_traits>

#include "common/cbor.h"
#include "common/cbor_direct.h"

namespace coordinated::rpc {

namespace {

// Checks a request map and copies (const) or moves (non-const) its parts into a Request.
template <typename V>
StatusOr<Request> SplitRequest(V& msg) {
  if (!msg.is_map()) return Status::InvalidArgument("a request must be a map");
  const Value* method = msg.FindKey("method");
  if (!method) return Status::InvalidArgument("request has no 'method'");
  if (!method->is_string()) return Status::InvalidArgument("'method' must be a string");
  const Value* params = msg.FindKey("params");
  if (params && !params->is_null() && !params->is_sequence() && !params->is_map()) {
    return Status::InvalidArgument("don't understand params: " + params->ToDiagnostic());
  }
  Request req;
  req.method = method->str();
  if constexpr (std::is_const_v<V>) {
    if (const Value* id = msg.FindKey("id")) req.id = *id;
    req.params = (!params || params->is_null()) ? Value::Array() : *params;
  } else {
    if (Value* id = msg.FindMutableKey("id")) req.id = std::move(*id);
    req.params =
        (!params || params->is_null()) ? Value::Array() : std::move(*msg.FindMutableKey("params"));
  }
  return req;
}

constexpr std::string_view kAddWorkUnits = "add_work_units";

// Whether `bytes` is a map whose first "method" entry names add_work_units: its keys are
// decoded and the other values only stepped over.
bool IsAddWorkUnits(std::string_view bytes, const DecodeLimits& limits) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const auto* end = p + bytes.size();
  if (p == end || (*p >> 5) != 5) return false;
  uint64_t n = 0;
  const size_t head = ReadHeadArgument(p, bytes.size(), &n);
  if (head == 0) return false;
  p += head;
  for (uint64_t i = 0; i < n; ++i) {
    Value key;
    size_t used = 0;
    if (!DecodeDirect(p, static_cast<size_t>(end - p), limits, &key, &used)) return false;
    p += used;
    if (NameEquals(key, "method")) {
      Value method;
      return DecodeDirect(p, static_cast<size_t>(end - p), limits, &method, &used) &&
             NameEquals(method, kAddWorkUnits);
    }
    if (!SkipDirect(p, static_cast<size_t>(end - p), limits, &used)) return false;
    p += used;
  }
  return false;
}

}  // namespace

StatusOr<Value> DecodeMessage(std::string_view bytes, const DecodeLimits& limits) {
  // Most messages are not adds: one search of the bytes keeps them off the scan below.
  if (memmem(bytes.data(), bytes.size(), kAddWorkUnits.data(), kAddWorkUnits.size()) != nullptr &&
      IsAddWorkUnits(bytes, limits)) {
    // params[1] is the list of units; each is (key, data, ...), data its element 1.
    static const std::vector<PathStep> kUnitData = {{PathStep::kKey, "params", 0},
                                                    {PathStep::kIndex, "", 1},
                                                    {PathStep::kAnyIndex, "", 0},
                                                    {PathStep::kIndex, "", 1}};
    Value msg;
    size_t used = 0;
    if (DecodeDirectKeeping(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), limits,
                            kUnitData, &msg, &used) &&
        used == bytes.size()) {
      const Value* method = msg.FindKey("method");
      if (method && NameEquals(*method, kAddWorkUnits)) return msg;
    }
  }
  return DecodeCbor(bytes, limits);
}

StatusOr<Request> ParseRequest(const Value& msg) { return SplitRequest(msg); }

StatusOr<Request> ParseRequest(Value* msg) { return SplitRequest(*msg); }

Value ResultReply(const Value& id, Value result) {
  Value m = Value::Map();
  m.AppendEntry(Value::Bytes("id"), id);
  m.AppendEntry(Value::Bytes("result"), std::move(result));
  return m;
}

Value ErrorReply(const Value& id, const Status& error) {
  Value err = Value::Map();
  err.AppendEntry(Value::Bytes("message"), Value::Bytes(error.ToString()));
  Value m = Value::Map();
  m.AppendEntry(Value::Bytes("id"), id);
  m.AppendEntry(Value::Bytes("error"), std::move(err));
  return m;
}

std::string EncodeFrame(const Value& reply) {
  std::string inner = EncodeCbor(reply);
  std::string out;
  out.reserve(inner.size() + 12);
  EncodeHead(6, Value::kTagEncodedCbor, &out);
  EncodeHead(2, inner.size(), &out);
  out += inner;
  return out;
}

}  // namespace coordinated::rpc
