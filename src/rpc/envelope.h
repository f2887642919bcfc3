// The CBOR-RPC message envelope, as the original Python daemon spoke it.
//
// Request:  {id, method, params}   (keys bytes or text; params an array or a map of kwargs)
// Reply:    {id, result}  or  {id, error: {message}}   (keys as byte strings, like Python 2)
// On the wire every message is tag 24 over a byte string holding the encoded map; an array of
// requests is a batch answered by one array of replies.
#pragma once

#include <string>
#include <string_view>

#include "common/cbor.h"
#include "common/status.h"
#include "common/value.h"

namespace coordinated::rpc {

struct Request {
  Value id;  // echoed back unchanged (any CBOR value)
  std::string method;
  Value params;  // array (positional), map (keyword) or undefined (no params key)
};

// Splits a decoded request map. Errors name what is missing or malformed.
StatusOr<Request> ParseRequest(const Value& msg);
// The same, moving the id and params out of `*msg` instead of copying them; on an error
// `*msg` is left as it was.
StatusOr<Request> ParseRequest(Value* msg);

Value ResultReply(const Value& id, Value result);
Value ErrorReply(const Value& id, const Status& error);

// Decodes a message (the bytes a frame's tag 24 wraps), as DecodeCbor does, except that in an
// add_work_units request with positional params each unit's data stays encoded
// (Value::Encoded): the store keeps it as it came, so it is never built into a tree here and
// encoded again on the state thread. Anything else, and any message the direct decoder leaves
// to the general one, is decoded in full.
StatusOr<Value> DecodeMessage(std::string_view bytes, const DecodeLimits& limits);

// Wraps an encoded message map (or batch array) the way PY did: tag 24 over a byte string.
std::string EncodeFrame(const Value& reply);

}  // namespace coordinated::rpc
