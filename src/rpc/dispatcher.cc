#include "rpc/dispatcher.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "rpc/envelope.h"
#include "scheduler/sequencer.h"
#include "storage/disk_space.h"

namespace coordinated::rpc {

void Dispatcher::Handle(Value msg, ConnectionState* connection, Done done) {
  if (msg.is_sequence()) {
    HandleBatch(std::move(msg), connection, std::move(done));
  } else {
    HandleOne(std::move(msg), connection, std::move(done));
  }
}

bool Dispatcher::Admitted(std::string_view method, const ConnectionState* connection) const {
  if (ctx_.auth_token == nullptr || ctx_.auth_token->empty()) return true;
  return method == "auth" || (connection != nullptr && connection->authenticated);
}

void Dispatcher::HandleBatch(Value batch, ConnectionState* connection, Done done) {
  const size_t n = batch.items().size();
  if (n == 0) {
    done(Value::Array());
    return;
  }
  struct State {
    std::vector<Value> replies;
    std::atomic<size_t> left;
    Done done;
  };
  if (TryBatchHandler(batch, connection, done)) return;
  auto st = std::make_shared<State>();
  st->replies.resize(n);
  st->left = n;
  st->done = std::move(done);
  auto& items = batch.mutable_items();
  for (size_t i = 0; i < n; ++i) {
    Handle(std::move(items[i]), connection, [st, i](Value reply) {
      st->replies[i] = std::move(reply);
      if (st->left.fetch_sub(1) == 1) st->done(Value::Array(std::move(st->replies)));
    });
  }
}

bool Dispatcher::TryBatchHandler(Value& batch, const ConnectionState* connection, Done& done) {
  const auto& items = batch.items();
  if (items.size() < 2 || sequencer_ == nullptr) return false;
  struct Job {
    const MethodSpec* spec = nullptr;
    std::vector<Value> ids;
    std::vector<Args> calls;
    std::vector<Value> replies;
    Done done;
  };
  auto job = std::make_shared<Job>();
  job->ids.reserve(items.size());
  job->calls.reserve(items.size());
  for (const Value& item : items) {
    if (item.is_sequence()) return false;
    auto req = ParseRequest(item);
    if (!req.ok() || !Admitted(req->method, connection)) return false;
    const MethodSpec* spec = FindMethod(req->method, ctx_.test_hooks);
    if (spec == nullptr || spec->batch == nullptr || spec->exec != Exec::kSequenced ||
        spec->grows_store || (job->spec != nullptr && spec != job->spec)) {
      return false;
    }
    auto args = BindArgs(*spec, std::move(req->params));
    if (!args.ok()) return false;
    job->spec = spec;
    job->ids.push_back(std::move(req->id));
    job->calls.push_back(std::move(args).value());
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    for (const Value& id : job->ids) {
      spdlog::debug("rpc {} id={} (one job for {} calls)", job->spec->name, id.ToDiagnostic(),
                    job->ids.size());
    }
  }
  job->done = std::move(done);
  const TimePoint start = observer_ ? std::chrono::steady_clock::now() : TimePoint();
  CallContext* ctx = &ctx_;
  const bool queued = sequencer_->Submit(
      [job, ctx] {
        auto results = job->spec->batch(*ctx, job->calls);
        job->replies.reserve(results.size());
        for (size_t i = 0; i < results.size(); ++i) {
          job->replies.push_back(results[i].ok()
                                     ? ResultReply(job->ids[i], std::move(results[i]).value())
                                     : ErrorReply(job->ids[i], results[i].status()));
        }
      },
      [this, job, start] {
        if (observer_) {
          const double seconds =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          for (const Value& reply : job->replies) {
            observer_(job->spec->name, seconds, reply.FindKey("error") == nullptr);
          }
        }
        job->done(Value::Array(std::move(job->replies)));
      });
  if (!queued) {
    const Status down = Status::Unavailable("the daemon is shutting down");
    std::vector<Value> replies;
    for (const Value& id : job->ids) {
      replies.push_back(ErrorReply(id, down));
      if (observer_) observer_(job->spec->name, 0, false);
    }
    job->done(Value::Array(std::move(replies)));
  }
  return true;
}

void Dispatcher::Finish(const Done& done, std::string_view method, TimePoint start,
                        Value reply) const {
  if (observer_) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    observer_(method, seconds, reply.FindKey("error") == nullptr);
  }
  done(std::move(reply));
}

void Dispatcher::HandleOne(Value msg, ConnectionState* connection, Done done) {
  const TimePoint start = observer_ ? std::chrono::steady_clock::now() : TimePoint();
  auto req = ParseRequest(&msg);
  if (!req.ok()) {
    const Value* id = msg.FindKey("id");
    Finish(done, {}, start, ErrorReply(id ? *id : Value::Null(), req.status()));
    return;
  }
  if (!Admitted(req->method, connection)) {
    Finish(done, {}, start,
           ErrorReply(req->id, Status::Unauthenticated("call auth(token) first; '" + req->method +
                                                       "' refused")));
    return;
  }
  const MethodSpec* spec = FindMethod(req->method, ctx_.test_hooks);
  if (!spec) {
    Finish(done, {}, start,
           ErrorReply(req->id, Status::NoSuchMethod("no such method '" + req->method + "'")));
    return;
  }
  auto args = BindArgs(*spec, std::move(req->params));
  if (!args.ok()) {
    Finish(done, spec->name, start, ErrorReply(req->id, args.status()));
    return;
  }
  if (spec->grows_store && ctx_.disk_space != nullptr) {
    if (Status room = ctx_.disk_space->CheckCanGrow(); !room.ok()) {
      Finish(done, spec->name, start, ErrorReply(req->id, room));
      return;
    }
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("rpc {} id={}", spec->name, req->id.ToDiagnostic());
  }
  if (spec->exec == Exec::kInline || sequencer_ == nullptr) {
    CallContext call_ctx = ctx_;
    call_ctx.connection = connection;
    auto result = spec->handler(call_ctx, *args);
    Finish(done, spec->name, start,
           result.ok() ? ResultReply(req->id, std::move(result).value())
                       : ErrorReply(req->id, result.status()));
    return;
  }
  struct Call {
    Value id;
    Args args;
    Value reply;
    Done done;
  };
  auto call = std::make_shared<Call>(
      Call{std::move(req->id), std::move(args).value(), {}, std::move(done)});
  CallContext* ctx = &ctx_;
  const bool queued = sequencer_->Submit(
      [call, spec, ctx] {
        auto result = spec->handler(*ctx, call->args);
        call->reply = result.ok() ? ResultReply(call->id, std::move(result).value())
                                  : ErrorReply(call->id, result.status());
      },
      [this, call, spec, start] { Finish(call->done, spec->name, start, std::move(call->reply)); });
  if (!queued) {
    Finish(call->done, spec->name, start,
           ErrorReply(call->id, Status::Unavailable("the daemon is shutting down")));
  }
}

}  // namespace coordinated::rpc
