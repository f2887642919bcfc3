// The lock service through the real daemon (CONTRACT.md §3, reference-behavior.md §1.9): the Go
// daemon's hierarchical lock tree, same parameters and replies (plain arrays, not tuples), but
// durable: held locks and their deadlines survive kill -9. A path is a list of labels compared
// by exact CBOR value; a held path blocks its ancestors and descendants for everybody.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

using coordinated::Code;

// A path of byte-string labels, as a Python 2 client sends it.
Value P(std::vector<std::string> labels) {
  Value p = A();
  for (const auto& l : labels) p.Append(B(l));
  return p;
}

Value Ok() { return A({Bool(true), Null()}); }
Value Refused(std::string_view msg) { return A({Bool(false), B(msg)}); }

class LockTest : public DaemonTest {
 protected:
  Value Lock(std::string_view locker, Value timeout, std::vector<Value> paths) {
    return Call(c(), "lock", A({B(locker), std::move(timeout), A(std::move(paths))}));
  }
  Value LockSome(std::string_view locker, Value timeout, std::vector<Value> paths) {
    return Call(c(), "locksome", A({B(locker), std::move(timeout), A(std::move(paths))}));
  }
  Value Renew(std::string_view locker, Value timeout, std::vector<Value> paths) {
    return Call(c(), "renew", A({B(locker), std::move(timeout), A(std::move(paths))}));
  }
  Value Unlock(std::string_view locker, std::vector<Value> paths) {
    return Call(c(), "unlock", A({B(locker), A(std::move(paths))}));
  }
  Value ReadLock(std::vector<Value> paths) {
    return Call(c(), "readlock", A({A(std::move(paths))}));
  }
};

TEST_F(LockTest, LockTwoPathsReadOwnersUnlock) {
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"foo"}), P({"bar", "baz"})}), Ok()));
  EXPECT_TRUE(Same(ReadLock({P({"foo"}), P({"bar", "baz"}), P({"bar"}), P({"qux"})}),
                   A({B("me"), B("me"), Null(), Null()})));
  EXPECT_TRUE(Same(Unlock("me", {P({"foo"}), P({"bar", "baz"})}), Ok()));
  EXPECT_TRUE(Same(ReadLock({P({"foo"}), P({"bar", "baz"})}), A({Null(), Null()})));
  // Free again for anybody.
  EXPECT_TRUE(Same(Lock("other", I(10), {P({"foo"}), P({"bar"})}), Ok()));
  EXPECT_TRUE(Same(ReadLock({P({"foo"}), P({"bar"})}), A({B("other"), B("other")})));
}

TEST_F(LockTest, AncestorBlocksDescendantAndViceVersa) {
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"foo"})}), Ok()));
  EXPECT_TRUE(
      Same(Lock("other", I(10), {P({"foo", "bar"})}), Refused("[foo bar] is not lockable")));
  EXPECT_TRUE(Same(Lock("other", I(10), {P({"foo", "bar", "baz"})}),
                   Refused("[foo bar baz] is not lockable")));
  // Not re-entrant: the holder cannot take a descendant or the node again either.
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"foo", "bar"})}), Refused("[foo bar] is not lockable")));
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"foo"})}), Refused("[foo] is not lockable")));
  // A sibling tree and a label that merely starts the same way are unaffected.
  EXPECT_TRUE(Same(Lock("other", I(10), {P({"food"}), P({"bar", "foo"})}), Ok()));
  EXPECT_TRUE(Same(Unlock("me", {P({"foo"})}), Ok()));

  EXPECT_TRUE(Same(Lock("other", I(10), {P({"foo", "bar"})}), Ok()));
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"foo"})}), Refused("[foo] is not lockable")));
  EXPECT_TRUE(
      Same(Lock("me", I(10), {P({"foo", "bar", "x"})}), Refused("[foo bar x] is not lockable")));
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"foo", "baz"})}), Ok()));
  EXPECT_TRUE(Same(ReadLock({P({"foo"}), P({"foo", "bar"}), P({"foo", "baz"})}),
                   A({Null(), B("other"), B("me")})));
}

