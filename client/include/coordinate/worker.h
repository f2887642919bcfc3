// coordinate::Worker: a small worker loop over the typed Api.
//
//   coordinate::WorkerOptions wo;
//   wo.work_spec_names = {coordinate::B("spec")};
//   wo.lease_seconds = 60;
//   coordinate::Worker worker(client_options, wo);
//   std::atomic<bool> stop{false};
//   worker.Run([](const coordinate::Lease& lease, coordinate::Value* data) {
//     ...                                   // do the work; may modify *data
//     return coordinate::Status::Ok();      // OK: finished; an error (or exception): failed
//   }, stop);
//
// Each round: heartbeat (register) when due, get_work, then for each leased unit run the
// callback while a background thread renews the lease every lease_seconds/3 over a second
// connection; on OK the unit is FINISHED (status 4) with the possibly updated data; on an error
// Status or an exception it is FAILED (status 5) with data["traceback"] = the error text.
// Run() also honours the global mode: IDLE pauses, TERMINATE stops the loop. It unregisters
// the worker when it returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "coordinate/api.h"
#include "coordinate/client.h"

namespace coordinate {

struct WorkerOptions {
  Value worker_id;                     // null: "<hostname>-<pid>-<n>"
  std::vector<Value> work_spec_names;  // empty: any spec
  double lease_seconds = 300;          // lease per unit; renewed every lease_seconds / 3
  int max_jobs = 1;                    // units per get_work
  double heartbeat_seconds = 15;       // heartbeat period; the registration expires after 3x
  double idle_sleep_seconds = 1;       // Run(): pause when there is no work
  Value worker_data = Value::Map();    // data sent with each heartbeat
};

// The work: may replace *data (sent back when finishing); OK finishes, an error fails.
using WorkCallback = std::function<Status(const Lease& lease, Value* data)>;

struct WorkerCounters {
  uint64_t finished = 0;
  uint64_t failed = 0;
  uint64_t renewals = 0;
  uint64_t renewal_errors = 0;
};

class Worker {
 public:
  Worker(ClientOptions client_options, WorkerOptions options);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // One round: heartbeat when due, get_work, process the leases. Returns how many units were
  // processed (0: no work). A transport or daemon error aborts the round.
  StatusOr<int> RunOnce(const WorkCallback& callback);
  // Rounds until `stop` is set or the mode becomes TERMINATE; then unregisters.
  Status Run(const WorkCallback& callback, const std::atomic<bool>& stop);

  // Registers (worker_heartbeat) now.
  Status Heartbeat();
  const Value& worker_id() const { return options_.worker_id; }
  WorkerCounters counters() const;

 private:
  struct Renewer;
  Status Process(const Lease& lease, const WorkCallback& callback);

  WorkerOptions options_;
  Client client_;
  Client renew_client_;
  Api api_;
  double last_heartbeat_ = -1;
  std::string mode_ = "RUN";
  std::atomic<uint64_t> finished_{0}, failed_{0}, renewals_{0}, renewal_errors_{0};
};

}  // namespace coordinate
