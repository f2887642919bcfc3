// The crash workload: specs, shared key pool, and the actor threads that drive the daemon.
//
// Actors (each a thread with its own connection, see actors_*.cc):
//  * producers  - add_work_units batches of fresh keys (some with priorities) to the main, the
//                 pausable and the chaining spec;
//  * workers    - get_work with a short lease, then finish, fail, renew then finish, or let the
//                 lease lapse; finishing a unit of the chaining spec creates "c:<key>" in its
//                 `then` spec;
//  * admin      - pauses / resumes the pausable spec, prioritizes and deletes units;
//  * dependency - add_dependent_work_units on fresh keys (sometimes a chain of three);
//  * locks      - lock / unlock / readlock over a few paths, two owners.
// No key is ever re-added by a producer, so a unit's status moves only by the operations the
// checker models. Every call is recorded in the History.
//
// Thread-safety: Start/Stop from one thread. KeyPool is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "coordinate/api.h"
#include "history.h"

namespace crashtest {

inline constexpr char kMainSpec[] = "crash_main";
inline constexpr char kPausedSpec[] = "crash_pause";
inline constexpr char kChainSpec[] = "crash_chain_a";
inline constexpr char kChainNextSpec[] = "crash_chain_b";
inline constexpr char kDepPrereqSpec[] = "crash_dep_a";
inline constexpr char kDepLaterSpec[] = "crash_dep_b";
inline constexpr char kLockNamespace[] = "crash";
inline constexpr int kLockPaths = 6;  // paths [crash, p0] .. [crash, p5]

// Every spec of the workload, and its set_work_spec definition.
std::vector<std::string> WorkloadSpecs();
coordinated::Value SpecDefinition(const std::string& name);
// The key a finished unit of kChainSpec creates in kChainNextSpec.
std::string ChainedKey(const std::string& key);
// Lock path [crash, pN] as a CBOR value.
coordinated::Value LockPath(const std::string& label);

struct WorkloadOptions {
  int producers = 2;
  int workers = 4;
  double lease_seconds = 1;  // get_work and renew lease (1 is the smallest the daemon honours)
  int lock_timeout = 2;      // seconds
  uint64_t seed = 1;
};

// Keys whose creation was invoked, per spec: the admin picks its targets here.
class KeyPool {
 public:
  void Add(const std::string& spec, const std::string& key);
  // Up to n distinct-ish recent keys of `spec` (empty when none).
  std::vector<std::string> Pick(const std::string& spec, int n, std::mt19937_64& rng);

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> keys_;  // guarded by mu_
};

// What every actor gets.
struct ActorEnv {
  std::string address;
  int round = 0;
  History* history = nullptr;
  KeyPool* pool = nullptr;
  const WorkloadOptions* options = nullptr;
  const std::atomic<bool>* stop = nullptr;
};

// One actor's connection plus the recording of each call.
class Session {
 public:
  Session(const ActorEnv& env, std::string actor, uint64_t seed);
  // True when connected, or connecting now succeeds. False while the daemon is down.
  bool Ready();
  bool stopping() const { return env_.stop->load(); }
  // Runs `call` (returning a Status) recorded as `op`. The outcome is ok on success, failed on an
  // error reply or in-band refusal (the connection stays open), unknown when the connection
  // dropped. `granted` (get_work) becomes the op's units when ok.
  template <class F>
  Outcome Run(Op op, F&& call, const std::vector<UnitId>* granted = nullptr) {
    op.round = env_.round;
    op.actor = actor_;
    const size_t i = env_.history->Invoke(std::move(op));
    Status s = call(api_);
    Outcome o = s.ok() ? Outcome::kOk : client_.connected() ? Outcome::kFailed : Outcome::kUnknown;
    env_.history->Complete(i, o, s.ok() ? std::string() : s.ToString(),
                           s.ok() && granted ? *granted : std::vector<UnitId>());
    return o;
  }
  // Runs `calls` as one batch request (one CBOR array each way), recording call i as ops[i]
  // and judging each reply as Run judges a (ok, message) reply. When the connection drops, every
  // call of the batch is unknown.
  std::vector<Outcome> RunBatch(
      std::vector<Op> ops, const std::vector<std::pair<std::string, coordinated::Value>>& calls) {
    std::vector<size_t> ids;
    for (Op& op : ops) {
      op.round = env_.round;
      op.actor = actor_;
      ids.push_back(env_.history->Invoke(std::move(op)));
    }
    auto replies = client_.Batch(calls);
    std::vector<Outcome> out;
    for (size_t i = 0; i < ids.size(); ++i) {
      Status s = i < replies.size() ? coordinate::Api::ParseOk(replies[i])
                                    : Status::IOError("no reply in the batch");
      const Outcome o = s.ok()                ? Outcome::kOk
                        : client_.connected() ? Outcome::kFailed
                                              : Outcome::kUnknown;
      env_.history->Complete(ids[i], o, s.ok() ? std::string() : s.ToString(), {});
      out.push_back(o);
    }
    return out;
  }
  void SleepMs(int lo, int hi);
  std::mt19937_64& rng() { return rng_; }
  const ActorEnv& env() const { return env_; }
  const std::string& actor() const { return actor_; }

 private:
  using Status = coordinated::Status;
  ActorEnv env_;
  std::string actor_;
  coordinate::Client client_;
  coordinate::Api api_;
  std::mt19937_64 rng_;
};

// Actor loops (they return when env.stop is set).
void RunProducer(const ActorEnv& env, int id, uint64_t seed);
void RunWorker(const ActorEnv& env, int id, uint64_t seed);
void RunAdmin(const ActorEnv& env, uint64_t seed);
void RunDependencyUser(const ActorEnv& env, uint64_t seed);
void RunLockUser(const ActorEnv& env, uint64_t seed);

class Workload {
 public:
  Workload(WorkloadOptions options, History* history) : options_(options), history_(history) {}
  ~Workload() { Stop(); }
  // Starts every actor against `address` for round `round`.
  void Start(const std::string& address, int round);
  // Stops and joins every actor (call once the daemon is dead: in-flight calls end unknown).
  void Stop();

 private:
  WorkloadOptions options_;
  History* history_;
  KeyPool pool_;
  ActorEnv env_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace crashtest
