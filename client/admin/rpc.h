// Small helpers for calling the daemon from commands.
#pragma once

#include <string>
#include <string_view>

#include "coordinate/client.h"

namespace coordadmin {

using coordinated::Value;

// One call. A transport failure exits 3, an error reply exits 1.
Value Call(coordinate::Client& client, std::string_view method, Value params = Value::Array());

// The Python daemon's (value, message) replies: `value` is the first element, `message` the
// second (null when the reply is not such a pair).
struct Reply {
  Value value;
  Value message;
};
Reply Split(const Value& reply);

// A message value as text (bytes or text content; anything else in diagnostic notation).
std::string MessageText(const Value& v);

// Checks an (ok, message) reply: exits 1 with the message when ok is falsy.
void ExpectOk(const Value& reply, const std::string& what);

}  // namespace coordadmin
