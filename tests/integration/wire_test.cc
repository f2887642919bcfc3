// Wire-level compatibility with the original Python daemon, through the real coordinated:
// framing (tag 24 or a plain map), byte/text names, byte-exact replies of reference §2.4,
// pipelining, batches, keyword params, the error form, id echo, now(), get_config, many
// connections, SIGTERM and the value round-trip fixture of reference §2.3.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
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

// "D8 18 55 ..." -> bytes.
std::string Hex(std::string_view text) {
  std::string out;
  int nibbles = 0;
  unsigned acc = 0;
  for (char ch : text) {
    unsigned v;
    if (ch >= '0' && ch <= '9') {
      v = static_cast<unsigned>(ch - '0');
    } else if (ch >= 'A' && ch <= 'F') {
      v = static_cast<unsigned>(ch - 'A' + 10);
    } else if (ch >= 'a' && ch <= 'f') {
      v = static_cast<unsigned>(ch - 'a' + 10);
    } else {
      continue;
    }
    acc = acc * 16 + v;
    if (++nibbles == 2) {
      out.push_back(static_cast<char>(acc));
      nibbles = 0;
      acc = 0;
    }
  }
  return out;
}

std::string ToHex(std::string_view bytes) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// A request map; keys and method as byte strings (Python 2) or text strings.
Value Request(Value id, std::string_view method, Value params, bool text_keys = false,
              bool text_method = false) {
  auto key = [&](std::string_view k) { return text_keys ? T(k) : B(k); };
  Value m = Value::Map();
  m.AppendEntry(key("id"), std::move(id));
  m.AppendEntry(key("method"), text_method ? T(method) : B(method));
  m.AppendEntry(key("params"), std::move(params));
  return m;
}

// Sends raw bytes on the client's connection and reads one reply message (inner value).
StatusOr<Value> RawRoundTrip(Client& c, std::string_view bytes) {
  Status s = c.SendRaw(bytes);
  if (!s.ok()) return s;
  return c.ReadMessage(10);
}

Value IntMap(std::vector<std::pair<int64_t, int64_t>> kv) {
  Value m = Value::Map();
  for (auto [k, v] : kv) m.AppendEntry(I(k), I(v));
  return m;
}

// A plain loopback TCP connection that sees the exact reply bytes.
class RawConn {
 public:
  explicit RawConn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  bool Send(std::string_view bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads until `n` bytes arrived, the peer closed, or `timeout` passed.
  std::string ReadUpTo(size_t n, double timeout) {
    std::string out;
    const double deadline = SteadySeconds() + timeout;
    while (out.size() < n) {
      const double left = deadline - SteadySeconds();
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) continue;
      char buf[4096];
      ssize_t got = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (got <= 0) break;
      out.append(buf, static_cast<size_t>(got));
    }
    return out;
  }

 private:
  int fd_ = -1;
};

class WireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<Daemon>(dir_.path());
    ASSERT_TRUE(daemon_->Start().ok()) << daemon_->Log();
    c_ = daemon_->NewClient(10);
  }

  // Spec b"ws1" with the given (key, data) units.
  void MakeSpec(std::vector<std::pair<std::string, Value>> units) {
    ASSERT_TRUE(c_->SetWorkSpec(M({{"name", B("ws1")}})).ok());
    Value items = A();
    for (auto& [k, d] : units) items.Append(Tup({B(k), d}));
    if (!units.empty()) {
      ASSERT_TRUE(c_->AddWorkUnits(B("ws1"), items).ok());
    }
  }

  void ExpectUsable() {
    auto r = c_->Call("now");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->is_double());
  }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<Client> c_;
};

// ---- framing and names ----------------------------------------------------------------------

TEST_F(WireTest, TaggedAndPlainMapRequestsAreBothAnswered) {
  MakeSpec({{"wu1", M({})}});
  auto tagged = RawRoundTrip(*c_, Frame(Request(I(7), "count_work_units", A({B("ws1")}))));
  ASSERT_TRUE(tagged.ok()) << tagged.status().ToString();
  EXPECT_EQ(*tagged, M({{"id", I(7)}, {"result", Tup({IntMap({{1, 1}}), Null()})}}));

  // No tag 24: the map itself is the message.
  auto plain = RawRoundTrip(*c_, EncodeCbor(Request(I(8), "count_work_units", A({B("ws1")}))));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(*plain, M({{"id", I(8)}, {"result", Tup({IntMap({{1, 1}}), Null()})}}));
  ExpectUsable();
}

