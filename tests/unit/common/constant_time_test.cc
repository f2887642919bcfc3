// ConstantTimeEquals: the comparison used for the RPC auth token.
#include "common/constant_time.h"

#include <gtest/gtest.h>

#include <string>

namespace coordinated {
namespace {

TEST(ConstantTimeEqualsTest, EqualStrings) {
  EXPECT_TRUE(ConstantTimeEquals("s3cret-token", "s3cret-token"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  const std::string binary("a\0b\xff", 4);
  EXPECT_TRUE(ConstantTimeEquals(binary, std::string("a\0b\xff", 4)));
}

TEST(ConstantTimeEqualsTest, DifferentContentSameLength) {
  EXPECT_FALSE(ConstantTimeEquals("s3cret-token", "s3cret-tokeN"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret-token", "X3cret-token"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
  // Every single-bit flip at every position is noticed.
  const std::string secret = "0123456789abcdef";
  for (size_t i = 0; i < secret.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string other = secret;
      other[i] = static_cast<char>(other[i] ^ (1 << bit));
      EXPECT_FALSE(ConstantTimeEquals(secret, other)) << i << "/" << bit;
    }
  }
}

TEST(ConstantTimeEqualsTest, DifferentLengths) {
  EXPECT_FALSE(ConstantTimeEquals("token", "token2"));
  EXPECT_FALSE(ConstantTimeEquals("token2", "token"));
  EXPECT_FALSE(ConstantTimeEquals("token", ""));
  EXPECT_FALSE(ConstantTimeEquals("", "token"));
  // A candidate that repeats the secret (the secret is read cyclically) is still different.
  EXPECT_FALSE(ConstantTimeEquals("ab", "abab"));
  EXPECT_FALSE(ConstantTimeEquals("abab", "ab"));
}

}  // namespace
}  // namespace coordinated