TEST_F(LockTest, LockSomeLocksWhatItCan) {
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"foo"})}), Ok()));
  EXPECT_TRUE(Same(LockSome("other", I(10), {P({"foo"}), P({"bar"}), P({"baz"})}),
                   A({A({Null(), P({"bar"}), P({"baz"})}), Null()})));
  EXPECT_TRUE(
      Same(ReadLock({P({"foo"}), P({"bar"}), P({"baz"})}), A({B("me"), B("other"), B("other")})));
  // Paths of one request that conflict with each other: the first one wins.
  EXPECT_TRUE(Same(LockSome("third", I(10), {P({"x"}), P({"x", "y"}), P({"x"})}),
                   A({A({P({"x"}), Null(), Null()}), Null()})));
  EXPECT_TRUE(Same(ReadLock({P({"x"}), P({"x", "y"})}), A({B("third"), Null()})));
  // Nothing lockable: all null.
  EXPECT_TRUE(Same(LockSome("fourth", I(10), {P({"foo", "z"}), P({"bar"})}),
                   A({A({Null(), Null()}), Null()})));
}

TEST_F(LockTest, LockSomeEmptyInput) {
  EXPECT_TRUE(Same(LockSome("me", I(10), {}), A({Null(), Null()})));
}

TEST_F(LockTest, DifferentLockerCannotUnlockOrRenew) {
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"foo"})}), Ok()));
  EXPECT_TRUE(Same(Unlock("other", {P({"foo"})}), Refused("[foo] is held by me")));
  EXPECT_TRUE(Same(Renew("other", I(10), {P({"foo"})}), Refused("[foo] is held by me")));
  EXPECT_TRUE(Same(ReadLock({P({"foo"})}), A({B("me")})));
  // The rightful renew and unlock work.
  EXPECT_TRUE(Same(Renew("me", I(10), {P({"foo"})}), Ok()));
  EXPECT_TRUE(Same(Unlock("me", {P({"foo"})}), Ok()));
}

TEST_F(LockTest, UnlockAndRenewOfUnheldPathsFail) {
  EXPECT_TRUE(Same(Unlock("me", {P({"nothing"})}), Refused("[nothing] is not held")));
  EXPECT_TRUE(Same(Renew("me", I(10), {P({"nothing"})}), Refused("[nothing] is held by None")));
  // All-or-nothing: one unheld path keeps the held one locked.
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"foo"})}), Ok()));
  EXPECT_TRUE(Same(Unlock("me", {P({"foo"}), P({"nothing"})}), Refused("[nothing] is not held")));
  EXPECT_TRUE(Same(ReadLock({P({"foo"})}), A({B("me")})));
  // A descendant of a held path is not itself held.
  EXPECT_TRUE(Same(Unlock("me", {P({"foo", "bar"})}), Refused("[foo bar] is not held")));
  EXPECT_TRUE(Same(Unlock("me", {P({"foo"})}), Ok()));
  EXPECT_TRUE(Same(Unlock("me", {P({"foo"})}), Refused("[foo] is not held")));
}

TEST_F(LockTest, RenewIsAllOrNothing) {
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"a"})}), Ok()));
  EXPECT_TRUE(Same(Lock("other", I(100), {P({"b"})}), Ok()));
  AdvanceClock(c(), 8);
  EXPECT_TRUE(Same(Renew("me", I(100), {P({"a"}), P({"b"})}), Refused("[b] is held by other")));
  AdvanceClock(c(), 3);  // a's original deadline (10 s) passed: the failed renew did not extend
  EXPECT_TRUE(Same(ReadLock({P({"a"}), P({"b"})}), A({Null(), B("other")})));
}

TEST_F(LockTest, EmptyPathListsSucceedTrivially) {
  EXPECT_TRUE(Same(Lock("me", I(10), {}), Ok()));
  EXPECT_TRUE(Same(Renew("me", I(10), {}), Ok()));
  EXPECT_TRUE(Same(Unlock("me", {}), Ok()));
}