TEST_F(WireTest, ByteAndTextMethodNamesAndEnvelopeKeysAllWork) {
  MakeSpec({{"wu1", M({})}, {"wu2", M({})}});
  int id = 100;
  for (bool text_keys : {false, true}) {
    for (bool text_method : {false, true}) {
      for (bool text_spec : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "text_keys=" << text_keys << " text_method="
                                          << text_method << " text_spec=" << text_spec);
        ++id;
        Value spec = text_spec ? T("ws1") : B("ws1");
        auto r = RawRoundTrip(
            *c_, Frame(Request(I(id), "count_work_units", A({spec}), text_keys, text_method)));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        // Replies always use byte-string keys, whatever the request used.
        EXPECT_EQ(*r, M({{"id", I(id)}, {"result", Tup({IntMap({{1, 2}}), Null()})}}));
      }
    }
  }
  // Keyword params with text keys too.
  Value kw = Value::Map();
  kw.AppendEntry(T("work_spec_name"), T("ws1"));
  auto r = RawRoundTrip(*c_, Frame(Request(I(200), "count_work_units", kw, true, true)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, M({{"id", I(200)}, {"result", Tup({IntMap({{1, 2}}), Null()})}}));
}

// ---- byte-exact replies (reference-behavior.md §2.4) ----------------------------------------

TEST_F(WireTest, CountWorkUnitsReplyBytesMatchPy) {
  MakeSpec({{"wu1", M({})}, {"wu2", M({})}, {"wu3", M({})}});
  auto work = c_->GetWork(B("worker-0"), 1, 900);
  ASSERT_TRUE(work.ok()) << work.status().ToString();
  ASSERT_EQ(work->size(), 1u);

  RawConn raw(daemon_->port());
  ASSERT_TRUE(raw.ok());
  const std::string request =
      Hex("D8 18 58 29 A3 42 69 64 01 46 6D 65 74 68 6F 64"
          " 50 63 6F 75 6E 74 5F 77 6F 72 6B 5F 75 6E 69 74 73"
          " 46 70 61 72 61 6D 73 81 43 77 73 31");
  ASSERT_EQ(request.size(), 45u);
  ASSERT_TRUE(raw.Send(request));
  const std::string expected =
      Hex("D8 18 55 A2 42 69 64 01 46 72 65 73 75 6C 74 D8 80 82 A2 01 02 03 01 F6");
  const std::string got = raw.ReadUpTo(expected.size(), 5.0);
  EXPECT_EQ(ToHex(got), ToHex(expected));
  EXPECT_EQ(raw.ReadUpTo(1, 0.1), "");  // nothing after the reply
}

TEST_F(WireTest, GetWorkReplyBytesMatchPy) {
  MakeSpec({{"wu1", M({{"x", I(1)}})}});
  RawConn raw(daemon_->port());
  ASSERT_TRUE(raw.ok());
  const std::string request =
      Hex("D8 18 58 3F A3 42 69 64 02 46 6D 65 74 68 6F 64 48 67 65 74 5F 77 6F 72 6B 46 70 61 72"
          " 61 6D 73 82 48 77 6F 72 6B 65 72 2D 31 A2 48 6D 61 78 5F 6A 6F 62 73 01 4A 6C 65 61 73"
          " 65 5F 74 69 6D 65 19 03 84");
  ASSERT_EQ(request.size(), 67u);
  ASSERT_TRUE(raw.Send(request));
  const std::string expected =
      Hex("D8 18 58 1F A2 42 69 64 02 46 72 65 73 75 6C 74 D8 80 82 D8 80 83 43 77 73 31 43 77 75"
          " 31 A1 41 78 01 F6");
  const std::string got = raw.ReadUpTo(expected.size(), 5.0);
  EXPECT_EQ(ToHex(got), ToHex(expected));
  EXPECT_EQ(raw.ReadUpTo(1, 0.1), "");  // nothing after the reply
}

TEST_F(WireTest, GetWorkReplyCarriesUnitDataAsSent) {
  // {b"x": 1.0 as a half float, b"n": 5 with a one-byte argument}: valid CBOR that Python
  // decodes to the same values as the shortest double and integer forms.
  const std::string sent = Hex("A2 41 78 F9 3C 00 41 6E 18 05");
  MakeSpec({{"wu1", Value::Encoded(sent)}});
  RawConn raw(daemon_->port());
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(raw.Send(
      Hex("D8 18 58 3F A3 42 69 64 02 46 6D 65 74 68 6F 64 48 67 65 74 5F 77 6F 72 6B 46 70 61 72"
          " 61 6D 73 82 48 77 6F 72 6B 65 72 2D 31 A2 48 6D 61 78 5F 6A 6F 62 73 01 4A 6C 65 61 73"
          " 65 5F 74 69 6D 65 19 03 84")));
  // The unit's data goes out in the claim's reply byte for byte as it came in.
  const std::string expected =
      Hex("D8 18 58 25 A2 42 69 64 02 46 72 65 73 75 6C 74 D8 80 82 D8 80 83 43 77 73 31 43 77 75"
          " 31") +
      sent + Hex("F6");
  EXPECT_EQ(ToHex(raw.ReadUpTo(expected.size(), 5.0)), ToHex(expected));
  EXPECT_EQ(raw.ReadUpTo(1, 0.1), "");
  // Finished and listed, the data reads back as the same values.
  const Value done = Update(*c_, "ws1", "wu1", M({{"status", I(4)}, {"worker_id", B("worker-1")}}));
  ASSERT_TRUE(done.is_sequence() && !done.items().empty() && done.items()[0].is_bool() &&
              done.items()[0].as_bool())
      << done.ToDiagnostic();
  auto listed = c_->Call("get_work_units", A({B("ws1"), M({{"work_unit_keys", A({B("wu1")})}})}));
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_TRUE(listed->is_sequence() && !listed->items().empty()) << listed->ToDiagnostic();
  EXPECT_EQ(listed->items()[0], A({Tup({B("wu1"), M({{"x", Value::Double(1.0)}, {"n", I(5)}})})}))
      << listed->ToDiagnostic();
}

