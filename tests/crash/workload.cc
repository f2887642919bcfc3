#include "workload.h"

#include <chrono>

namespace crashtest {

using coordinate::B;
using coordinate::M;
using coordinated::Value;

std::vector<std::string> WorkloadSpecs() {
  return {kMainSpec, kPausedSpec, kChainSpec, kChainNextSpec, kDepPrereqSpec, kDepLaterSpec};
}

Value SpecDefinition(const std::string& name) {
  Value def = M({{"name", B(name)}});
  if (name == kChainSpec) def.Set(B("then"), B(kChainNextSpec));
  return def;
}

std::string ChainedKey(const std::string& key) { return "c:" + key; }

Value LockPath(const std::string& label) { return Value::Array({B(kLockNamespace), B(label)}); }

void KeyPool::Add(const std::string& spec, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  keys_[spec].push_back(key);
}

std::vector<std::string> KeyPool::Pick(const std::string& spec, int n, std::mt19937_64& rng) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  auto it = keys_.find(spec);
  if (it == keys_.end() || it->second.empty()) return out;
  const auto& keys = it->second;
  // Mostly recent keys (the ones still in play), sometimes any.
  const size_t window = std::min<size_t>(keys.size(), 200);
  for (int i = 0; i < n; ++i) {
    const size_t k = rng() % 4 == 0 ? rng() % keys.size() : keys.size() - 1 - rng() % window;
    out.push_back(keys[k]);
  }
  return out;
}

Session::Session(const ActorEnv& env, std::string actor, uint64_t seed)
    : env_(env),
      actor_(std::move(actor)),
      client_([&] {
        coordinate::ClientOptions o;
        o.address = env.address;
        o.retries = 0;  // a dropped connection is an unknown outcome, never silently resent
        o.timeout_seconds = 10;
        return o;
      }()),
      api_(client_),
      rng_(seed) {}

bool Session::Ready() { return client_.connected() || client_.Connect().ok(); }

void Session::SleepMs(int lo, int hi) {
  const int ms = lo + static_cast<int>(rng_() % static_cast<uint64_t>(hi - lo + 1));
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void Workload::Start(const std::string& address, int round) {
  Stop();
  stop_ = false;
  env_.address = address;
  env_.round = round;
  env_.history = history_;
  env_.pool = &pool_;
  env_.options = &options_;
  env_.stop = &stop_;
  // One seed per (run seed, round, actor): a run is reproducible up to thread timing.
  auto seed = [&](uint64_t actor) {
    return options_.seed * 1000003ULL + static_cast<uint64_t>(round) * 1009ULL + actor;
  };
  for (int i = 0; i < options_.producers; ++i) {
    threads_.emplace_back(RunProducer, env_, i, seed(100 + static_cast<uint64_t>(i)));
  }
  for (int i = 0; i < options_.workers; ++i) {
    threads_.emplace_back(RunWorker, env_, i, seed(200 + static_cast<uint64_t>(i)));
  }
  threads_.emplace_back(RunAdmin, env_, seed(1));
  threads_.emplace_back(RunDependencyUser, env_, seed(2));
  threads_.emplace_back(RunLockUser, env_, seed(3));
}

void Workload::Stop() {
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace crashtest
