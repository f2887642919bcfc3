// Protected mode: the loopback classifier and which listen configurations may start.
#include "daemon/listen_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace coordinated::daemon {
namespace {

using ::testing::HasSubstr;

TEST(IsLoopbackHostTest, LoopbackAddresses) {
  for (const char* host :
       {"127.0.0.1", "127.0.0.2", "127.1.2.3", "127.255.255.255", "::1", "0:0:0:0:0:0:0:1", "[::1]",
        "localhost", "LOCALHOST", "LocalHost", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
}

TEST(IsLoopbackHostTest, EverythingElseIsRemote) {
  for (const char* host : {"0.0.0.0",
                           "::",
                           "[::]",
                           "10.0.0.5",
                           "192.168.1.1",
                           "128.0.0.1",
                           "126.255.255.255",
                           "1.127.0.0",
                           "::2",
                           "::ffff:10.0.0.1",
                           "fe80::1",
                           "example.com",
                           "localhost.example.com",
                           "localhost.",
                           "",
                           " 127.0.0.1",
                           "127.0.0.1 ",
                           "127.0.0.1:5932",
                           "127.1",
                           "0x7f000001"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << "'" << host << "'";
  }
}

ListenPolicyInput Input(const char* rpc, const char* http) {
  ListenPolicyInput in;
  in.rpc_host = rpc;
  in.http_host = http;
  return in;
}

TEST(CheckListenPolicyTest, LoopbackAlwaysAllowed) {
  ListenPolicyInput in = Input("127.0.0.1", "::1");
  EXPECT_TRUE(CheckListenPolicy(in).ok());
  EXPECT_FALSE(ListensInsecurelyOnRemote(in));
  in.auth_token_configured = true;
  EXPECT_TRUE(CheckListenPolicy(in).ok());
}

TEST(CheckListenPolicyTest, RemoteRpcNeedsTokenOrOverride) {
  ListenPolicyInput in = Input("0.0.0.0", "127.0.0.1");
  Status s = CheckListenPolicy(in);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("'0.0.0.0'"));
  EXPECT_THAT(s.message(), HasSubstr("--auth-token-file"));
  EXPECT_THAT(s.message(), HasSubstr("--allow-insecure-remote"));
  EXPECT_EQ(s.message().find('\n'), std::string::npos);

  in.auth_token_configured = true;
  EXPECT_TRUE(CheckListenPolicy(in).ok());
  EXPECT_FALSE(ListensInsecurelyOnRemote(in));

  in.auth_token_configured = false;
  in.allow_insecure_remote = true;
  EXPECT_TRUE(CheckListenPolicy(in).ok());
  EXPECT_TRUE(ListensInsecurelyOnRemote(in));
}

TEST(CheckListenPolicyTest, RemoteHttpNeedsOverrideEvenWithToken) {
  ListenPolicyInput in = Input("127.0.0.1", "0.0.0.0");
  in.auth_token_configured = true;
  Status s = CheckListenPolicy(in);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("HTTP"));
  EXPECT_THAT(s.message(), HasSubstr("--allow-insecure-remote"));
  EXPECT_THAT(s.message(), HasSubstr("does not cover it"));

  in.allow_insecure_remote = true;
  EXPECT_TRUE(CheckListenPolicy(in).ok());
  EXPECT_TRUE(ListensInsecurelyOnRemote(in));
}

TEST(CheckListenPolicyTest, DisabledHttpHostIsIgnored) {
  ListenPolicyInput in = Input("127.0.0.1", "0.0.0.0");
  in.http_enabled = false;
  EXPECT_TRUE(CheckListenPolicy(in).ok());
  EXPECT_FALSE(ListensInsecurelyOnRemote(in));
}

TEST(CheckListenPolicyTest, RemoteRpcWithTokenAndRemoteHttpNeedsOverride) {
  ListenPolicyInput in = Input("::", "::");
  in.auth_token_configured = true;
  EXPECT_FALSE(CheckListenPolicy(in).ok());
  in.allow_insecure_remote = true;
  EXPECT_TRUE(CheckListenPolicy(in).ok());
}

}  // namespace
}  // namespace coordinated::daemon