// ---- pipelining and batches -----------------------------------------------------------------

TEST_F(WireTest, PipelineOfHundredMixedCallsAnsweredInOrder) {
  MakeSpec({{"base", M({})}});
  std::vector<std::pair<std::string, Value>> calls;
  for (int i = 0; i < 100; ++i) {
    switch (i % 5) {
      case 0:
        calls.emplace_back("now", A());
        break;
      case 1:
        calls.emplace_back("count_work_units", A({B("ws1")}));
        break;
      case 2:
        calls.emplace_back("add_work_units",
                           A({B("ws1"), A({Tup({B("k" + std::to_string(i)), M({{"i", I(i)}})})})}));
        break;
      case 3:
        calls.emplace_back("get_work_spec", A({B("ws1")}));
        break;
      default:
        calls.emplace_back("no_such_method_" + std::to_string(i), A());
        break;
    }
  }
  auto replies = c_->Pipeline(calls);  // checks every reply id against its request
  ASSERT_EQ(replies.size(), 100u);
  int added = 0;
  for (int i = 0; i < 100; ++i) {
    SCOPED_TRACE(i);
    const auto& r = replies[i];
    switch (i % 5) {
      case 0:
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        EXPECT_TRUE(r->is_double());
        break;
      case 1:
        // Strictly in order: the count sees exactly the adds sent before it.
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        EXPECT_EQ(*r, Tup({IntMap({{1, 1 + added}}), Null()}));
        break;
      case 2:
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        EXPECT_EQ(*r, OkPair());
        ++added;
        break;
      case 3:
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        EXPECT_EQ(*r, M({{"name", B("ws1")}}));
        break;
      default:
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.status().code(), Code::kNoSuchMethod);
        break;
    }
  }
  EXPECT_EQ(added, 20);
  ExpectUsable();
}

TEST_F(WireTest, BatchAnsweredInOrderWithErrorElementForUnknownMethod) {
  MakeSpec({{"wu1", M({})}});
  auto replies = c_->Batch({
      {"count_work_units", A({B("ws1")})},
      {"add_work_units", A({B("ws1"), A({Tup({B("wu2"), M({})})})})},
      {"definitely_not_a_method", A({I(1)})},
      {"count_work_units", A({B("ws1")})},
      {"now", A()},
  });
  ASSERT_EQ(replies.size(), 5u);
  ASSERT_TRUE(replies[0].ok()) << replies[0].status().ToString();
  EXPECT_EQ(*replies[0], Tup({IntMap({{1, 1}}), Null()}));
  ASSERT_TRUE(replies[1].ok()) << replies[1].status().ToString();
  EXPECT_EQ(*replies[1], OkPair());
  ASSERT_FALSE(replies[2].ok());
  EXPECT_EQ(replies[2].status().code(), Code::kNoSuchMethod);
  ASSERT_TRUE(replies[3].ok()) << replies[3].status().ToString();
  EXPECT_EQ(*replies[3], Tup({IntMap({{1, 2}}), Null()}));  // the add ran before it
  ASSERT_TRUE(replies[4].ok()) << replies[4].status().ToString();
  EXPECT_TRUE(replies[4]->is_double());

  // The same batch raw: one tag-24 frame holding one array of reply maps, error form in place.
  Value batch = A({Request(I(1), "count_work_units", A({B("ws1")})),
                   Request(I(2), "definitely_not_a_method", A()),
                   Request(I(3), "get_work_spec", A({B("ws1")}))});
  auto raw = RawRoundTrip(*c_, Frame(batch));
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  ASSERT_TRUE(raw->is_array()) << raw->ToDiagnostic();
  ASSERT_EQ(raw->items().size(), 3u);
  EXPECT_EQ(raw->items()[0], M({{"id", I(1)}, {"result", Tup({IntMap({{1, 2}}), Null()})}}));
  EXPECT_TRUE(StartsWith(ErrorMessage(raw->items()[1]), "NoSuchMethod:"))
      << raw->items()[1].ToDiagnostic();
  EXPECT_EQ(*raw->items()[1].FindKey("id"), I(2));
  EXPECT_EQ(raw->items()[2], M({{"id", I(3)}, {"result", M({{"name", B("ws1")}})}}));
  ExpectUsable();
}