TEST_F(LockTest, ReadLockOfNothingIsAnEmptyList) { EXPECT_TRUE(Same(ReadLock({}), A())); }

TEST_F(LockTest, AllOrNothing) {
  EXPECT_TRUE(Same(Lock("other", I(10), {P({"b"})}), Ok()));
  EXPECT_TRUE(
      Same(Lock("me", I(10), {P({"a"}), P({"b"}), P({"c"})}), Refused("[b] is not lockable")));
  EXPECT_TRUE(Same(ReadLock({P({"a"}), P({"b"}), P({"c"})}), A({Null(), B("other"), Null()})));
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"a"}), P({"c"})}), Ok()));
}

TEST_F(LockTest, PathsOfOneRequestThatConflictAreRefused) {
  Value r = Lock("me", I(10), {P({"foo"}), P({"foo", "bar"})});
  EXPECT_TRUE(Same(r, Refused("[foo bar] is not lockable")));
  r = Lock("me", I(10), {P({"foo", "bar"}), P({"foo"})});
  EXPECT_TRUE(Same(r, Refused("[foo] is not lockable")));
  r = Lock("me", I(10), {P({"x"}), P({"x"})});
  EXPECT_TRUE(Same(r, Refused("[x] is not lockable")));
  EXPECT_TRUE(
      Same(ReadLock({P({"foo"}), P({"foo", "bar"}), P({"x"})}), A({Null(), Null(), Null()})));
}

TEST_F(LockTest, DefaultTimeoutExpiresAfterSixtySeconds) {
  EXPECT_TRUE(Same(Lock("me", I(0), {P({"foo"})}), Ok()));
  AdvanceClock(c(), 59);
  EXPECT_TRUE(Same(ReadLock({P({"foo"})}), A({B("me")})));
  EXPECT_TRUE(
      Same(Lock("other", I(10), {P({"foo", "bar"})}), Refused("[foo bar] is not lockable")));
  AdvanceClock(c(), 2);  // 61 s
  EXPECT_TRUE(Same(ReadLock({P({"foo"})}), A({Null()})));
  EXPECT_TRUE(Same(Renew("me", I(10), {P({"foo"})}), Refused("[foo] is held by None")));
  EXPECT_TRUE(Same(Unlock("me", {P({"foo"})}), Refused("[foo] is not held")));
  // An expired ancestor does not block a descendant.
  EXPECT_TRUE(Same(Lock("other", I(10), {P({"foo", "bar"})}), Ok()));
  EXPECT_TRUE(Same(ReadLock({P({"foo"}), P({"foo", "bar"})}), A({Null(), B("other")})));
}

TEST_F(LockTest, ExplicitTimeoutExpires) {
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"foo"})}), Ok()));
  AdvanceClock(c(), 9);
  EXPECT_TRUE(Same(ReadLock({P({"foo"})}), A({B("me")})));
  AdvanceClock(c(), 2);
  EXPECT_TRUE(Same(ReadLock({P({"foo"})}), A({Null()})));
  EXPECT_TRUE(Same(Lock("other", I(10), {P({"foo"})}), Ok()));
}

TEST_F(LockTest, FractionalTimeoutIsWholeSeconds) {
  // Whole seconds: 10.9 is 10 s (not 11).
  EXPECT_TRUE(Same(Lock("me", D(10.9), {P({"a"})}), Ok()));
  AdvanceClock(c(), 9.5);
  EXPECT_TRUE(Same(ReadLock({P({"a"})}), A({B("me")})));
  AdvanceClock(c(), 1);
  EXPECT_TRUE(Same(ReadLock({P({"a"})}), A({Null()})));
}

