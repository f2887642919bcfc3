#include "common/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>

namespace coordinated::crash {

namespace {

// Writes all of `s` to stderr without buffering or allocation (the process dies right after).
void WriteStderr(std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

struct Armed {
  Rule rule;
  std::atomic<uint64_t> passes{0};
};

struct State {
  std::vector<std::unique_ptr<Armed>> points;
  std::mutex rng_mu;
  std::mt19937_64 rng;  // guarded by rng_mu
};

State* LoadState() {
  auto* state = new State();  // lives until the process ends
  const char* env = std::getenv("COORDINATED_CRASH_POINTS");
  if (env == nullptr || *env == '\0') return state;
  auto rules = ParseRules(env);
  if (!rules.ok()) {
    WriteStderr("COORDINATED_CRASH_POINTS: " + rules.status().ToString() + "\n");
    std::_Exit(2);
  }
  for (auto& r : *rules) {
    auto a = std::make_unique<Armed>();
    a->rule = std::move(r);
    state->points.push_back(std::move(a));
  }
  const char* seed = std::getenv("COORDINATED_CRASH_SEED");
  if (seed != nullptr && *seed != '\0') {
    state->rng.seed(std::strtoull(seed, nullptr, 10));
  } else {
    state->rng.seed(std::random_device{}());
  }
  return state;
}

}  // namespace

StatusOr<std::vector<Rule>> ParseRules(std::string_view spec) {
  std::vector<Rule> out;
  while (!spec.empty()) {
    const size_t comma = spec.find(',');
    std::string_view entry = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (entry.empty()) continue;
    const size_t colon = entry.rfind(':');
    const std::string bad =
        "malformed crash point '" + std::string(entry) + "' (expected NAME:PROBABILITY or NAME:@N)";
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == entry.size()) {
      return Status::InvalidArgument(bad);
    }
    Rule r;
    r.name = std::string(entry.substr(0, colon));
    const std::string arg(entry.substr(colon + 1));
    char* end = nullptr;
    if (arg[0] == '@') {
      if (arg.size() < 2 || arg[1] == '-') return Status::InvalidArgument(bad);
      errno = 0;
      r.nth = std::strtoull(arg.c_str() + 1, &end, 10);
      if (errno != 0 || *end != '\0' || r.nth == 0) return Status::InvalidArgument(bad);
    } else {
      errno = 0;
      r.probability = std::strtod(arg.c_str(), &end);
      if (errno != 0 || *end != '\0' || !(r.probability > 0 && r.probability <= 1)) {
        return Status::InvalidArgument(bad);
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

void Pass(const char* name) {
  static State* const state = LoadState();
  if (state->points.empty()) return;
  for (auto& p : state->points) {
    if (p->rule.name != name) continue;
    const uint64_t pass = p->passes.fetch_add(1, std::memory_order_relaxed) + 1;
    bool fire = false;
    if (p->rule.nth > 0) {
      fire = pass == p->rule.nth;
    } else {
      std::lock_guard<std::mutex> lock(state->rng_mu);
      fire = std::uniform_real_distribution<double>(0, 1)(state->rng) < p->rule.probability;
    }
    if (!fire) return;
    WriteStderr(std::string("crash point fired: ") + name + "\n");
    ::raise(SIGKILL);
    std::_Exit(137);  // not reached
  }
}

}  // namespace coordinated::crash
