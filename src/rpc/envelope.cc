#include "rpc/envelope.h"

#include <type_traits>

#include "common/cbor.h"

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

}  // namespace

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