TEST_F(LockTest, SubSecondTimeoutIsNotAnInstantlyExpiredLock) {
  EXPECT_TRUE(Same(Lock("me", D(0.5), {P({"a"})}), Ok()));
  EXPECT_TRUE(Same(ReadLock({P({"a"})}), A({B("me")})));
  EXPECT_TRUE(Same(Lock("other", I(10), {P({"a"})}), Refused("[a] is not lockable")));
  AdvanceClock(c(), 59);
  EXPECT_TRUE(Same(ReadLock({P({"a"})}), A({B("me")})));
  AdvanceClock(c(), 2);
  EXPECT_TRUE(Same(ReadLock({P({"a"})}), A({Null()})));
}

TEST_F(LockTest, TimeoutIsCappedAtOneMillionSeconds) {
  EXPECT_TRUE(Same(Lock("me", I(5'000'000), {P({"a"})}), Ok()));
  AdvanceClock(c(), 999'990);
  EXPECT_TRUE(Same(ReadLock({P({"a"})}), A({B("me")})));
  AdvanceClock(c(), 20);
  EXPECT_TRUE(Same(ReadLock({P({"a"})}), A({Null()})));
}

TEST_F(LockTest, RenewExtendsPastTheOriginalDeadline) {
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"foo"}), P({"bar"})}), Ok()));
  AdvanceClock(c(), 8);
  EXPECT_TRUE(Same(Renew("me", I(10), {P({"foo"}), P({"bar"})}), Ok()));
  AdvanceClock(c(), 5);  // 13 s: past the original deadline, before the renewed one (18 s)
  EXPECT_TRUE(Same(ReadLock({P({"foo"}), P({"bar"})}), A({B("me"), B("me")})));
  EXPECT_TRUE(Same(Lock("other", I(10), {P({"foo"})}), Refused("[foo] is not lockable")));
  AdvanceClock(c(), 6);  // 19 s
  EXPECT_TRUE(Same(ReadLock({P({"foo"}), P({"bar"})}), A({Null(), Null()})));
}

TEST_F(LockTest, RenewWithDefaultTimeout) {
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"foo"})}), Ok()));
  EXPECT_TRUE(Same(Renew("me", I(0), {P({"foo"})}), Ok()));  // 0 -> 60 s from now
  AdvanceClock(c(), 59);
  EXPECT_TRUE(Same(ReadLock({P({"foo"})}), A({B("me")})));
  AdvanceClock(c(), 2);
  EXPECT_TRUE(Same(ReadLock({P({"foo"})}), A({Null()})));
}

TEST_F(LockTest, DeleteNamespace) {
  EXPECT_TRUE(Same(Lock("me", I(100),
                        {P({"ns", "a"}), P({"ns", "b", "c"}), P({"other", "a"}), P({"nsx", "a"}),
                         P({"other", "ns"})}),
                   Ok()));
  EXPECT_TRUE(Same(Call(c(), "delete_namespace", A({B("ns")})), I(0)));
  EXPECT_TRUE(Same(ReadLock({P({"ns", "a"}), P({"ns", "b", "c"}), P({"other", "a"}),
                             P({"nsx", "a"}), P({"other", "ns"})}),
                   A({Null(), Null(), B("me"), B("me"), B("me")})));
  EXPECT_TRUE(Same(Lock("other", I(10), {P({"ns"})}), Ok()));
  // The namespace node itself is dropped too.
  EXPECT_TRUE(Same(Call(c(), "delete_namespace", A({B("ns")})), I(0)));
  EXPECT_TRUE(Same(ReadLock({P({"ns"})}), A({Null()})));
  // An unknown namespace is fine.
  EXPECT_TRUE(Same(Call(c(), "delete_namespace", A({B("never")})), I(0)));
}

