// Hostile and malformed input against the real coordinated: undecodable frames close only their
// own connection, limits (frame size, depth, connections, outstanding requests, idle and read
// timeouts, key length) hold, bad requests get the error form. After every case a fresh
// connection still works and the daemon process still runs.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/cbor.h"
#include "harness.h"
#include "test_util.h"

namespace coordtest {
namespace {

using coordinated::Code;
using coordinated::EncodeCbor;
using coordinated::EncodeHead;

Value Request(Value id, std::string_view method, Value params) {
  return M({{"id", std::move(id)}, {"method", B(method)}, {"params", std::move(params)}});
}

// Resident memory of a process in KiB (0 when unknown).
long RssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// A plain loopback TCP connection for sending bytes no client library would send.
class RawConn {
 public:
  explicit RawConn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) Close();
  }
  ~RawConn() { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool ok() const { return fd_ >= 0; }
  // False once the peer refuses more bytes (closed or reset).
  bool Send(std::string_view bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // True when the server closes (EOF or reset) within `timeout`; bytes it sent are skipped and
  // counted in *received.
  bool WaitClosed(double timeout, size_t* received = nullptr) {
    const double deadline = SteadySeconds() + timeout;
    while (true) {
      const double left = deadline - SteadySeconds();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      int rc = ::poll(&p, 1, static_cast<int>(left * 1000) + 1);
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return true;
      if (received) *received += static_cast<size_t>(n);
    }
  }

 private:
  int fd_ = -1;
};

class HostileTest : public ::testing::Test {
 protected:
  void StartDaemon(std::vector<std::string> extra_args = {}) {
    DaemonOptions o;
    o.extra_args = std::move(extra_args);
    daemon_ = std::make_unique<Daemon>(dir_.path(), o);
    ASSERT_TRUE(daemon_->Start().ok()) << daemon_->Log();
  }

  // The daemon still runs and a fresh connection answers now().
  void ExpectHealthy() {
    int status = 0;
    ASSERT_EQ(::waitpid(daemon_->pid(), &status, WNOHANG), 0) << "daemon died: " << daemon_->Log();
    auto c = daemon_->NewClient(5);
    auto r = c->Call("now");
    ASSERT_TRUE(r.ok()) << r.status().ToString() << "\n" << daemon_->Log();
    EXPECT_TRUE(r->is_double());
    auto check = c->Call("_test_check");
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_EQ(*check, A());
  }

  // Sends `bytes` on a new connection and expects the server to close it within `timeout`.
  void ExpectClosedAfter(std::string_view bytes, double timeout = 2.0) {
    RawConn raw(daemon_->port());
    ASSERT_TRUE(raw.ok());
    raw.Send(bytes);  // may fail part-way when the server already hung up
    const double t0 = SteadySeconds();
    size_t received = 0;
    EXPECT_TRUE(raw.WaitClosed(timeout, &received)) << "connection still open";
    EXPECT_LT(SteadySeconds() - t0, timeout);
    EXPECT_EQ(received, 0u) << "no reply expected for an undecodable frame";
  }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
};

// ---- undecodable frames -------------------------------------------------------------------

TEST_F(HostileTest, GarbageBytesCloseTheConnection) {
  StartDaemon();
  // A connection that is in the middle of normal use elsewhere is not affected.
  auto bystander = daemon_->NewClient(5);
  ASSERT_TRUE(bystander->Call("now").ok());
  ExpectClosedAfter(std::string("\xff\xff\x1c\x1d\x1e\xfe\xfd\x00\x01", 9));
  ExpectClosedAfter(std::string("\x1c", 1));  // reserved additional information
  ExpectClosedAfter(std::string("\xff", 1));  // a break outside any indefinite item
  ASSERT_TRUE(bystander->Call("now").ok());
  ExpectHealthy();
}

TEST_F(HostileTest, TruncatedFrameThenClientClose) {
  StartDaemon();
  const std::string frame = Frame(Request(I(1), "count_work_units", A({B("ws1")})));
  for (size_t cut : {size_t{1}, size_t{3}, frame.size() / 2, frame.size() - 1}) {
    RawConn raw(daemon_->port());
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE(raw.Send(std::string_view(frame).substr(0, cut)));
    raw.Close();
  }
  ExpectHealthy();
}

TEST_F(HostileTest, ByteStringDeclaringTwoToThe62BytesClosesPromptly) {
  StartDaemon();
  const long rss_before = RssKib(daemon_->pid());
  // Top level, and as the payload of the tag-24 envelope.
  ExpectClosedAfter(std::string("\x5b\x40\x00\x00\x00\x00\x00\x00\x00", 9));
  ExpectClosedAfter(std::string("\xd8\x18\x5b\x40\x00\x00\x00\x00\x00\x00\x00xyz", 14));
  // Text string too, and inside a well-formed envelope map.
  ExpectClosedAfter(std::string("\x7b\x40\x00\x00\x00\x00\x00\x00\x00", 9));
  ExpectClosedAfter(std::string("\xa1\x42id\x5b\x40\x00\x00\x00\x00\x00\x00\x00", 13));
  // Declared by the inner bytes of a well-formed tag-24 envelope.
  ExpectClosedAfter(std::string("\xd8\x18\x49\x5b\x40\x00\x00\x00\x00\x00\x00\x00", 12));
  const long rss_after = RssKib(daemon_->pid());
  EXPECT_LT(rss_after - rss_before, 64 * 1024)
      << "RSS grew from " << rss_before << " KiB to " << rss_after << " KiB";
  ExpectHealthy();
}

TEST_F(HostileTest, ArrayDeclaringTwoToThe40ElementsCloses) {
  StartDaemon();
  const long rss_before = RssKib(daemon_->pid());
  ExpectClosedAfter(std::string("\x9b\x00\x00\x01\x00\x00\x00\x00\x00\x01\x02\x03", 12));
  // A map of 2^40 entries, and the array inside a tag-24 envelope's inner bytes.
  ExpectClosedAfter(std::string("\xbb\x00\x00\x01\x00\x00\x00\x00\x00\x01\x02", 11));
  const std::string inner("\x9b\x00\x00\x01\x00\x00\x00\x00\x00\x01", 10);
  ExpectClosedAfter(std::string("\xd8\x18\x4a", 3) + inner);
  const long rss_after = RssKib(daemon_->pid());
  EXPECT_LT(rss_after - rss_before, 64 * 1024)
      << "RSS grew from " << rss_before << " KiB to " << rss_after << " KiB";
  ExpectHealthy();
}

TEST_F(HostileTest, ThousandNestedArraysClose) {
  StartDaemon();
  std::string deep(1000, '\x81');
  deep.push_back('\x00');
  ExpectClosedAfter(deep);
  // Inside the envelope: a request whose params nest 1000 deep.
  std::string inner = EncodeCbor(M({{"id", I(1)}, {"method", B("now")}}));
  inner[0] = '\xa3';  // map(3): add a params entry by hand
  inner += std::string("\x46params", 7) + deep;
  std::string framed;
  EncodeHead(6, Value::kTagEncodedCbor, &framed);
  EncodeHead(2, inner.size(), &framed);
  ExpectClosedAfter(framed + inner);
  // Indefinite-length arrays nest the same way.
  ExpectClosedAfter(std::string(1000, '\x9f'));
  ExpectHealthy();

  // Legitimate nesting well below the default limit (64) is stored and returned.
  auto c = daemon_->NewClient(5);
  Value nested = I(7);
  for (int i = 0; i < 20; ++i) nested = A({nested});
  ASSERT_TRUE(c->SetWorkSpec(M({{"name", B("ws1")}})).ok());
  ASSERT_TRUE(c->AddWorkUnits(B("ws1"), A({Tup({B("k"), M({{"n", nested}})})})).ok());
  auto r = c->Call("get_work_units", A({B("ws1"), M({{"work_unit_keys", A({B("k")})}})}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Tup({A({Tup({B("k"), M({{"n", nested}})})}), Null()}));
}

TEST_F(HostileTest, FrameLargerThanMaxFrameBytesCloses) {
  StartDaemon({"--set", "limits.max_frame_bytes=100000"});
  auto c = daemon_->NewClient(5);
  ASSERT_TRUE(c->SetWorkSpec(M({{"name", B("ws1")}})).ok());
  // Just under the limit: accepted.
  ASSERT_TRUE(
      c->AddWorkUnits(B("ws1"), A({Tup({B("small"), M({{"blob", B(std::string(50000, 'a'))}})})}))
          .ok());
  // Over it: the connection is closed, nothing stored.
  const std::string big = Frame(
      Request(I(2), "add_work_units",
              A({B("ws1"), A({Tup({B("big"), M({{"blob", B(std::string(200000, 'b'))}})})})})));
  ASSERT_GT(big.size(), 200000u);
  ExpectClosedAfter(big);
  // A plain (untagged) oversized map and a declared-but-unsent oversized byte string as well.
  ExpectClosedAfter(EncodeCbor(M({{"id", I(3)}, {"blob", B(std::string(150000, 'c'))}})));
  ExpectClosedAfter(std::string("\xd8\x18\x5a\x00\x10\x00\x00", 7));  // 1 MiB declared
  ExpectHealthy();
  auto count = c->Call("count_work_units", A({B("ws1")}));
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  Value one = Value::Map();
  one.AppendEntry(I(1), I(1));
  EXPECT_EQ(*count, Tup({one, Null()}));
}

TEST_F(HostileTest, Tag24OverInvalidCborCloses) {
  StartDaemon();
  ExpectClosedAfter(std::string("\xd8\x18\x43\xff\xff\xff", 6));  // breaks
  ExpectClosedAfter(std::string("\xd8\x18\x42\xa1\x41", 5));      // truncated inner map
  ExpectClosedAfter(std::string("\xd8\x18\x43\xf6\xf6\xf6", 6));  // three items, not one
  ExpectClosedAfter(std::string("\xd8\x18\x41\x1c", 4));          // reserved head
  ExpectClosedAfter(std::string("\xd8\x18\x01", 3));              // tag 24 over an int
  ExpectHealthy();
}

TEST_F(HostileTest, ValidRequestsBeforeGarbageAreAnsweredThenClosed) {
  StartDaemon();
  auto c = daemon_->NewClient(5);
  ASSERT_TRUE(c->SetWorkSpec(M({{"name", B("ws1")}})).ok());
  // Two good requests and garbage in one write, as a buggy client might send them. The garbage
  // ends the connection, but only after the requests before it were answered: the add below is
  // carried out either way, so dropping its reply would make a retrying client repeat it.
  const std::string bytes =
      Frame(Request(I(1), "add_work_units", A({B("ws1"), A({Tup({B("wu1"), M({})})})}))) +
      Frame(Request(I(2), "now", A())) + std::string("\xff\xff\x1c", 3);
  ASSERT_TRUE(c->SendRaw(bytes).ok());
  auto r1 = c->ReadMessage(5);
  EXPECT_TRUE(r1.ok()) << r1.status().ToString();
  if (r1.ok()) {
    EXPECT_EQ(*r1, M({{"id", I(1)}, {"result", OkPair()}}));
    auto r2 = c->ReadMessage(5);
    ASSERT_TRUE(r2.ok()) << r2.status().ToString();
    EXPECT_EQ(*r2->FindKey("id"), I(2));
  }
  auto r3 = c->ReadMessage(2);
  EXPECT_FALSE(r3.ok());  // then closed
  ExpectHealthy();
  auto c2 = daemon_->NewClient(5);
  auto count = c2->Call("count_work_units", A({B("ws1")}));
  ASSERT_TRUE(count.ok());
  Value one = Value::Map();
  one.AppendEntry(I(1), I(1));
  EXPECT_EQ(*count, Tup({one, Null()}));
}

TEST_F(HostileTest, RequestDecodingToNullCloses) {
  StartDaemon();
  ExpectClosedAfter(std::string("\xf6", 1));
  ExpectClosedAfter(std::string("\xd8\x18\x41\xf6", 4));
  ExpectHealthy();
}

// ---- malformed but decodable requests: error reply, connection stays ------------------------

TEST_F(HostileTest, MapWithoutMethodGetsErrorReplyAndConnectionStays) {
  StartDaemon();
  auto c = daemon_->NewClient(5);
  ASSERT_TRUE(c->SendRaw(Frame(M({{"id", I(41)}, {"params", A()}}))).ok());
  auto r = c->ReadMessage(5);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->FindKey("id"), I(41));
  EXPECT_TRUE(StartsWith(ErrorMessage(*r), "InvalidArgument:")) << r->ToDiagnostic();
  EXPECT_NE(ErrorMessage(*r).find("method"), std::string::npos) << r->ToDiagnostic();
  // An empty map, and a non-map non-array request item.
  ASSERT_TRUE(c->SendRaw(Frame(Value::Map())).ok());
  auto r2 = c->ReadMessage(5);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_FALSE(ErrorMessage(*r2).empty()) << r2->ToDiagnostic();
  ASSERT_TRUE(c->SendRaw(Frame(I(5))).ok());
  auto r3 = c->ReadMessage(5);
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_FALSE(ErrorMessage(*r3).empty()) << r3->ToDiagnostic();
  auto now = c->Call("now");
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  ExpectHealthy();
}

TEST_F(HostileTest, NonStringMethodGetsErrorReply) {
  StartDaemon();
  auto c = daemon_->NewClient(5);
  int id = 50;
  for (Value method :
       {I(5), Null(), A({B("now")}), M({{"now", I(1)}}), Value::Uuid(std::string(16, 'u'))}) {
    SCOPED_TRACE(method.ToDiagnostic());
    ++id;
    ASSERT_TRUE(c->SendRaw(Frame(M({{"id", I(id)}, {"method", method}, {"params", A()}}))).ok());
    auto r = c->ReadMessage(5);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r->FindKey("id"), I(id));
    EXPECT_FALSE(ErrorMessage(*r).empty()) << r->ToDiagnostic();
    EXPECT_EQ(r->FindKey("result"), nullptr);
  }
  auto now = c->Call("now");
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  ExpectHealthy();
}

// ---- timeouts ----------------------------------------------------------------------------------

TEST_F(HostileTest, IdleConnectionIsClosedAfterIdleTimeout) {
  StartDaemon({"--set", "limits.idle_timeout_seconds=1"});
  // A connection in use is not idle: calls 0.4 s apart for 1.6 s keep it open.
  auto busy = daemon_->NewClient(5);
  for (int i = 0; i < 4; ++i) {
    auto r = busy->Call("now");
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  }
  // An idle one: a blocking read ends in EOF after about a second.
  RawConn idle(daemon_->port());
  ASSERT_TRUE(idle.ok());
  const double t0 = SteadySeconds();
  EXPECT_TRUE(idle.WaitClosed(3.0)) << "idle connection not closed";
  EXPECT_GT(SteadySeconds() - t0, 0.8);
  ExpectHealthy();
}

TEST_F(HostileTest, PartialFrameIsClosedAfterReadTimeout) {
  StartDaemon({"--set", "limits.read_timeout_seconds=1"});
  const std::string frame = Frame(Request(I(1), "now", A()));
  RawConn raw(daemon_->port());
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(raw.Send(std::string_view(frame).substr(0, frame.size() / 2)));
  const double t0 = SteadySeconds();
  size_t received = 0;
  EXPECT_TRUE(raw.WaitClosed(3.0, &received)) << "partial frame connection not closed";
  const double elapsed = SteadySeconds() - t0;
  EXPECT_GT(elapsed, 0.8);
  EXPECT_LT(elapsed, 3.0);
  EXPECT_EQ(received, 0u);
  ExpectHealthy();
}

TEST_F(HostileTest, SlowSenderWithinReadTimeoutIsAnswered) {
  StartDaemon({"--set", "limits.read_timeout_seconds=3"});
  auto c = daemon_->NewClient(5);
  ASSERT_TRUE(c->SetWorkSpec(M({{"name", B("ws1")}})).ok());
  const std::string frame = Frame(Request(I(77), "count_work_units", A({B("ws1")})));
  ASSERT_GT(frame.size(), 30u);
  for (char byte : frame) {
    ASSERT_TRUE(c->SendRaw(std::string_view(&byte, 1)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  auto r = c->ReadMessage(5);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, M({{"id", I(77)}, {"result", Tup({Value::Map(), Null()})}}));
  ExpectHealthy();
}

// ---- connection and request limits --------------------------------------------------------------

TEST_F(HostileTest, SixthConnectionIsClosedAtOnceWhenMaxConnectionsIsFive) {
  StartDaemon({"--set", "limits.max_connections=5"});
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(daemon_->NewClient(5));
    auto r = clients.back()->Call("now");
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
  }
  {
    RawConn sixth(daemon_->port());
    ASSERT_TRUE(sixth.ok());  // the kernel accepts; the daemon closes it
    sixth.Send(Frame(Request(I(1), "now", A())));
    size_t received = 0;
    EXPECT_TRUE(sixth.WaitClosed(2.0, &received));
    EXPECT_EQ(received, 0u);
  }
  for (int i = 0; i < 5; ++i) {
    auto r = clients[i]->Call("now");
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
  }
  // Once one leaves, a fresh connection gets in (the server notices the close asynchronously,
  // so allow it a moment).
  auto admitted = [&] {
    for (int attempt = 0; attempt < 40; ++attempt) {
      auto c = daemon_->NewClient(2);
      if (c->Call("now").ok()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  clients.pop_back();
  EXPECT_TRUE(admitted());
  clients.clear();
  EXPECT_TRUE(admitted());
  ExpectHealthy();
}

TEST_F(HostileTest, ThousandPipelinedRequestsWithMaxOutstandingFour) {
  StartDaemon({"--set", "limits.max_outstanding=4"});
  auto c = daemon_->NewClient(30);
  ASSERT_TRUE(c->SetWorkSpec(M({{"name", B("ws1")}})).ok());
  std::vector<std::pair<std::string, Value>> calls;
  for (int i = 0; i < 1000; ++i) {
    if (i % 3 == 0) {
      calls.emplace_back("add_work_units",
                         A({B("ws1"), A({Tup({B("k" + std::to_string(i)), M({{"i", I(i)}})})})}));
    } else if (i % 3 == 1) {
      calls.emplace_back("count_work_units", A({B("ws1")}));
    } else {
      calls.emplace_back("now", A());
    }
  }
  auto replies = c->Pipeline(calls);  // each reply's id is checked against its request
  ASSERT_EQ(replies.size(), 1000u);
  int added = 0;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(replies[i].ok()) << i << ": " << replies[i].status().ToString();
    if (i % 3 == 0) {
      EXPECT_EQ(*replies[i], OkPair()) << i;
      ++added;
    } else if (i % 3 == 1) {
      Value counts = Value::Map();
      counts.AppendEntry(I(1), I(added));
      EXPECT_EQ(*replies[i], Tup({counts, Null()})) << i;  // in order, nothing lost
    } else {
      EXPECT_TRUE(replies[i]->is_double()) << i;
    }
  }
  EXPECT_EQ(added, 334);
  ExpectHealthy();
}

// ---- bad arguments: error form, nothing stored ------------------------------------------------

TEST_F(HostileTest, OverlongUnitKeyIsRefusedAndNothingStored) {
  StartDaemon({"--set", "limits.max_key_bytes=100"});
  auto c = daemon_->NewClient(5);
  ASSERT_TRUE(c->SetWorkSpec(M({{"name", B("ws1")}})).ok());
  // Exactly at the limit: fine.
  ASSERT_TRUE(c->AddWorkUnits(B("ws1"), A({Tup({B(std::string(100, 'a')), M({})})})).ok());
  const Value before = Tup({[] {
                              Value m = Value::Map();
                              m.AppendEntry(I(1), I(1));
                              return m;
                            }(),
                            Null()});
  ASSERT_EQ(*c->Call("count_work_units", A({B("ws1")})), before);

  // One key over the limit in the middle of a batch: the whole batch is refused.
  for (Value key : {B(std::string(101, 'b')), T(std::string(5000, 'c'))}) {
    SCOPED_TRACE(key.str().size());
    Value items = A({Tup({B("ok1"), M({})}), Tup({key, M({})}), Tup({B("ok2"), M({})})});
    ASSERT_TRUE(c->SendRaw(Frame(Request(I(9), "add_work_units", A({B("ws1"), items})))).ok());
    auto r = c->ReadMessage(5);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const std::string msg = ErrorMessage(*r);
    EXPECT_TRUE(StartsWith(msg, "InvalidArgument:")) << r->ToDiagnostic();
    EXPECT_NE(msg.find("100"), std::string::npos) << msg;  // names the limit
    auto count = c->Call("count_work_units", A({B("ws1")}));
    ASSERT_TRUE(count.ok());
    EXPECT_EQ(*count, before);
  }
  auto listed = c->Call("get_work_units", A({B("ws1"), M({})}));
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, Tup({A({Tup({B(std::string(100, 'a')), M({})})}), Null()}));
  ExpectHealthy();
}

TEST_F(HostileTest, BadSetWorkSpecIsInvalidArgumentAndNothingStored) {
  StartDaemon();
  auto c = daemon_->NewClient(5);
  const std::vector<Value> bad = {
      I(5),                                      // not a map
      B("ws1"),                                  // not a map
      A({M({{"name", B("ws1")}})}),              // a list holding a spec
      Null(),                                    // None
      M({{"desc", B("no name here")}}),          // no name
      M({{"name", I(5)}}),                       // non-string name
      M({{"name", Null()}}),                     // None name
      M({{"name", A({B("ws1")})}}),              // list name
      M({{"name", B(std::string(5000, 'n'))}}),  // longer than limits.max_name_bytes (1024)
  };
  int id = 60;
  for (const Value& spec : bad) {
    SCOPED_TRACE(spec.ToDiagnostic().substr(0, 80));
    ++id;
    ASSERT_TRUE(c->SendRaw(Frame(Request(I(id), "set_work_spec", A({spec})))).ok());
    auto r = c->ReadMessage(5);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r->FindKey("id"), I(id));
    EXPECT_TRUE(StartsWith(ErrorMessage(*r), "InvalidArgument:")) << r->ToDiagnostic();
  }
  auto list = c->Call("list_work_specs", A({M({})}));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(*list, Tup({A(), Null()}));
  // A good spec still works afterwards on the same connection.
  ASSERT_TRUE(c->SetWorkSpec(M({{"name", B("ws1")}})).ok());
  auto list2 = c->Call("list_work_specs", A({M({})}));
  ASSERT_TRUE(list2.ok());
  EXPECT_EQ(*list2, Tup({A({M({{"name", B("ws1")}})}), Null()}));
  ExpectHealthy();
}

}  // namespace
}  // namespace coordtest
