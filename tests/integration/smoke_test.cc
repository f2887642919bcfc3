// The smallest end-to-end check: start, call, kill -9, restart, the data is still there.
#include <gtest/gtest.h>

#include "harness.h"

namespace coordtest {
namespace {

TEST(SmokeTest, StartCallKillRestart) {
  TempDir dir;
  Daemon d(dir.path());
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  auto c = d.NewClient();
  auto now = c->Call("now");
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_TRUE(now->is_double());
  ASSERT_TRUE(c->SetWorkSpec(M({{"name", B("ws1")}})).ok());
  ASSERT_TRUE(c->AddWorkUnits(B("ws1"), A({Tup({B("wu1"), M({{"x", I(1)}})})})).ok());
  d.Kill();
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  c = d.NewClient();
  auto count = c->Call("count_work_units", A({B("ws1")}));
  ASSERT_TRUE(count.ok());
  Value expected = Value::Map();
  expected.AppendEntry(I(1), I(1));
  EXPECT_EQ(*count, Tup({expected, Null()}));
  EXPECT_EQ(d.Stop(), 0);
}

}  // namespace
}  // namespace coordtest