TEST_F(LockTest, BytesAndTextLabelsAreDifferent) {
  EXPECT_TRUE(Same(Lock("me", I(10), {A({B("a")})}), Ok()));
  EXPECT_TRUE(Same(Lock("other", I(10), {A({T("a")})}), Ok()));
  EXPECT_TRUE(Same(Lock("third", I(10), {A({T("a"), B("x")})}), Refused("[a x] is not lockable")));
  EXPECT_TRUE(Same(Lock("third", I(10), {A({B("b"), T("x")})}), Ok()));
  EXPECT_TRUE(Same(Lock("fourth", I(10), {A({B("b"), B("x")})}), Ok()));
  EXPECT_TRUE(Same(
      ReadLock({A({B("a")}), A({T("a")}), A({B("b"), T("x")}), A({B("b"), B("x")}), A({B("b")})}),
      A({B("me"), B("other"), B("third"), B("fourth"), Null()})));
  // Other label kinds are exact too: 1 is neither "1" nor 1.0.
  EXPECT_TRUE(Same(Lock("me", I(10), {A({I(1)}), A({T("1")}), A({D(1.0)})}), Ok()));
  // delete_namespace matches the prefix's type.
  EXPECT_TRUE(Same(Call(c(), "delete_namespace", A({T("a")})), I(0)));
  EXPECT_TRUE(Same(ReadLock({A({B("a")}), A({T("a")})}), A({B("me"), Null()})));
}

TEST_F(LockTest, TupleAndListPathsAreTheSamePath) {
  EXPECT_TRUE(Same(Call(c(), "lock", A({B("me"), I(10), A({Tup({B("t"), B("u")})})})), Ok()));
  EXPECT_TRUE(Same(ReadLock({P({"t", "u"})}), A({B("me")})));
  EXPECT_TRUE(Same(Lock("other", I(10), {P({"t"})}), Refused("[t] is not lockable")));
  // The paths list may itself be a tuple.
  EXPECT_TRUE(Same(Call(c(), "unlock", A({B("me"), Tup({P({"t", "u"})})})), Ok()));
  EXPECT_TRUE(Same(Call(c(), "readlock", A({Tup({Tup({B("t"), B("u")})})})), A({Null()})));
}

TEST_F(LockTest, RestartKeepsHeldLocksAndDeadlines) {
  // No clock advance before the restart: the restarted daemon's clock is real time again.
  EXPECT_TRUE(Same(Lock("me", I(100), {P({"foo"}), P({"deep", "er"})}), Ok()));
  EXPECT_TRUE(Same(Lock("other", I(0), {P({"bar"})}), Ok()));
  Restart();
  EXPECT_TRUE(Same(ReadLock({P({"foo"}), P({"deep", "er"}), P({"bar"})}),
                   A({B("me"), B("me"), B("other")})));
  EXPECT_TRUE(Same(Lock("x", I(10), {P({"foo"})}), Refused("[foo] is not lockable")));
  EXPECT_TRUE(Same(Lock("x", I(10), {P({"deep"})}), Refused("[deep] is not lockable")));
  EXPECT_TRUE(Same(Unlock("x", {P({"bar"})}), Refused("[bar] is held by other")));
  AdvanceClock(c(), 61);  // bar (60 s) lapsed, foo (100 s) not
  EXPECT_TRUE(Same(ReadLock({P({"foo"}), P({"bar"})}), A({B("me"), Null()})));
  EXPECT_TRUE(Same(Renew("me", I(1000), {P({"deep", "er"})}), Ok()));
  Restart();
  // The renewed deadline is durable too (now ~ t0 again after the restart: 61 + 1000 s ahead).
  AdvanceClock(c(), 200);
  EXPECT_TRUE(Same(ReadLock({P({"foo"}), P({"deep", "er"})}), A({Null(), B("me")})));
  EXPECT_TRUE(Same(Unlock("me", {P({"deep", "er"})}), Ok()));
  Restart();
  EXPECT_TRUE(Same(ReadLock({P({"deep", "er"})}), A({Null()})));
}

