#include "rpc/envelope.h"

#include "common/cbor.h"

namespace coordinated::rpc {

StatusOr<Request> ParseRequest(const Value& msg) {
  if (!msg.is_map()) return Status::InvalidArgument("a request must be a map");
  Request req;
  const Value* id = msg.FindKey("id");
  if (id) req.id = *id;
  const Value* method = msg.FindKey("method");
  if (!method) return Status::InvalidArgument("request has no 'method'");
  if (!method->is_string()) return Status::InvalidArgument("'method' must be a string");
  req.method = method->str();
  const Value* params = msg.FindKey("params");
  if (!params || params->is_null()) {
    req.params = Value::Array();
  } else if (params->is_sequence() || params->is_map()) {
    req.params = *params;
  } else {
    return Status::InvalidArgument("don't understand params: " + params->ToDiagnostic());
  }
  return req;
}

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