TEST_F(WireTest, EmptyBatchGetsEmptyArray) {
  auto r = RawRoundTrip(*c_, Frame(A()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, A());
  ExpectUsable();
}

TEST_F(WireTest, NestedArrayInsideBatchGetsNestedReply) {
  MakeSpec({{"wu1", M({})}});
  Value batch = A({Request(I(1), "count_work_units", A({B("ws1")})),
                   A({Request(I(2), "get_work_spec", A({B("ws1")})),
                      Request(I(3), "count_work_units", A({B("nope")}))}),
                   Request(I(4), "get_work_spec", A({B("nope")}))});
  auto r = RawRoundTrip(*c_, Frame(batch));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Value expected = A({
      M({{"id", I(1)}, {"result", Tup({IntMap({{1, 1}}), Null()})}}),
      A({M({{"id", I(2)}, {"result", M({{"name", B("ws1")}})}}),
         M({{"id", I(3)}, {"result", Tup({Bool(false), B("no such work_spec 'nope'")})}})}),
      M({{"id", I(4)}, {"result", Null()}}),
  });
  EXPECT_EQ(*r, expected) << r->ToDiagnostic();
  ExpectUsable();
}

// ---- params -----------------------------------------------------------------------------------

TEST_F(WireTest, KeywordParams) {
  MakeSpec({{"wu1", M({{"x", I(1)}})}, {"wu2", M({{"x", I(2)}})}});
  auto r = c_->Call("get_work", M({{"worker_id", B("w1")},
                                   {"options", M({{"max_jobs", I(1)}, {"lease_time", I(60)}})}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Tup({Tup({B("ws1"), B("wu1"), M({{"x", I(1)}})}), Null()}));

  // Keyword order does not matter; an optional parameter may be left out.
  auto list = c_->Call("get_work_units", M({{"options", M({{"work_unit_keys", A({B("wu2")})}})},
                                            {"work_spec_name", B("ws1")}}));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(*list, Tup({A({Tup({B("wu2"), M({{"x", I(2)}})})}), Null()}));
  auto count = c_->Call("count_work_units", M({{"work_spec_name", B("ws1")}}));
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, Tup({IntMap({{1, 1}, {3, 1}}), Null()}));
  auto status = c_->Call("get_work_unit_status",
                         M({{"work_spec_name", B("ws1")}, {"work_unit_keys", A({B("wu1")})}}));
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  ASSERT_TRUE(status->is_tuple());
  EXPECT_EQ(*status->items()[0].items()[0].FindKey("status"), I(3));
}

// ---- the error form ---------------------------------------------------------------------------

TEST_F(WireTest, UnknownMethodIsNoSuchMethodAndConnectionStaysUsable) {
  auto r = RawRoundTrip(*c_, Frame(Request(I(5), "frobnicate", A({I(1), B("x")}))));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->is_map());
  EXPECT_EQ(*r->FindKey("id"), I(5));
  EXPECT_EQ(r->FindKey("result"), nullptr);
  const std::string msg = ErrorMessage(*r);
  EXPECT_TRUE(StartsWith(msg, "NoSuchMethod:")) << r->ToDiagnostic();
  EXPECT_NE(msg.find("frobnicate"), std::string::npos) << msg;
  // The message is a byte string, as PY's str.
  EXPECT_TRUE(r->FindKey("error")->FindKey("message")->is_bytes());
  // Names starting with '_' are not a back door (test hooks aside) and also get NoSuchMethod.
  auto hidden = RawRoundTrip(*c_, Frame(Request(I(6), "_private", A())));
  ASSERT_TRUE(hidden.ok());
  EXPECT_TRUE(StartsWith(ErrorMessage(*hidden), "NoSuchMethod:")) << hidden->ToDiagnostic();
  ExpectUsable();
}

TEST_F(WireTest, WrongArityIsInvalidArgumentAndConnectionStaysUsable) {
  MakeSpec({});
  for (Value params : {A(), A({B("ws1"), B("extra")}), A({B("ws1"), I(1), I(2)})}) {
    SCOPED_TRACE(params.ToDiagnostic());
    auto r = RawRoundTrip(*c_, Frame(Request(I(9), "count_work_units", params)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(StartsWith(ErrorMessage(*r), "InvalidArgument:")) << r->ToDiagnostic();
    EXPECT_EQ(*r->FindKey("id"), I(9));
  }
  // A method without parameters given one.
  auto r = RawRoundTrip(*c_, Frame(Request(I(10), "now", A({I(1)}))));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(StartsWith(ErrorMessage(*r), "InvalidArgument:")) << r->ToDiagnostic();
  // Keyword form missing a required parameter.
  auto kw = RawRoundTrip(*c_, Frame(Request(I(11), "get_work", M({{"options", M({})}}))));
  ASSERT_TRUE(kw.ok());
  EXPECT_TRUE(StartsWith(ErrorMessage(*kw), "InvalidArgument:")) << kw->ToDiagnostic();
  ExpectUsable();
  auto count = c_->Call("count_work_units", A({B("ws1")}));
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, Tup({Value::Map(), Null()}));
}

TEST_F(WireTest, UnknownKeywordArgumentIsInvalidArgument) {
  MakeSpec({{"wu1", M({})}});
  auto r =
      RawRoundTrip(*c_, Frame(Request(I(12), "count_work_units",
                                      M({{"work_spec_name", B("ws1")}, {"colour", B("blue")}}))));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string msg = ErrorMessage(*r);
  EXPECT_TRUE(StartsWith(msg, "InvalidArgument:")) << r->ToDiagnostic();
  EXPECT_NE(msg.find("keyword"), std::string::npos) << msg;
  // A non-string keyword.
  Value odd = Value::Map();
  odd.AppendEntry(I(1), B("ws1"));
  auto r2 = RawRoundTrip(*c_, Frame(Request(I(13), "count_work_units", odd)));
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_TRUE(StartsWith(ErrorMessage(*r2), "InvalidArgument:")) << r2->ToDiagnostic();
  ExpectUsable();
}

TEST_F(WireTest, ParamsNeitherListNorMapGetErrorReply) {
  MakeSpec({});
  for (Value params : {I(5), B("ws1"), T("ws1"), Bool(true), D(1.5)}) {
    SCOPED_TRACE(params.ToDiagnostic());
    auto r = RawRoundTrip(*c_, Frame(Request(I(14), "count_work_units", params)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r->FindKey("id"), I(14));
    const std::string msg = ErrorMessage(*r);
    EXPECT_FALSE(msg.empty()) << r->ToDiagnostic();
    EXPECT_NE(msg.find("params"), std::string::npos) << msg;
  }
  ExpectUsable();
}

// ---- ids --------------------------------------------------------------------------------------

TEST_F(WireTest, AnyRequestIdIsEchoedUnchanged) {
  Value map_id = Value::Map();
  map_id.AppendEntry(T("seq"), I(3));
  map_id.AppendEntry(B("who"), Tup({B("a"), I(-1)}));
  const std::vector<Value> ids = {T("req-1"),        T("fü"), map_id, B("\x00\xff"), I(-7),
                                  A({I(1), T("x")}), D(2.5),  Null(), I(0)};
  for (const Value& id : ids) {
    SCOPED_TRACE(id.ToDiagnostic());
    auto ok = RawRoundTrip(*c_, Frame(Request(id, "now", A())));
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    ASSERT_NE(ok->FindKey("id"), nullptr) << ok->ToDiagnostic();
    EXPECT_EQ(*ok->FindKey("id"), id);
    EXPECT_TRUE(ok->FindKey("result")->is_double());
    // Error replies echo it too.
    auto err = RawRoundTrip(*c_, Frame(Request(id, "nope", A())));
    ASSERT_TRUE(err.ok()) << err.status().ToString();
    ASSERT_NE(err->FindKey("id"), nullptr) << err->ToDiagnostic();
    EXPECT_EQ(*err->FindKey("id"), id);
    EXPECT_FALSE(ErrorMessage(*err).empty());
  }
}

// ---- now and get_config -----------------------------------------------------------------------

TEST_F(WireTest, NowIsAFloatCloseToRealTime) {
  auto r = c_->Call("now");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->is_double()) << r->ToDiagnostic();
  const double real =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(r->as_double(), real, 5.0);
  // Sub-second resolution: two calls 50 ms apart differ.
  ::usleep(50 * 1000);
  auto r2 = c_->Call("now");
  ASSERT_TRUE(r2.ok());
  EXPECT_GT(r2->as_double(), r->as_double());
  EXPECT_LT(r2->as_double() - r->as_double(), 5.0);
}

TEST_F(WireTest, GetConfigReturnsMapAndNoneWithServerHostAndPort) {
  auto r = c_->Call("get_config");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->is_tuple()) << r->ToDiagnostic();
  ASSERT_EQ(r->items().size(), 2u);
  EXPECT_TRUE(r->items()[1].is_null());
  const Value& cfg = r->items()[0];
  ASSERT_TRUE(cfg.is_map()) << cfg.ToDiagnostic();
  const Value* coordinate = cfg.FindKey("coordinate");
  ASSERT_TRUE(coordinate && coordinate->is_map()) << cfg.ToDiagnostic();
  const Value* server = coordinate->FindKey("server");
  ASSERT_TRUE(server && server->is_map()) << cfg.ToDiagnostic();
  const Value* host = server->FindKey("host");
  ASSERT_TRUE(host && host->is_string()) << cfg.ToDiagnostic();
  EXPECT_EQ(host->str(), "127.0.0.1");
  const Value* port = server->FindKey("port");
  ASSERT_TRUE(port && port->is_int()) << cfg.ToDiagnostic();
  // The daemon was started with --port 0; the configured (0) or the bound port are both fine.
  EXPECT_TRUE(*port->AsInt64() == 0 || *port->AsInt64() == daemon_->port()) << cfg.ToDiagnostic();
}

TEST(WireConfigTest, GetConfigServesOtherSectionsButNoPasswords) {
  TempDir dir;
  const std::string path = dir.path() + "/global.yaml";
  {
    std::ofstream out(path);
    out << "coordinate:\n"
           "  server:\n"
           "    host: 127.0.0.1\n"
           "my_app:\n"
           "  endpoint: http://example.invalid/\n"
           "  retries: 3\n"
           "  db_password: nested-secret\n"
           "  nested:\n"
           "    depth: 2\n"
           "password: hunter2\n";
  }
  DaemonOptions o;
  o.config_file = path;
  Daemon d(dir.path() + "/data", o);
  ASSERT_TRUE(d.Start().ok()) << d.Log();
  auto c = d.NewClient(10);
  auto r = c->Call("get_config");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->is_tuple() && r->items().size() == 2) << r->ToDiagnostic();
  EXPECT_TRUE(r->items()[1].is_null());
  const Value& cfg = r->items()[0];
  ASSERT_TRUE(cfg.is_map()) << cfg.ToDiagnostic();
  EXPECT_EQ(cfg.FindKey("password"), nullptr) << cfg.ToDiagnostic();
  const Value* app = cfg.FindKey("my_app");
  ASSERT_TRUE(app && app->is_map()) << cfg.ToDiagnostic();
  ASSERT_NE(app->FindKey("endpoint"), nullptr);
  EXPECT_EQ(app->FindKey("endpoint")->str(), "http://example.invalid/");
  ASSERT_NE(app->FindKey("retries"), nullptr);
  EXPECT_EQ(*app->FindKey("retries"), I(3));
  EXPECT_EQ(app->FindKey("db_password"), nullptr) << cfg.ToDiagnostic();
  ASSERT_NE(app->FindKey("nested"), nullptr);
  EXPECT_EQ(*app->FindKey("nested")->FindKey("depth"), I(2));
  const Value* coordinate = cfg.FindKey("coordinate");
  ASSERT_TRUE(coordinate && coordinate->is_map()) << cfg.ToDiagnostic();
  const Value* server = coordinate->FindKey("server");
  ASSERT_TRUE(server && server->FindKey("host") && server->FindKey("port")) << cfg.ToDiagnostic();
  EXPECT_EQ(server->FindKey("host")->str(), "127.0.0.1");
  // No secret anywhere in the reply.
  const std::string diag = cfg.ToDiagnostic();
  EXPECT_EQ(diag.find("hunter2"), std::string::npos) << diag;
  EXPECT_EQ(diag.find("nested-secret"), std::string::npos) << diag;
  EXPECT_EQ(d.Stop(), 0);
}

