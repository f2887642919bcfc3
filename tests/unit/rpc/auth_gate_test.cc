// Authentication in the dispatcher: with a token configured, only `auth` is served until the
// connection presents the right token; without one, `auth` accepts anything.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/clock.h"
#include "rpc/dispatcher.h"

namespace coordinated::rpc {
namespace {

Value Request(int64_t id, std::string_view method, Value params = Value::Array()) {
  return MapOf({{"id", Value::Int(id)}, {"method", Value::Bytes(method)}, {"params", params}});
}

// The error message of a reply, or "" for a result.
std::string ErrorOf(const Value& reply) {
  const Value* err = reply.FindKey("error");
  if (err == nullptr) return "";
  const Value* m = err->FindKey("message");
  return m && m->is_string() ? m->str() : "?";
}

class AuthGateTest : public ::testing::Test {
 protected:
  // No sequencer: every handler runs inline, so each reply is ready when Handle returns.
  Value Handle(Dispatcher& d, Value msg, ConnectionState* conn) {
    Value out = Value::Undefined();
    d.Handle(std::move(msg), conn, [&out](Value reply) { out = std::move(reply); });
    return out;
  }

  CallContext Context(const std::string* token) {
    CallContext ctx;
    ctx.clock = &clock_;
    ctx.auth_token = token;
    return ctx;
  }

  SystemClock clock_;
};

TEST_F(AuthGateTest, WithTokenOnlyAuthIsServedUntilAuthenticated) {
  const std::string token = "s3cret";
  Dispatcher d(Context(&token), nullptr);
  ConnectionState conn;

  // Known, unknown and sequenced methods alike are refused, before the method is looked up.
  for (const char* m : {"now", "get_work", "no_such_method", "_test_check"}) {
    Value r = Handle(d, Request(1, m), &conn);
    EXPECT_EQ(ErrorOf(r).rfind("Unauthenticated: call auth(token) first", 0), 0u)
        << m << ": " << r.ToDiagnostic();
  }
  // Wrong tokens: an error reply each, counted.
  EXPECT_EQ(ErrorOf(Handle(d, Request(2, "auth", Value::Array({Value::Bytes("nope")})), &conn)),
            "Unauthenticated: wrong token");
  EXPECT_EQ(ErrorOf(Handle(d, Request(3, "auth", Value::Array({Value::Int(7)})), &conn)),
            "Unauthenticated: wrong token");
  EXPECT_EQ(conn.auth_failures, 2);
  EXPECT_FALSE(conn.authenticated);
  EXPECT_NE(ErrorOf(Handle(d, Request(4, "now"), &conn)), "");

  // The right token (text or bytes) authenticates; then other methods are served.
  Value ok = Handle(d, Request(5, "auth", Value::Array({Value::Text("s3cret")})), &conn);
  EXPECT_EQ(ErrorOf(ok), "");
  EXPECT_EQ(*ok.FindKey("result"), Value::Tuple({Value::Bool(true), Value::Null()}));
  EXPECT_TRUE(conn.authenticated);
  Value now = Handle(d, Request(6, "now"), &conn);
  EXPECT_EQ(ErrorOf(now), "") << now.ToDiagnostic();
  EXPECT_TRUE(now.FindKey("result")->is_double());

  // Another connection is not authenticated by the first one's auth.
  ConnectionState other;
  EXPECT_NE(ErrorOf(Handle(d, Request(7, "now"), &other)), "");
  // No connection at all (in-process calls): refused too.
  EXPECT_NE(ErrorOf(Handle(d, Request(8, "now"), nullptr)), "");

  // A later wrong token revokes the authentication.
  EXPECT_NE(ErrorOf(Handle(d, Request(9, "auth", Value::Array({Value::Bytes("s3cre")})), &conn)),
            "");
  EXPECT_FALSE(conn.authenticated);
  EXPECT_NE(ErrorOf(Handle(d, Request(10, "now"), &conn)), "");
}

TEST_F(AuthGateTest, BatchIsCheckedInOrder) {
  const std::string token = "s3cret";
  Dispatcher d(Context(&token), nullptr);
  ConnectionState conn;
  Value batch =
      Value::Array({Request(1, "now"), Request(2, "auth", Value::Array({Value::Bytes("s3cret")})),
                    Request(3, "now")});
  Value r = Handle(d, std::move(batch), &conn);
  ASSERT_TRUE(r.is_array()) << r.ToDiagnostic();
  ASSERT_EQ(r.items().size(), 3u);
  EXPECT_NE(ErrorOf(r.items()[0]), "");
  EXPECT_EQ(ErrorOf(r.items()[1]), "");
  EXPECT_EQ(ErrorOf(r.items()[2]), "");
}

TEST_F(AuthGateTest, WithoutTokenAuthAcceptsAnythingAndNothingIsGated) {
  const std::string empty;
  for (const std::string* token : {static_cast<const std::string*>(nullptr), &empty}) {
    Dispatcher d(Context(token), nullptr);
    ConnectionState conn;
    EXPECT_EQ(ErrorOf(Handle(d, Request(1, "now"), &conn)), "");
    EXPECT_EQ(ErrorOf(Handle(d, Request(1, "now"), nullptr)), "");
    for (const Value& arg : {Value::Bytes("anything"), Value::Null(), Value::Int(3)}) {
      Value r = Handle(d, Request(2, "auth", Value::Array({arg})), &conn);
      EXPECT_EQ(ErrorOf(r), "") << r.ToDiagnostic();
    }
    EXPECT_EQ(conn.auth_failures, 0);
  }
}

}  // namespace
}  // namespace coordinated::rpc
