#include "rpc.h"

#include "errors.h"

namespace coordadmin {

Value Call(coordinate::Client& client, std::string_view method, Value params) {
  auto r = client.Call(method, std::move(params));
  if (!r.ok()) FailStatus(r.status(), std::string(method));
  return std::move(r).value();
}

Reply Split(const Value& reply) {
  if (reply.is_sequence() && reply.items().size() == 2) {
    return {reply.items()[0], reply.items()[1]};
  }
  return {reply, Value::Null()};
}

std::string MessageText(const Value& v) {
  if (v.is_string()) return v.str();
  return v.ToDiagnostic();
}

void ExpectOk(const Value& reply, const std::string& what) {
  Reply r = Split(reply);
  if (!r.value.Truthy()) {
    Fail(kExitFailed, what + ": " + (r.message.is_null() ? "refused" : MessageText(r.message)));
  }
}

}  // namespace coordadmin
