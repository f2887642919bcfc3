// The crash checker on hand-made histories: each violation class is detected, and the
// uncertain-outcome rules accept what a crash may legitimately leave behind.
#include "checker.h"

#include <gtest/gtest.h>

#include "workload.h"

namespace crashtest {
namespace {

constexpr Outcome kOk = Outcome::kOk;
constexpr Outcome kFailed = Outcome::kFailed;
constexpr Outcome kUnknown = Outcome::kUnknown;

const UnitId kU{kMainSpec, "u"};
const UnitId kA{kDepPrereqSpec, "a"};
const UnitId kB{kDepLaterSpec, "b"};
const UnitId kC{kDepLaterSpec, "c"};

class CheckerTest : public testing::Test {
 protected:
  // Appends an op that ran from `invoke` to `complete`.
  Op& Add(OpType type, Outcome outcome, double invoke, double complete,
          std::vector<UnitId> units = {}) {
    Op op;
    op.index = ops_.size();
    op.type = type;
    op.outcome = outcome;
    op.invoke = invoke;
    op.complete = complete;
    op.units = std::move(units);
    if (type == OpType::kCreate || type == OpType::kDepend) op.creates = op.units;
    ops_.push_back(std::move(op));
    return ops_.back();
  }
  Op& Grant(const UnitId& u, const std::string& worker, double invoke, double complete,
            double lease = 1) {
    Op& op = Add(OpType::kGetWork, kOk, invoke, complete, {u});
    op.who = worker;
    op.seconds = lease;
    return op;
  }
  Op& Lock(const std::string& owner, const std::string& path, Outcome o, double invoke,
           double complete, double timeout = 2) {
    Op& op = Add(OpType::kLock, o, invoke, complete);
    op.who = owner;
    op.path = path;
    op.seconds = timeout;
    return op;
  }
  void Present(const UnitId& u, int status) { snap_.units[u].status = status; }
  // Violations of class `cls`.
  uint64_t Count(const std::string& cls) {
    CheckResult r = CheckHistory(ops_, snap_, CheckOptions());
    return r.counts[cls];
  }

