// HttpApi: what the HTTP side port serves (docs/operations.md lists every endpoint).
//
//   GET  /healthz                      200 "ok" while the process runs
//   GET  /readyz                       200 "ready" / 503 "starting" or "draining"
//   GET  /metrics                      Prometheus text exposition (metrics.h)
//   GET  /                             the status page (dashboard.html)
//   GET  /api/summary, /api/specs, /api/specs/{spec},
//   /api/specs/{spec}/units?status=&start=&limit=,
//        /api/specs/{spec}/units/{key}, /api/workers, /api/locks, /api/failures?limit=
//   POST /api/specs/{spec}/pause, /api/specs/{spec}/resume, /api/specs/{spec}/units/{key}/retry,
//        /api/specs/{spec}/retry_failed   (only with http.allow_actions, and only with an
//        X-Requested-By header, which a cross-site form or script cannot send; 403 otherwise)
//
// Names and keys in paths are percent-encoded bytes. Coordinator state is read only on the
// sequencer thread: each /api and /metrics request is one Sequencer job that gathers what the
// response needs; the JSON or text is rendered afterwards on the connection's io thread. Actions
// are ordinary coordinator transactions, answered after the group commit that makes them durable.
//
// Thread-safety: Handle from any io thread. SetBackend once, before readiness; SetDraining any
// time after.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "daemon/http_server.h"

namespace coordinated::scheduler {
class Coordinator;
class Sequencer;
}  // namespace coordinated::scheduler
namespace coordinated::rpc {
class Server;
}

namespace coordinated::daemon {

class MetricsRegistry;

struct HttpApiOptions {
  bool allow_actions = false;
  std::string git_sha = "unknown";
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

class HttpApi : public HttpHandler {
 public:
  HttpApi(HttpApiOptions options, MetricsRegistry* metrics);

  // The store is open, recovery is done and requests are accepted: /readyz turns 200, /api and
  // /metrics answer (503 before).
  void SetBackend(scheduler::Coordinator* coordinator, scheduler::Sequencer* sequencer,
                  const rpc::Server* rpc);
  // Shutdown has begun: /readyz, /api and /metrics answer 503 from now on.
  void SetDraining() { draining_.store(true); }

  void Handle(HttpRequest request, HttpReply reply) override;

 private:
  class Impl;
  HttpApiOptions options_;
  MetricsRegistry* metrics_;
  scheduler::Coordinator* coordinator_ = nullptr;
  scheduler::Sequencer* sequencer_ = nullptr;
  const rpc::Server* rpc_ = nullptr;
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace coordinated::daemon
