// The dependency user and the lock user (see workload.h).
#include <fmt/format.h>

#include "workload.h"

namespace crashtest {

using coordinate::B;
using coordinated::Value;

void RunDependencyUser(const ActorEnv& env, uint64_t seed) {
  Session s(env, "deps", seed);
  auto& rng = s.rng();
  uint64_t n = 0;
  auto depend = [&](const UnitId& later, const UnitId& earlier, bool earlier_data) {
    Op op;
    op.type = OpType::kDepend;
    op.units = {later, earlier};
    op.creates = {later, earlier};
    op.hard = rng() % 2 == 0;
    env.pool->Add(later.spec, later.key);
    env.pool->Add(earlier.spec, earlier.key);
    const bool hard = op.hard;
    coordinate::UnitRef l(B(later.spec), B(later.key), Value::Map());
    coordinate::UnitRef e(B(earlier.spec), B(earlier.key));
    if (earlier_data) e.data = Value::Map();
    return s.Run(std::move(op),
                 [&](coordinate::Api& a) { return a.AddDependentWorkUnits(l, e, hard); });
  };
  while (!s.stopping()) {
    s.SleepMs(3, 20);
    if (!s.Ready()) continue;
    const std::string base = fmt::format("r{}-d{}", env.round, n++);
    const UnitId a{kDepPrereqSpec, base + "a"};
    const UnitId b{kDepLaterSpec, base + "b"};
    if (depend(b, a, true) != Outcome::kOk || rng() % 10 >= 4) continue;
    // A chain of three: c waits for b (which keeps its data), b waits for a.
    depend(UnitId{kDepLaterSpec, base + "c"}, b, false);
  }
}

void RunLockUser(const ActorEnv& env, uint64_t seed) {
  Session s(env, "locks", seed);
  auto& rng = s.rng();
  const char* const owners[] = {"locker-a", "locker-b"};
  const int timeout = env.options->lock_timeout;
  while (!s.stopping()) {
    s.SleepMs(3, 20);
    if (!s.Ready()) continue;
    const std::string owner = owners[rng() % 2];
    const std::string label = fmt::format("p{}", rng() % kLockPaths);
    const std::vector<Value> paths = {LockPath(label)};
    const uint64_t r = rng() % 10;
    Op op;
    op.who = owner;
    op.path = label;
    if (r < 5) {
      op.type = OpType::kLock;
      op.seconds = timeout;
      s.Run(std::move(op), [&](coordinate::Api& a) { return a.Lock(B(owner), timeout, paths); });
    } else if (r < 8) {
      op.type = OpType::kUnlock;
      s.Run(std::move(op), [&](coordinate::Api& a) { return a.Unlock(B(owner), paths); });
    } else {
      op.type = OpType::kReadLock;
      op.who.clear();
      s.Run(std::move(op), [&](coordinate::Api& a) { return a.ReadLock(paths).status(); });
    }
  }
}

}  // namespace crashtest
