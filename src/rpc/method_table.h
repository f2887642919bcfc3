// The RPC method registry: one row per method (name, parameter names, how many are required,
// where it runs, handler). Dispatch, arity and keyword checking, the docs and the tests all
// read this one table (methods.cc).
#pragma once

#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/value.h"

namespace coordinated::scheduler {
class Coordinator;
}

namespace coordinated::rpc {

// What a handler may use. Handlers marked kSequenced run on the sequencer thread and may touch
// the coordinator; kInline handlers run on a network thread and must not.
struct CallContext {
  scheduler::Coordinator* coordinator = nullptr;
  const Value* client_config = nullptr;  // what get_config serves
  SystemClock* clock = nullptr;
  bool test_hooks = false;
};

// Arguments in declaration order; a parameter the caller did not pass is Value::Undefined().
using Args = std::vector<Value>;
using Handler = StatusOr<Value> (*)(CallContext& ctx, Args& args);

enum class Exec {
  kInline,     // pure or read-only of immutable state: answered on the network thread
  kSequenced,  // touches coordination state: runs on the sequencer, replied after group commit
};

struct MethodSpec {
  std::string_view name;
  std::vector<std::string_view> params;
  size_t required;  // the first `required` params must be given
  Exec exec;
  Handler handler;
  bool test_only = false;  // only with test hooks enabled
};

const std::vector<MethodSpec>& MethodTable();
// nullptr when unknown (or test-only while test hooks are off).
const MethodSpec* FindMethod(std::string_view name, bool test_hooks);

// Maps positional or keyword params onto the spec's parameter list, checking arity and names.
StatusOr<Args> BindArgs(const MethodSpec& spec, const Value& params);

}  // namespace coordinated::rpc
