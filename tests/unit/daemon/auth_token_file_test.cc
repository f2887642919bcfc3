// Reading server.auth_token_file: trimming, permissions, empty and missing files.
#include "daemon/auth_token_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace coordinated::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class AuthTokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "auth_token_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& content, mode_t mode) {
    const std::string path = dir_ + "/token";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  std::string dir_;
};

TEST_F(AuthTokenFileTest, ReadsTokenAndTrimsTrailingWhitespace) {
  auto t = ReadAuthTokenFile(Write("s3cret\n", 0600));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, "s3cret");
  t = ReadAuthTokenFile(Write("  two words \t\r\n\n", 0400));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, "  two words");  // only trailing whitespace goes
  t = ReadAuthTokenFile(Write("no-newline", 0600));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "no-newline");
}

TEST_F(AuthTokenFileTest, GroupOrOtherAccessRefused) {
  for (mode_t mode : {0644, 0640, 0604, 0620, 0602, 0660, 0610, 0601}) {
    auto t = ReadAuthTokenFile(Write("s3cret\n", mode));
    ASSERT_FALSE(t.ok()) << std::oct << mode;
    EXPECT_EQ(t.status().code(), Code::kFailedPrecondition);
    EXPECT_THAT(t.status().message(), HasSubstr("chmod 600"));
    EXPECT_THAT(t.status().message(), Not(HasSubstr("s3cret")));
  }
  auto t = ReadAuthTokenFile(Write("s3cret\n", 0644));
  EXPECT_THAT(t.status().message(), HasSubstr("mode 0644"));
}

TEST_F(AuthTokenFileTest, EmptyOrBlankRefused) {
  for (const char* content : {"", "\n", "  \t\r\n"}) {
    auto t = ReadAuthTokenFile(Write(content, 0600));
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), Code::kInvalidArgument);
    EXPECT_THAT(t.status().message(), HasSubstr("empty"));
  }
}

TEST_F(AuthTokenFileTest, HugeFileRefused) {
  auto t = ReadAuthTokenFile(Write(std::string(100 * 1024, 'x'), 0600));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kInvalidArgument);
}

TEST_F(AuthTokenFileTest, MissingFileOrDirectoryRefused) {
  auto t = ReadAuthTokenFile(dir_ + "/absent");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kIOError);
  EXPECT_THAT(t.status().message(), HasSubstr(dir_ + "/absent"));
  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  t = ReadAuthTokenFile(dir_);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace coordinated::daemon
