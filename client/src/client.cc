#include "coordinate/client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace coordinate {

using coordinated::Code;
using coordinated::DecodeCbor;
using coordinated::EncodeCbor;
using coordinated::StreamDecoder;

namespace {

// Maps an error reply's "Class: message" back to a Status code.
Status ErrorStatus(const Value& error) {
  std::string message = "error reply";
  if (const Value* m = error.FindKey("message"); m && m->is_string()) message = m->str();
  static const std::pair<std::string_view, Code> kClasses[] = {
      {"NotFound", Code::kNotFound},
      {"AlreadyExists", Code::kAlreadyExists},
      {"InvalidArgument", Code::kInvalidArgument},
      {"FailedPrecondition", Code::kFailedPrecondition},
      {"ResourceExhausted", Code::kResourceExhausted},
      {"Corruption", Code::kCorruption},
      {"IOError", Code::kIOError},
      {"Unavailable", Code::kUnavailable},
      {"NoSuchMethod", Code::kNoSuchMethod},
      {"Unauthenticated", Code::kUnauthenticated},
  };
  for (const auto& [name, code] : kClasses) {
    if (message.size() > name.size() + 1 && message.compare(0, name.size(), name) == 0 &&
        message[name.size()] == ':') {
      return Status(code, message.substr(name.size() + 2));
    }
  }
  return Status(Code::kInternal, message);
}

double Seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string ResolveAddress(const std::string& explicit_address) {
  if (!explicit_address.empty()) return explicit_address;
  if (const char* env = std::getenv("COORDINATE_ADDR"); env && *env) return env;
  return "127.0.0.1:5932";
}

Client::Client(ClientOptions options)
    : options_(std::move(options)), address_(ResolveAddress(options_.address)) {}

Client::~Client() { Close(); }

void Client::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  rcvtimeo_ms_ = 0;
  inbuf_.clear();
  decoder_.reset();
}

Status Client::Connect() {
  Close();
  auto colon = address_.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("address must be HOST:PORT, got '" + address_ + "'");
  }
  std::string host = address_.substr(0, colon);
  const std::string port = address_.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return Status::Unavailable("cannot resolve " + address_ + ": " + gai_strerror(rc));
  }
  Status last = Status::Unavailable("cannot connect to " + address_);
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fd_ = fd;
      break;
    }
    last = Status::Unavailable("cannot connect to " + address_ + ": " + std::strerror(errno));
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) return last;
  decoder_ = std::make_unique<StreamDecoder>(options_.limits);
  if (!options_.auth_token.empty()) {
    Status s = Authenticate();
    if (!s.ok()) {
      Close();
      return s;
    }
  }
  return Status::Ok();
}

Status Client::Authenticate() {
  const uint64_t id = next_id_++;
  COORD_RETURN_IF_ERROR(SendFrame(Envelope("auth", A({B(options_.auth_token)}), id)));
  auto reply = ReadMessage(options_.timeout_seconds);
  if (!reply.ok()) return reply.status();
  auto result = ResultOf(std::move(reply).value(), id);
  if (!result.ok()) return result.status();
  return Status::Ok();
}

