// The RPC method registry: one row per method (name, parameter names, how many are required,
// where it runs, handler). Dispatch, arity and keyword checking, the docs and the tests all
// read this one table (methods.cc).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/value.h"

namespace coordinated::scheduler {
class Coordinator;
}
namespace coordinated::storage {
class DiskSpaceGuard;
}

namespace coordinated::rpc {

// State of one RPC connection, owned by its session and touched only on that session's strand.
// With an auth token configured, only `auth` is served until `authenticated` is true; the
// session closes the connection (after writing the replies owed) once `auth_failures` reaches
// kMaxAuthFailures.
struct ConnectionState {
  bool authenticated = false;  // the last auth() call on this connection presented the token
  int auth_failures = 0;       // auth() calls with a wrong token
};
inline constexpr int kMaxAuthFailures = 3;

// What a handler may use. Handlers marked kSequenced run on the sequencer thread and may touch
// the coordinator; kInline handlers run on a network thread and must not.
struct CallContext {
  scheduler::Coordinator* coordinator = nullptr;
  const Value* client_config = nullptr;  // what get_config serves
  SystemClock* clock = nullptr;
  bool test_hooks = false;
  // While it reports low disk space, methods that grow the store are refused (nullptr: never).
  const storage::DiskSpaceGuard* disk_space = nullptr;
  // The token connections must present with auth(token); nullptr or empty: no authentication
  // (auth then succeeds with any argument). Never logged or served.
  const std::string* auth_token = nullptr;
  // The caller's connection: set for kInline handlers called through a connection, nullptr for
  // kSequenced handlers and in-process calls.
  ConnectionState* connection = nullptr;
};

// Arguments in declaration order; a parameter the caller did not pass is Value::Undefined().
using Args = std::vector<Value>;
using Handler = StatusOr<Value> (*)(CallContext& ctx, Args& args);
// Runs several calls of one method, in order, as one sequencer job: one result per call, each
// what `Handler` would have returned for it (see Dispatcher for when it is used).
using BatchHandler = std::vector<StatusOr<Value>> (*)(CallContext& ctx, std::vector<Args>& calls);

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
  // Creates work (specs, units): refused with ResourceExhausted while disk space is low, before
  // it is queued. Methods that finish, fail, renew, read or delete never are.
  bool grows_store = false;
  // kSequenced methods only: answers a batch request made only of calls of this method in one
  // sequencer job and fewer store writes (nullptr: each call is its own job).
  BatchHandler batch = nullptr;
};

const std::vector<MethodSpec>& MethodTable();
// nullptr when unknown (or test-only while test hooks are off).
const MethodSpec* FindMethod(std::string_view name, bool test_hooks);

// Maps positional or keyword params onto the spec's parameter list, checking arity and names.
// The arguments are moved out of `params`.
StatusOr<Args> BindArgs(const MethodSpec& spec, Value params);

}  // namespace coordinated::rpc