// ---- connections and shutdown -----------------------------------------------------------------

TEST_F(WireTest, TwoHundredConnectionsAtOnce) {
  MakeSpec({{"wu1", M({})}});
  constexpr int kClients = 200;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(daemon_->NewClient(20));
    ASSERT_TRUE(clients.back()->Connect().ok()) << i;
  }
  // Every connection has a request in flight before any reply is read.
  for (int i = 0; i < kClients; ++i) {
    const char* method = i % 2 ? "count_work_units" : "now";
    Value params = i % 2 ? A({B("ws1")}) : A();
    ASSERT_TRUE(clients[i]->SendRaw(Frame(Request(I(1000 + i), method, params))).ok()) << i;
  }
  for (int i = 0; i < kClients; ++i) {
    auto r = clients[i]->ReadMessage(20);
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    EXPECT_EQ(*r->FindKey("id"), I(1000 + i));
    const Value* result = r->FindKey("result");
    ASSERT_NE(result, nullptr) << r->ToDiagnostic();
    if (i % 2) {
      EXPECT_EQ(*result, Tup({IntMap({{1, 1}}), Null()}));
    } else {
      EXPECT_TRUE(result->is_double());
    }
  }
  // And a second round on every connection.
  for (int i = 0; i < kClients; ++i) {
    auto r = clients[i]->Call("now");
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
  }
}