TEST_F(LockTest, MalformedPathsAreInvalidArgument) {
  struct Case {
    const char* method;
    Value params;
  };
  const Value not_a_list = B("foo");
  const Value empty_path = A({A()});
  const Value path_not_a_list = A({B("foo")});
  std::vector<Case> cases;
  for (const Value& bad : {not_a_list, empty_path, path_not_a_list}) {
    cases.push_back({"lock", A({B("me"), I(10), bad})});
    cases.push_back({"locksome", A({B("me"), I(10), bad})});
    cases.push_back({"renew", A({B("me"), I(10), bad})});
    cases.push_back({"unlock", A({B("me"), bad})});
    cases.push_back({"readlock", A({bad})});
  }
  // A bad path after a good one: nothing is locked.
  cases.push_back({"lock", A({B("me"), I(10), A({P({"good"}), A()})})});
  cases.push_back({"locksome", A({B("me"), I(10), A({P({"good"}), A()})})});
  for (const auto& k : cases) {
    auto r = c().Call(k.method, k.params);
    ASSERT_FALSE(r.ok()) << k.method << " " << k.params.ToDiagnostic() << " -> "
                         << r->ToDiagnostic();
    // The client maps an "InvalidArgument: ..." error reply to this code.
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument)
        << k.method << " " << k.params.ToDiagnostic() << ": " << r.status().ToString();
  }
  // The connection stays usable, nothing was locked.
  EXPECT_TRUE(Same(ReadLock({P({"good"}), P({"foo"})}), A({Null(), Null()})));
  EXPECT_TRUE(Same(Lock("me", I(10), {P({"good"})}), Ok()));
}

TEST_F(LockTest, LockerIdBytesAndTextAreTheSameLocker) {
  // The Go daemon decoded locker_id into a Go string, so b"me" and u"me" were one locker.
  EXPECT_TRUE(Same(Call(c(), "lock", A({B("me"), I(10), A({P({"foo"}), P({"bar"})})})), Ok()));
  EXPECT_TRUE(Same(Call(c(), "renew", A({T("me"), I(10), A({P({"foo"})})})), Ok()));
  EXPECT_TRUE(Same(Call(c(), "unlock", A({T("me"), A({P({"foo"})})})), Ok()));
  EXPECT_TRUE(Same(ReadLock({P({"foo"}), P({"bar"})}), A({Null(), B("me")})));
}

TEST_F(LockTest, LockerMustBeAString) {
  auto r = c().Call("lock", A({I(5), I(10), A({P({"foo"})})}));
  ASSERT_FALSE(r.ok()) << r->ToDiagnostic();
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
  EXPECT_TRUE(Same(ReadLock({P({"foo"})}), A({Null()})));
}

TEST_F(LockTest, PathsPrintLikeTheGoDaemon) {
  EXPECT_TRUE(Same(Lock("me", I(10), {A({T("txt"), B("byt"), I(7)})}), Ok()));
  EXPECT_TRUE(Same(Lock("x", I(10), {A({T("txt"), B("byt"), I(7)})}),
                   Refused("[txt byt 7] is not lockable")));
  EXPECT_TRUE(
      Same(Unlock("x", {A({T("txt"), B("byt"), I(7)})}), Refused("[txt byt 7] is held by me")));
}

TEST_F(LockTest, ManyLockersKeepIndependentTrees) {
  for (int i = 0; i < 20; ++i) {
    const std::string who = "w" + std::to_string(i);
    EXPECT_TRUE(Same(Lock(who, I(30), {P({"jobs", who}), P({"hosts", who, "cpu"})}), Ok()));
  }
  EXPECT_TRUE(Same(Lock("boss", I(30), {P({"jobs"})}), Refused("[jobs] is not lockable")));
  EXPECT_TRUE(Same(LockSome("boss", I(30), {P({"jobs", "w3"}), P({"jobs", "w99"})}),
                   A({A({Null(), P({"jobs", "w99"})}), Null()})));
  for (int i = 0; i < 20; ++i) {
    const std::string who = "w" + std::to_string(i);
    EXPECT_TRUE(Same(Unlock(who, {P({"jobs", who}), P({"hosts", who, "cpu"})}), Ok()));
  }
  EXPECT_TRUE(Same(Lock("boss", I(30), {P({"hosts"})}), Ok()));
  EXPECT_TRUE(Same(Lock("boss2", I(30), {P({"jobs"})}), Refused("[jobs] is not lockable")));
}

}  // namespace
}  // namespace coordtest