Status Client::SendRaw(std::string_view bytes) {
  if (fd_ < 0) COORD_RETURN_IF_ERROR(Connect());
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Status::IOError(std::string("send failed: ") + std::strerror(errno));
      Close();
      return s;
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status Client::SendFrame(const Value& message) {
  // The message is encoded behind room for the frame's head (tag 24, then the byte string's
  // head: at most 2 + 9 bytes), which goes in front of it once its length is known, so a big
  // request (a batch of work units) is not copied again.
  constexpr size_t kRoom = 16;
  std::string frame(kRoom, '\0');
  EncodeCbor(message, &frame);
  std::string head;
  coordinated::EncodeHead(6, Value::kTagEncodedCbor, &head);
  coordinated::EncodeHead(2, frame.size() - kRoom, &head);
  std::memcpy(frame.data() + kRoom - head.size(), head.data(), head.size());
  return SendRaw(std::string_view(frame).substr(kRoom - head.size()));
}

StatusOr<Value> Client::ReadMessage(double timeout_seconds) {
  if (fd_ < 0) return Status::Unavailable("not connected");
  const double deadline = Seconds() + timeout_seconds;
  while (true) {
    if (!inbuf_.empty()) {
      size_t consumed = 0;
      auto r =
          decoder_->Feed(reinterpret_cast<const uint8_t*>(inbuf_.data()), inbuf_.size(), &consumed);
      inbuf_.erase(0, consumed);
      if (r == StreamDecoder::Result::kError) {
        Status s = decoder_->error();
        Close();
        return Status::IOError("undecodable reply: " + s.ToString());
      }
      if (r == StreamDecoder::Result::kDone) {
        Value v = decoder_->TakeValue();
        if (v.is_tag() && v.tag() == Value::kTagEncodedCbor && v.tagged().is_bytes()) {
          auto inner = DecodeCbor(v.tagged().str(), options_.limits);
          if (!inner.ok()) {
            Close();
            return Status::IOError("undecodable reply: " + inner.status().ToString());
          }
          return inner;
        }
        return v;
      }
    }
    const double left = deadline - Seconds();
    if (left <= 0) {
      Close();
      return Status::Unavailable("timed out waiting for a reply from " + address_);
    }
    // Wait in recv itself, bounded by the socket's receive timeout, rather than in a poll
    // before it: one system call per read instead of two.
    if (!BoundReceive(static_cast<int64_t>(std::ceil(left * 1000)))) {
      pollfd p{fd_, POLLIN, 0};  // no receive timeout on this socket: wait here instead
      int rc = ::poll(&p, 1, static_cast<int>(left * 1000) + 1);
      if (rc <= 0) continue;
    }
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) {
      Close();
      return Status::IOError(n == 0 ? "connection closed by the server"
                                    : std::string("recv failed: ") + std::strerror(errno));
    }
    inbuf_.append(buf, static_cast<size_t>(n));
  }
}