TEST_F(WireTest, SigtermExitsZeroAndRestartKeepsData) {
  MakeSpec({{"wu1", M({{"x", I(1)}})}, {"wu2", M({})}, {"wu3", M({})}});
  auto work = c_->GetWork(B("w"), 1, 600);
  ASSERT_TRUE(work.ok() && work->size() == 1);
  // An idle open connection must not hold up the shutdown.
  auto idle = daemon_->NewClient(10);
  ASSERT_TRUE(idle->Call("now").ok());
  const double t0 = SteadySeconds();
  EXPECT_EQ(daemon_->Stop(), 0) << daemon_->Log();
  EXPECT_LT(SteadySeconds() - t0, 10.0);
  EXPECT_FALSE(daemon_->running());

  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->Log();
  auto c = daemon_->NewClient(10);
  auto count = c->Call("count_work_units", A({B("ws1")}));
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, Tup({IntMap({{1, 2}, {3, 1}}), Null()}));
  auto units = c->Call("get_work_units", A({B("ws1"), M({{"work_unit_keys", A({B("wu1")})}})}));
  ASSERT_TRUE(units.ok());
  EXPECT_EQ(*units, Tup({A({Tup({B("wu1"), M({{"x", I(1)}})})}), Null()}));
  auto spec = c->Call("get_work_spec", A({B("ws1")}));
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(*spec, M({{"name", B("ws1")}}));
  auto check = c->Call("_test_check");
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(*check, A());
  EXPECT_EQ(daemon_->Stop(), 0);
}

