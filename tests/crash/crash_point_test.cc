// Parsing of COORDINATED_CRASH_POINTS (src/common/crash_point.h). Firing is covered end to end by
// the crash_smoke test (the daemon dies at each point).
#include "common/crash_point.h"

#include <gtest/gtest.h>

namespace coordinated::crash {
namespace {

TEST(CrashPointRules, ParsesProbabilityAndNthPass) {
  auto rules = ParseRules("sequencer.before_sync:0.25,coordinator.chain:@3");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].name, "sequencer.before_sync");
  EXPECT_DOUBLE_EQ((*rules)[0].probability, 0.25);
  EXPECT_EQ((*rules)[0].nth, 0u);
  EXPECT_EQ((*rules)[1].name, "coordinator.chain");
  EXPECT_EQ((*rules)[1].nth, 3u);
}

TEST(CrashPointRules, EmptyMeansNothingArmed) {
  auto rules = ParseRules("");
  ASSERT_TRUE(rules.ok());
  EXPECT_TRUE(rules->empty());
  rules = ParseRules(",,");
  ASSERT_TRUE(rules.ok());
  EXPECT_TRUE(rules->empty());
}

TEST(CrashPointRules, RejectsMalformedEntries) {
  for (const char* bad : {"name", "name:", ":0.5", "name:0", "name:1.5", "name:-0.1", "name:x",
                          "name:@0", "name:@", "name:@-2", "name:@3x", "a:0.5,b"}) {
    auto rules = ParseRules(bad);
    ASSERT_FALSE(rules.ok()) << bad;
    EXPECT_EQ(rules.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(CrashPointRules, CertainProbabilityIsAllowed) {
  auto rules = ParseRules("x:1");
  ASSERT_TRUE(rules.ok());
  EXPECT_DOUBLE_EQ((*rules)[0].probability, 1.0);
}

}  // namespace
}  // namespace coordinated::crash
