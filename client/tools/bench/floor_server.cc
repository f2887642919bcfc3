#include "floor_server.h"

#include <array>

#include "common/cbor.h"
#include "common/value.h"
#include "rpc/envelope.h"

namespace coordinate::bench {

using boost::asio::ip::tcp;
using coordinated::DecodeCbor;
using coordinated::Status;
using coordinated::StreamDecoder;
using coordinated::Value;

namespace {

Value TrivialResult(const std::string& method) {
  if (method == "get_work") {
    return Value::Tuple({Value::Tuple({Value(), Value(), Value()}), Value()});
  }
  return Value::Tuple({Value::Bool(true), Value()});
}

// The reply to one request map (an error reply when it is not a request).
Value Answer(const Value& msg) {
  auto req = coordinated::rpc::ParseRequest(msg);
  if (!req.ok()) {
    const Value* id = msg.is_map() ? msg.FindKey("id") : nullptr;
    return coordinated::rpc::ErrorReply(id ? *id : Value(), req.status());
  }
  return coordinated::rpc::ResultReply(req->id, TrivialResult(req->method));
}

}  // namespace

class FloorServer::Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}

  void Read() {
    auto self = shared_from_this();
    socket_.async_read_some(boost::asio::buffer(buf_),
                            [self](boost::system::error_code ec, size_t n) {
                              if (ec) return;  // closed: the session ends with its last handler
                              self->Consume(n);
                            });
  }

 private:
  void Consume(size_t n) {
    pending_.append(buf_.data(), n);
    std::string out;
    while (!pending_.empty()) {
      size_t consumed = 0;
      auto r = decoder_.Feed(reinterpret_cast<const uint8_t*>(pending_.data()), pending_.size(),
                             &consumed);
      pending_.erase(0, consumed);
      if (r == StreamDecoder::Result::kError) return;  // like the daemon: close the connection
      if (r == StreamDecoder::Result::kNeedMore) break;
      Value item = decoder_.TakeValue();
      if (item.is_tag() && item.tag() == Value::kTagEncodedCbor && item.tagged().is_bytes()) {
        auto inner = DecodeCbor(item.tagged().str());
        if (!inner.ok()) return;
        item = std::move(inner).value();
      }
      Value reply;
      if (item.is_array()) {
        reply = Value::Array();
        for (const Value& request : item.items()) reply.Append(Answer(request));
      } else {
        reply = Answer(item);
      }
      out += coordinated::rpc::EncodeFrame(reply);
    }
    if (out.empty()) {
      Read();
      return;
    }
    out_ = std::move(out);
    auto self = shared_from_this();
    boost::asio::async_write(socket_, boost::asio::buffer(out_),
                             [self](boost::system::error_code ec, size_t) {
                               if (!ec) self->Read();
                             });
  }

  tcp::socket socket_;
  std::array<char, 65536> buf_;
  std::string pending_;  // bytes read but not yet absorbed by the decoder
  std::string out_;      // replies being written
  StreamDecoder decoder_;
};

FloorServer::FloorServer(int threads) : threads_(threads < 1 ? 1 : threads), acceptor_(io_) {}

FloorServer::~FloorServer() { Stop(); }

Status FloorServer::Start(int port) {
  boost::system::error_code ec;
  tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Unavailable("floor server cannot listen: " + ec.message());
  port_ = acceptor_.local_endpoint().port();
  Accept();
  for (int i = 0; i < threads_; ++i) runners_.emplace_back([this] { io_.run(); });
  return Status::Ok();
}

void FloorServer::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) return;  // the acceptor was closed
    socket.set_option(tcp::no_delay(true), ec);
    std::make_shared<Session>(std::move(socket))->Read();
    Accept();
  });
}

void FloorServer::Stop() {
  if (runners_.empty()) return;
  io_.stop();
  for (auto& t : runners_) t.join();
  runners_.clear();
  boost::system::error_code ec;
  acceptor_.close(ec);
}

std::string FloorServer::address() const { return "127.0.0.1:" + std::to_string(port_); }

}  // namespace coordinate::bench
