// Dispatcher: turns one decoded message (a request map, or a batch array of them) into a reply.
//
// Unknown methods, bad arity, bad keyword names and handler errors become the error form
// {id, error: {message: "Class: text"}}; the connection is never closed for them. kInline
// methods are answered at once; kSequenced ones are queued on the sequencer and answered after
// the group commit that covers them. A batch is answered with one array, in request order.
//
// Thread-safety: Handle may be called from any thread; `done` runs on the calling thread
// (inline) or on the sequencer thread, exactly once.
#pragma once

#include <functional>

#include "common/value.h"
#include "rpc/method_table.h"

namespace coordinated::scheduler {
class Sequencer;
}

namespace coordinated::rpc {

class Dispatcher {
 public:
  using Done = std::function<void(Value reply)>;
  Dispatcher(CallContext ctx, scheduler::Sequencer* sequencer)
      : ctx_(ctx), sequencer_(sequencer) {}

  void Handle(Value msg, Done done);

 private:
  void HandleOne(Value msg, Done done);
  void HandleBatch(Value batch, Done done);

  CallContext ctx_;
  scheduler::Sequencer* sequencer_;
};

}  // namespace coordinated::rpc
