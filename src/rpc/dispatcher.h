// Dispatcher: turns one decoded message (a request map, or a batch array of them) into a reply.
//
// Unknown methods, bad arity, bad keyword names, methods that grow the store while disk space
// is low (ResourceExhausted, see MethodSpec::grows_store) and handler errors become the error form
// {id, error: {message: "Class: text"}}; the connection is never closed for them. kInline
// methods are answered at once; kSequenced ones are queued on the sequencer and answered after
// the group commit that covers them. A batch is answered with one array, in request order. A
// batch of two or more calls of one method that has a batch handler (MethodSpec::batch), each
// admitted and with valid arguments, runs as one sequencer job through that handler; any other
// batch is handled call by call.
//
// Thread-safety: Handle may be called from any thread; `done` runs on the calling thread
// (inline) or on the sequencer thread, exactly once.
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

#include "common/value.h"
#include "rpc/method_table.h"

namespace coordinated::scheduler {
class Sequencer;
}

namespace coordinated::rpc {

class Dispatcher {
 public:
  using Done = std::function<void(Value reply)>;
  // Called once per request (each element of a batch counts as one) just before its reply is
  // handed to `done`: the method's name from the method table (empty when the request named no
  // known method or could not be parsed), the seconds from the start of dispatch to the reply
  // (queueing and the group commit included) and whether the reply is a result (not an error).
  // Runs on a network thread or the sequencer thread, so it must be cheap and thread-safe
  // (the daemon's metrics registry only touches atomics).
  using Observer = std::function<void(std::string_view method, double seconds, bool ok)>;

  Dispatcher(CallContext ctx, scheduler::Sequencer* sequencer) : ctx_(ctx), sequencer_(sequencer) {}

  // Optional. Set once before the first Handle (it is not synchronised with Handle).
  void SetObserver(Observer observer) { observer_ = std::move(observer); }

  void Handle(Value msg, Done done) { Handle(std::move(msg), nullptr, std::move(done)); }
  // `connection`: the state of the connection the message came on (nullptr: none). When
  // ctx.auth_token is set, every request but `auth` is refused with an Unauthenticated error,
  // before its method is looked up, unless connection->authenticated; requests are checked in
  // the order they are handed in (a batch in array order), so an auth earlier in a pipeline or
  // batch admits the requests after it. Call from the connection's strand.
  void Handle(Value msg, ConnectionState* connection, Done done);

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  void HandleOne(Value msg, ConnectionState* connection, Done done);
  // Reports to the observer (if any), then calls `done`.
  void Finish(const Done& done, std::string_view method, TimePoint start, Value reply) const;
  void HandleBatch(Value batch, ConnectionState* connection, Done done);
  // Runs the batch through its method's batch handler when it qualifies (see above); false
  // (and nothing consumed or answered) when it does not.
  bool TryBatchHandler(Value& batch, const ConnectionState* connection, Done& done);
  bool Admitted(std::string_view method, const ConnectionState* connection) const;

  CallContext ctx_;
  scheduler::Sequencer* sequencer_;
  Observer observer_;
};

}  // namespace coordinated::rpc