TEST_F(WireTest, SigtermDuringPipelineKeepsEveryAcknowledgedChange) {
  MakeSpec({});
  constexpr int kCalls = 2000;
  std::string frames;
  for (int i = 0; i < kCalls; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%05d", i);
    frames += Frame(Request(I(i + 1), "add_work_units", A({B("ws1"), A({Tup({B(key), M({})})})})));
  }
  ASSERT_TRUE(c_->SendRaw(frames).ok());
  int stop_status = -2;
  std::thread stopper([&] { stop_status = daemon_->Stop(); });
  int acked = 0;
  for (int i = 0; i < kCalls; ++i) {
    auto r = c_->ReadMessage(20);
    if (!r.ok()) break;  // the daemon closed the connection after what it had read
    ASSERT_EQ(*r, M({{"id", I(i + 1)}, {"result", OkPair()}})) << i;
    ++acked;
  }
  stopper.join();
  EXPECT_EQ(stop_status, 0) << daemon_->Log();

  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->Log();
  auto c = daemon_->NewClient(10);
  auto count = c->Call("count_work_units", A({B("ws1")}));
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  ASSERT_TRUE(count->is_tuple());
  const Value& counts = count->items()[0];
  const int64_t stored = counts.map_size() == 0 ? 0 : *counts.value_at(0).AsInt64();
  // Every acknowledged add is there; requests ran in order, so what is stored is a prefix.
  EXPECT_GE(stored, acked);
  EXPECT_LE(stored, kCalls);
  if (stored > 0 && stored < kCalls) {
    char last[16], next[16];
    std::snprintf(last, sizeof last, "k%05d", static_cast<int>(stored - 1));
    std::snprintf(next, sizeof next, "k%05d", static_cast<int>(stored));
    Value keys = A({B("k00000"), B(last), B(next)});
    auto units = c->Call("get_work_units", A({B("ws1"), M({{"work_unit_keys", keys}})}));
    ASSERT_TRUE(units.ok());
    EXPECT_EQ(*units,
              Tup({A({Tup({B("k00000"), M({})}), Tup({B(last), M({})}), Tup({B(next), Null()})}),
                   Null()}));
  }
  auto check = c->Call("_test_check");
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(*check, A());
}

TEST_F(WireTest, SigtermWithPipelinedRequestsInFlightStopsPromptly) {
  MakeSpec({});
  std::string frames;
  for (int i = 0; i < 2000; ++i) {
    frames += Frame(Request(I(i + 1), "add_work_units",
                            A({B("ws1"), A({Tup({B("k" + std::to_string(i)), M({})})})})));
  }
  ASSERT_TRUE(c_->SendRaw(frames).ok());
  int stop_status = -2;
  double stop_seconds = 0;
  std::thread stopper([&] {
    const double t0 = SteadySeconds();
    stop_status = daemon_->Stop();
    stop_seconds = SteadySeconds() - t0;
  });
  // Every request the daemon read is answered (in order), then the connection ends.
  int answered = 0;
  while (true) {
    auto r = c_->ReadMessage(20);
    if (!r.ok()) break;
    ASSERT_EQ(*r->FindKey("id"), I(answered + 1));
    ++answered;
  }
  stopper.join();
  EXPECT_EQ(stop_status, 0);
  // Nothing here takes more than a few hundred milliseconds to finish.
  EXPECT_LT(stop_seconds, 2.0) << "answered " << answered << " of 2000\n" << daemon_->Log();
}

TEST_F(WireTest, HalfClosedClientStillGetsItsReplies) {
  MakeSpec({{"wu1", M({})}});
  RawConn raw(daemon_->port());
  ASSERT_TRUE(raw.ok());
  const std::string frames =
      Frame(Request(I(1), "count_work_units", A({B("ws1")}))) +
      Frame(Request(I(2), "add_work_units", A({B("ws1"), A({Tup({B("wu2"), M({})})})})));
  ASSERT_TRUE(raw.Send(frames));
  raw.ShutdownWrite();  // the Python client never does this, but a script using nc might
  const std::string expected =
      Frame(M({{"id", I(1)}, {"result", Tup({IntMap({{1, 1}}), Null()})}})) +
      Frame(M({{"id", I(2)}, {"result", OkPair()}}));
  const std::string got = raw.ReadUpTo(expected.size() + 1, 5.0);
  EXPECT_EQ(ToHex(got), ToHex(expected));
  auto count = c_->Call("count_work_units", A({B("ws1")}));
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, Tup({IntMap({{1, 2}}), Null()}));
}