bool Client::BoundReceive(int64_t left_ms) {
  left_ms = std::max<int64_t>(left_ms, 1);
  if (rcvtimeo_ms_ != 0 && rcvtimeo_ms_ <= left_ms + 1 && rcvtimeo_ms_ * 2 >= left_ms) {
    return true;
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(left_ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((left_ms % 1000) * 1000);
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
    rcvtimeo_ms_ = 0;
    return false;
  }
  rcvtimeo_ms_ = left_ms;
  return true;
}

Value Client::Envelope(std::string_view method, Value params, uint64_t id) const {
  return M({{"id", Value::UInt(id)}, {"method", B(method)}, {"params", std::move(params)}});
}

StatusOr<Value> Client::ResultOf(Value reply, uint64_t id) const {
  if (!reply.is_map()) return Status::IOError("reply is not a map: " + reply.ToDiagnostic());
  const Value* rid = reply.FindKey("id");
  if (!rid || !(*rid == Value::UInt(id))) {
    return Status::IOError("reply id does not match the request id " + std::to_string(id));
  }
  if (const Value* err = reply.FindKey("error")) return ErrorStatus(*err);
  if (Value* res = reply.FindMutableKey("result")) return std::move(*res);
  return Status::IOError("reply has neither result nor error");
}

StatusOr<Value> Client::Call(std::string_view method, Value params) {
  const uint64_t id = next_id_++;
  const Value msg = Envelope(method, std::move(params), id);
  double backoff = options_.base_retry_seconds;
  for (int attempt = 0;; ++attempt) {
    Status s = SendFrame(msg);
    if (s.ok()) {
      auto reply = ReadMessage(options_.timeout_seconds);
      if (reply.ok()) return ResultOf(std::move(reply).value(), id);
      s = reply.status();
    }
    // Transport failure: reconnect and resend, as the Python client does. A refused auth
    // token would be refused again.
    if (attempt >= options_.retries || s.code() == Code::kUnauthenticated) return s;
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
    backoff *= 2;
    Close();
  }
}

std::vector<StatusOr<Value>> Client::Pipeline(
    const std::vector<std::pair<std::string, Value>>& calls) {
  std::vector<StatusOr<Value>> out;
  std::vector<uint64_t> ids;
  std::string frames;
  for (const auto& [method, params] : calls) {
    ids.push_back(next_id_++);
    std::string inner = EncodeCbor(Envelope(method, params, ids.back()));
    coordinated::EncodeHead(6, Value::kTagEncodedCbor, &frames);
    coordinated::EncodeHead(2, inner.size(), &frames);
    frames += inner;
  }
  Status s = SendRaw(frames);
  for (uint64_t id : ids) {
    if (!s.ok()) {
      out.push_back(s);
      continue;
    }
    auto reply = ReadMessage(options_.timeout_seconds);
    if (!reply.ok()) {
      s = reply.status();
      out.push_back(s);
      continue;
    }
    out.push_back(ResultOf(std::move(reply).value(), id));
  }
  return out;
}

std::vector<StatusOr<Value>> Client::Batch(
    const std::vector<std::pair<std::string, Value>>& calls) {
  std::vector<StatusOr<Value>> out;
  Value batch = Value::Array();
  std::vector<uint64_t> ids;
  for (const auto& [method, params] : calls) {
    ids.push_back(next_id_++);
    batch.Append(Envelope(method, params, ids.back()));
  }
  Status s = SendFrame(batch);
  StatusOr<Value> reply = s.ok() ? ReadMessage(options_.timeout_seconds) : StatusOr<Value>(s);
  if (!reply.ok() || !reply->is_array() || reply->items().size() != ids.size()) {
    Status err = reply.ok() ? Status::IOError("batch reply has the wrong shape") : reply.status();
    for (size_t i = 0; i < ids.size(); ++i) out.push_back(err);
    return out;
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    out.push_back(ResultOf(std::move(reply->mutable_items()[i]), ids[i]));
  }
  return out;
}

// ---- typed conveniences ------------------------------------------------------------------

namespace {
// (True, None) -> OK; (False, msg) -> FailedPrecondition(msg).
Status OkPair(const StatusOr<Value>& r) {
  if (!r.ok()) return r.status();
  if (r->is_sequence() && r->items().size() == 2 && r->items()[0].is_bool()) {
    if (r->items()[0].as_bool()) return Status::Ok();
    const Value& m = r->items()[1];
    return Status::FailedPrecondition(m.is_string() ? m.str() : m.ToDiagnostic());
  }
  return Status::IOError("unexpected reply " + r->ToDiagnostic());
}
}  // namespace

Status Client::SetWorkSpec(const Value& spec) { return OkPair(Call("set_work_spec", A({spec}))); }

Status Client::AddWorkUnits(const Value& spec, Value items) {
  Value params = A({spec});
  params.Append(std::move(items));  // a batch can be big: moved, not copied
  return OkPair(Call("add_work_units", std::move(params)));
}

Status Client::UpdateWorkUnit(const Value& spec, const Value& key, const Value& options) {
  return OkPair(Call("update_work_unit", A({spec, key, options})));
}

StatusOr<std::vector<std::vector<Value>>> Client::GetWork(const Value& worker, int max_jobs,
                                                          double lease_seconds) {
  auto r = Call(
      "get_work",
      A({worker, M({{"max_jobs", I(max_jobs)}, {"lease_time", Value::Double(lease_seconds)}})}));
  if (!r.ok()) return r.status();
  if (!r->is_sequence() || r->items().size() != 2) {
    return Status::IOError("unexpected get_work reply " + r->ToDiagnostic());
  }
  std::vector<std::vector<Value>> out;
  const Value& body = r->items()[0];
  if (max_jobs == 1) {
    if (body.is_sequence() && body.items().size() == 3 && !body.items()[0].is_null()) {
      out.push_back(body.items());
    }
  } else if (body.is_sequence()) {
    for (const auto& t : body.items()) out.push_back(t.items());
  }
  return out;
}

}  // namespace coordinate
