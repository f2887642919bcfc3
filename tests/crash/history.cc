#include "history.h"

#include <fmt/format.h>

#include <chrono>
#include <fstream>

namespace crashtest {

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const char* OpName(OpType t) {
  switch (t) {
    case OpType::kCreate:
      return "create";
    case OpType::kGetWork:
      return "get_work";
    case OpType::kFinish:
      return "finish";
    case OpType::kFail:
      return "fail";
    case OpType::kRenew:
      return "renew";
    case OpType::kDelete:
      return "delete";
    case OpType::kPrioritize:
      return "prioritize";
    case OpType::kPause:
      return "pause";
    case OpType::kResume:
      return "resume";
    case OpType::kDepend:
      return "depend";
    case OpType::kLock:
      return "lock";
    case OpType::kUnlock:
      return "unlock";
    case OpType::kReadLock:
      return "readlock";
    case OpType::kCount:
      break;
  }
  return "?";
}

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPending:
      return "pending";
    case Outcome::kOk:
      return "ok";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

std::string ToString(const UnitId& u) { return u.spec + "/" + u.key; }

std::string Op::Describe() const {
  std::string s = fmt::format("#{} r{} {} {} {} [{:.6f}, {:.6f}]", index, round, actor,
                              OpName(type), OutcomeName(outcome), invoke, complete);
  if (!who.empty()) s += " who=" + who;
  if (!spec.empty()) s += " spec=" + spec;
  if (!path.empty()) s += " path=" + path;
  if (seconds > 0) s += fmt::format(" seconds={}", seconds);
  if (type == OpType::kDepend) s += hard ? " hard" : " soft";
  if (!units.empty()) {
    s += " units=";
    for (size_t i = 0; i < units.size(); ++i) s += (i ? "," : "") + ToString(units[i]);
  }
  if (!creates.empty()) {
    s += " creates=";
    for (size_t i = 0; i < creates.size(); ++i) s += (i ? "," : "") + ToString(creates[i]);
  }
  if (!error.empty()) s += " error=\"" + error + "\"";
  return s;
}

size_t History::Invoke(Op op) {
  std::lock_guard<std::mutex> lock(mu_);
  op.index = ops_.size();
  op.invoke = WallNow();
  op.outcome = Outcome::kPending;
  ops_.push_back(std::move(op));
  return ops_.size() - 1;
}

void History::Complete(size_t i, Outcome outcome, std::string error, std::vector<UnitId> granted) {
  const double now = WallNow();
  std::lock_guard<std::mutex> lock(mu_);
  Op& op = ops_[i];
  op.complete = now;
  op.outcome = outcome;
  op.error = std::move(error);
  if (!granted.empty()) op.units = std::move(granted);
}

void History::SettlePending(double t) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& op : ops_) {
    if (op.outcome != Outcome::kPending) continue;
    op.outcome = Outcome::kUnknown;
    op.complete = t;
  }
}

bool History::WriteTo(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ofstream out(path);
  for (const auto& op : ops_) out << op.Describe() << "\n";
  return static_cast<bool>(out);
}

}  // namespace crashtest