TEST_F(WireTest, IndefiniteLengthEncodingsAreAccepted) {
  MakeSpec({{"wu1", M({})}});
  // {_ b"id": 3, b"method": (_ b"count_", b"work_units"), b"params": [_ b"ws1"]} inside tag 24,
  // plus an indefinite-length text key. Valid CBOR, if not what Python sends.
  std::string inner = Hex("BF 42 69 64 03");
  inner += Hex("46") + "method" + Hex("5F 46") + "count_" + Hex("4A") + "work_units" + Hex("FF");
  inner += Hex("7F 63") + "par" + Hex("63") + "ams" + Hex("FF");
  inner += Hex("9F 43") + "ws1" + Hex("FF FF");
  std::string frame;
  EncodeHead(6, Value::kTagEncodedCbor, &frame);
  EncodeHead(2, inner.size(), &frame);
  frame += inner;
  auto r = RawRoundTrip(*c_, frame);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, M({{"id", I(3)}, {"result", Tup({IntMap({{1, 1}}), Null()})}}));
}

// ---- value round trip (reference-behavior.md §2.3) -------------------------------------------

TEST_F(WireTest, ValueRoundTripFixtureKeepsCborTypes) {
  const std::string uuid_bytes("\x12\x34\x56\x78\x12\x34\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67",
                               16);
  const std::vector<std::pair<std::string, Value>> fixture = {
      {"list", A({I(1), I(2), I(3)})},
      {"tuple", Tup({I(4), I(5), I(6)})},
      {"mixed", A({I(1), Tup({I(2), A({I(3), I(4)})})})},
      {"uuid", Value::Uuid(uuid_bytes)},
      {"bytes", B("foo")},
      {"text", T("foo")},
      {"unicode", T("f\xc3\xbc")},
  };
  ASSERT_TRUE(c_->SetWorkSpec(M({{"name", B("ws1")}})).ok());
  Value items = A();
  Value all = Value::Map();
  for (const auto& [name, v] : fixture) {
    items.Append(Tup({B(name), M({{"v", v}})}));
    all.AppendEntry(B(name), v);
  }
  items.Append(Tup({B("zall"), all}));
  ASSERT_TRUE(c_->AddWorkUnits(B("ws1"), items).ok());

  // get_work_units by key: each unit's data exactly as stored.
  Value keys = A();
  for (const auto& [name, v] : fixture) keys.Append(B(name));
  keys.Append(B("zall"));
  auto listed = c_->Call("get_work_units", A({B("ws1"), M({{"work_unit_keys", keys}})}));
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_TRUE(listed->is_tuple());
  const auto& rows = listed->items()[0].items();
  ASSERT_EQ(rows.size(), fixture.size() + 1);
  for (size_t i = 0; i < fixture.size(); ++i) {
    SCOPED_TRACE(fixture[i].first);
    EXPECT_EQ(rows[i], Tup({B(fixture[i].first), M({{"v", fixture[i].second}})}))
        << rows[i].ToDiagnostic();
  }
  EXPECT_EQ(rows.back(), Tup({B("zall"), all})) << rows.back().ToDiagnostic();

  // And through get_work (all of them, key order): same data, same CBOR types.
  auto work = c_->Call("get_work", A({B("w"), M({{"max_jobs", I(100)}})}));
  ASSERT_TRUE(work.ok()) << work.status().ToString();
  std::vector<Value> got = work->items()[0].items();
  ASSERT_EQ(got.size(), fixture.size() + 1);
  Value zall;
  for (const Value& triple : got) {
    ASSERT_TRUE(triple.is_tuple() && triple.items().size() == 3) << triple.ToDiagnostic();
    EXPECT_EQ(triple.items()[0], B("ws1"));
    const std::string key = triple.items()[1].str();
    if (key == "zall") {
      zall = triple.items()[2];
      EXPECT_EQ(zall, all) << zall.ToDiagnostic();
      continue;
    }
    bool found = false;
    for (const auto& [name, v] : fixture) {
      if (name == key) {
        found = true;
        EXPECT_EQ(triple.items()[2], M({{"v", v}})) << triple.ToDiagnostic();
      }
    }
    EXPECT_TRUE(found) << key;
  }
  // What came back re-encodes with the tags: tuple 128, UUID 37 over 16 bytes.
  const std::string enc = EncodeCbor(zall);
  EXPECT_NE(enc.find(Hex("D8 80 83 04 05 06")), std::string::npos);
  EXPECT_NE(enc.find(Hex("D8 25 50") + uuid_bytes), std::string::npos);
}

}  // namespace
}  // namespace coordtest
