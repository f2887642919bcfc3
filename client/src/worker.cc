#include "coordinate/worker.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

namespace coordinate {

namespace {

double Seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Value DefaultWorkerId() {
  static std::atomic<int> counter{0};
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = 0;
  return Value::Text(std::string(host[0] ? host : "worker") + "-" + std::to_string(::getpid()) +
                     "-" + std::to_string(counter++));
}

}  // namespace

// Renews a set of leases from a background thread, every period seconds, until stopped.
// Removing a lease (Drop) waits for an in-flight renewal, so no renewal is sent after it.
struct Worker::Renewer {
  Renewer(Worker* w, std::vector<Lease> leases) : worker(w), pending(std::move(leases)) {
    thread = std::thread([this] { Loop(); });
  }
  ~Renewer() {
    {
      std::lock_guard<std::mutex> l(mu);
      stop = true;
    }
    cv.notify_all();
    thread.join();
  }
  void Drop(const Lease& lease) {
    std::lock_guard<std::mutex> l(mu);
    for (auto it = pending.begin(); it != pending.end(); ++it) {
      if (it->spec == lease.spec && it->key == lease.key) {
        pending.erase(it);
        break;
      }
    }
  }
  void Loop() {
    const double lease = worker->options_.lease_seconds;
    const auto period = std::chrono::duration<double>(lease / 3);
    Api api(worker->renew_client_);
    std::unique_lock<std::mutex> l(mu);
    while (!stop) {
      if (cv.wait_for(l, period, [this] { return stop; })) break;
      // The lock is held while renewing: Drop() cannot finish a unit under a renewal.
      for (const auto& p : pending) {
        UpdateOptions o;
        o.lease_time = lease;
        o.status = kPending;
        o.worker_id = worker->options_.worker_id;
        Status s = api.UpdateWorkUnit(p.spec, p.key, o);
        if (s.ok()) {
          ++worker->renewals_;
        } else {
          ++worker->renewal_errors_;
        }
      }
    }
  }

  Worker* worker;
  std::vector<Lease> pending;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::thread thread;
};

Worker::Worker(ClientOptions client_options, WorkerOptions options)
    : options_(std::move(options)),
      client_(client_options),
      renew_client_(client_options),
      api_(client_) {
  if (options_.worker_id.is_null()) options_.worker_id = DefaultWorkerId();
  if (options_.max_jobs < 1) options_.max_jobs = 1;
  if (options_.lease_seconds <= 0) options_.lease_seconds = 300;
}

Worker::~Worker() = default;

WorkerCounters Worker::counters() const {
  WorkerCounters c;
  c.finished = finished_;
  c.failed = failed_;
  c.renewals = renewals_;
  c.renewal_errors = renewal_errors_;
  return c;
}

Status Worker::Heartbeat() {
  auto r = api_.WorkerHeartbeat(options_.worker_id, mode_, options_.heartbeat_seconds * 3,
                                options_.worker_data);
  if (!r.ok()) return r.status();
  last_heartbeat_ = Seconds();
  return Status::Ok();
}

StatusOr<int> Worker::RunOnce(const WorkCallback& callback) {
  if (last_heartbeat_ < 0 || Seconds() - last_heartbeat_ >= options_.heartbeat_seconds) {
    COORD_RETURN_IF_ERROR(Heartbeat());
  }
  GetWorkOptions go;
  go.max_jobs = options_.max_jobs;
  go.lease_time = options_.lease_seconds;
  go.work_spec_names = options_.work_spec_names;
  COORD_ASSIGN_OR_RETURN(std::vector<Lease> leases, api_.GetWork(options_.worker_id, go));
  if (leases.empty()) return 0;
  Renewer renewer(this, leases);
  Status first_error;
  int done = 0;
  for (const auto& lease : leases) {
    Value data = lease.data;
    Status result;
    try {
      result = callback(lease, &data);
    } catch (const std::exception& e) {
      result = Status::Internal(std::string("exception: ") + e.what());
    } catch (...) {
      result = Status::Internal("exception: unknown");
    }
    renewer.Drop(lease);
    UpdateOptions o;
    o.worker_id = options_.worker_id;
    if (result.ok()) {
      o.status = kFinished;
      o.data = std::move(data);
    } else {
      if (!data.is_map()) {
        Value m = Value::Map();
        m.Set(B("data"), std::move(data));
        data = std::move(m);
      }
      data.Set(B("traceback"), Value::Text(result.ToString()));
      o.status = kFailed;
      o.data = std::move(data);
    }
    Status s = api_.UpdateWorkUnit(lease.spec, lease.key, o);
    if (!s.ok()) {
      if (first_error.ok()) first_error = s;
      continue;
    }
    ++(result.ok() ? finished_ : failed_);
    ++done;
  }
  if (!first_error.ok()) return first_error;
  return done;
}

Status Worker::Run(const WorkCallback& callback, const std::atomic<bool>& stop) {
  Status final_status;
  auto idle = [&] {
    const double until = Seconds() + options_.idle_sleep_seconds;
    while (!stop && Seconds() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  };
  while (!stop) {
    if (last_heartbeat_ < 0 || Seconds() - last_heartbeat_ >= options_.heartbeat_seconds) {
      auto mode = api_.GetMode();
      if (!mode.ok()) {
        final_status = mode.status();
        break;
      }
      if (*mode == "TERMINATE") break;
      mode_ = *mode == "IDLE" ? "IDLE" : "RUN";
      Status hb = Heartbeat();
      if (!hb.ok()) {
        final_status = hb;
        break;
      }
    }
    if (mode_ == "IDLE") {
      idle();
      continue;
    }
    auto n = RunOnce(callback);
    if (!n.ok()) {
      final_status = n.status();
      break;
    }
    if (*n == 0) idle();
  }
  (void)api_.WorkerUnregister(options_.worker_id);
  return final_status;
}

}  // namespace coordinate