  std::deque<Op> ops_;
  StoreSnapshot snap_;
};

TEST_F(CheckerTest, AcknowledgedCreateMustSurvive) {
  Add(OpType::kCreate, kOk, 1, 1.1, {kU});
  EXPECT_EQ(Count("lost_create"), 1u);
  Present(kU, 1);
  EXPECT_EQ(Count("lost_create"), 0u);
}

TEST_F(CheckerTest, UnknownCreateMayOrMayNotExist) {
  Add(OpType::kCreate, kUnknown, 1, 1.1, {kU});
  EXPECT_EQ(Count("lost_create"), 0u);
  Present(kU, 1);
  EXPECT_EQ(Count("lost_create"), 0u);
  EXPECT_EQ(Count("phantom"), 0u);
}

TEST_F(CheckerTest, DeleteThatMayFollowExcusesAnAbsentUnit) {
  Add(OpType::kCreate, kOk, 1, 1.1, {kU});
  Add(OpType::kDelete, kUnknown, 2, 2.1, {kU});
  EXPECT_EQ(Count("lost_create"), 0u);
}

TEST_F(CheckerTest, FailedDeleteDoesNotExcuseAnAbsentUnit) {
  Add(OpType::kCreate, kOk, 1, 1.1, {kU});
  Add(OpType::kDelete, kFailed, 2, 2.1, {kU});
  EXPECT_EQ(Count("lost_create"), 1u);
}

TEST_F(CheckerTest, UnitNobodyCreatedIsAPhantom) {
  Present(kU, 1);
  EXPECT_EQ(Count("phantom"), 1u);
  Add(OpType::kCreate, kFailed, 1, 1.1, {kU});  // invoked, even if refused
  EXPECT_EQ(Count("phantom"), 0u);
}

TEST_F(CheckerTest, AcknowledgedFinishMustStayFinished) {
  Add(OpType::kCreate, kOk, 1, 1.1, {kU});
  Add(OpType::kFinish, kOk, 2, 2.1, {kU});
  Present(kU, 1);
  EXPECT_EQ(Count("lost_finish"), 1u);
  Present(kU, 4);
  EXPECT_EQ(Count("lost_finish"), 0u);
}

TEST_F(CheckerTest, FinishBeatsFail) {
  Add(OpType::kCreate, kOk, 1, 1.1, {kU});
  Add(OpType::kFail, kOk, 2, 2.1, {kU});
  Present(kU, 4);
  EXPECT_EQ(Count("lost_fail"), 1u);  // FINISHED, but no finish was ever sent
  Add(OpType::kFinish, kUnknown, 1.5, 3, {kU});
  EXPECT_EQ(Count("lost_fail"), 0u);
  Present(kU, 1);
  EXPECT_EQ(Count("lost_fail"), 1u);
}

TEST_F(CheckerTest, AcknowledgedDeleteMustStayDeleted) {
  Add(OpType::kCreate, kOk, 1, 1.1, {kU});
  Add(OpType::kDelete, kOk, 2, 2.1, {kU});
  Present(kU, 1);
  EXPECT_EQ(Count("lost_delete"), 1u);
  // A creation that may follow the delete (here a chained output) may bring it back.
  Op& chain = Add(OpType::kFinish, kUnknown, 3, 3.1, {UnitId{kChainSpec, "x"}});
  chain.creates = {kU};
  EXPECT_EQ(Count("lost_delete"), 0u);
}

TEST_F(CheckerTest, TwoLiveLeasesAreDetected) {
  Add(OpType::kCreate, kOk, 0, 0.1, {kU});
  Grant(kU, "w1", 1.0, 1.01);
  Grant(kU, "w2", 1.5, 1.51);
  EXPECT_EQ(Count("double_lease"), 1u);
}

TEST_F(CheckerTest, LeaseMayBeRegrantedAfterItsDeadlineOrRelease) {
  Add(OpType::kCreate, kOk, 0, 0.1, {kU});
  Grant(kU, "w1", 1.0, 1.01);
  Grant(kU, "w2", 2.0, 2.01);  // after w1's lease of 1 s
  EXPECT_EQ(Count("double_lease"), 0u);
  Grant(kU, "w3", 2.2, 2.21);  // inside w2's lease...
  EXPECT_EQ(Count("double_lease"), 1u);
  Add(OpType::kFail, kUnknown, 2.1, 2.15, {kU});  // ...unless w2's unit may have been failed
  EXPECT_EQ(Count("double_lease"), 0u);
}

TEST_F(CheckerTest, AcknowledgedRenewalExtendsTheLease) {
  Add(OpType::kCreate, kOk, 0, 0.1, {kU});
  Grant(kU, "w1", 1.0, 1.01);
  Grant(kU, "w2", 2.5, 2.51);
  EXPECT_EQ(Count("double_lease"), 0u);
  Op& renew = Add(OpType::kRenew, kOk, 1.8, 1.81, {kU});
  renew.who = "w1";
  renew.seconds = 1;
  EXPECT_EQ(Count("double_lease"), 1u);  // w1 holds it until at least 2.8
}

TEST_F(CheckerTest, BlockedUnitHandedOutIsDetected) {
  Add(OpType::kDepend, kOk, 1, 1.1, {kB, kA});
  Grant(kB, "w1", 2, 2.1);
  EXPECT_EQ(Count("blocked_granted"), 1u);
  Add(OpType::kFinish, kUnknown, 1.5, 1.6, {kA});
  EXPECT_EQ(Count("blocked_granted"), 0u);
}

TEST_F(CheckerTest, HardFailureCascadeReleasesTheNextLevel) {
  Op& ba = Add(OpType::kDepend, kOk, 1, 1.1, {kB, kA});
  ba.hard = true;
  Add(OpType::kDepend, kOk, 1.2, 1.3, {kC, kB});
  Grant(kC, "w1", 3, 3.1);
  EXPECT_EQ(Count("blocked_granted"), 1u);
  Add(OpType::kFail, kOk, 2, 2.1, {kA});  // a fails -> b fails (hard) -> c released
  EXPECT_EQ(Count("blocked_granted"), 0u);
}

TEST_F(CheckerTest, BlockedAfterItsPrerequisiteFinished) {
  Add(OpType::kDepend, kOk, 1, 1.1, {kB, kA});
  Present(kA, 1);
  Present(kB, 2);
  EXPECT_EQ(Count("blocked_after_release"), 0u);
  Present(kA, 4);
  EXPECT_EQ(Count("blocked_after_release"), 1u);
}

TEST_F(CheckerTest, ReleasedBeforeThePrerequisiteFinished) {
  Add(OpType::kDepend, kOk, 1, 1.1, {kB, kA});
  Present(kA, 3);
  Present(kB, 1);
  EXPECT_EQ(Count("released_early"), 1u);
  Add(OpType::kDelete, kUnknown, 2, 2.1, {kA});
  EXPECT_EQ(Count("released_early"), 0u);
}

TEST_F(CheckerTest, GrantWhilePausedIsDetected) {
  const UnitId p{kPausedSpec, "p"};
  Add(OpType::kCreate, kOk, 0, 0.1, {p});
  Op& pause = Add(OpType::kPause, kOk, 1, 1.1);
  pause.spec = kPausedSpec;
  Grant(p, "w1", 2, 2.1);
  EXPECT_EQ(Count("paused_granted"), 1u);
  Op& resume = Add(OpType::kResume, kUnknown, 1.5, 1.6);
  resume.spec = kPausedSpec;
  EXPECT_EQ(Count("paused_granted"), 0u);
}

TEST_F(CheckerTest, LocksSurviveAndExclude) {
  const double now = WallNow();
  Lock("a", "p0", kOk, now - 0.5, now - 0.49, 5);
  snap_.locks_read_invoke = snap_.locks_read_complete = now;
  snap_.lock_owner["p0"] = std::nullopt;
  EXPECT_EQ(Count("lost_lock"), 1u);
  snap_.lock_owner["p0"] = "a";
  EXPECT_EQ(Count("lost_lock"), 0u);
  Lock("b", "p0", kOk, now - 0.2, now - 0.19, 5);
  EXPECT_EQ(Count("double_lock"), 1u);
  Op& unlock = Add(OpType::kUnlock, kOk, now - 0.3, now - 0.29);
  unlock.who = "a";
  unlock.path = "p0";
  EXPECT_EQ(Count("double_lock"), 0u);
  EXPECT_EQ(Count("lost_unlock"), 1u);  // "a" still holds p0 after its acknowledged unlock
  snap_.lock_owner["p0"] = "b";
  EXPECT_EQ(Count("lost_unlock"), 0u);
}

TEST_F(CheckerTest, ExpiredLockNeedNotSurvive) {
  const double now = WallNow();
  Lock("a", "p0", kOk, now - 3, now - 2.99, 2);
  snap_.locks_read_invoke = snap_.locks_read_complete = now;
  EXPECT_EQ(Count("lost_lock"), 0u);
}

TEST_F(CheckerTest, DaemonCheckProblemsAreViolations) {
  snap_.check_problems = {"unit x: by_status entry missing"};
  EXPECT_EQ(Count("invariant"), 1u);
}

}  // namespace
}  // namespace crashtest
