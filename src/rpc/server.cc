#include "rpc/server.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "common/cbor.h"
#include "rpc/envelope.h"

namespace coordinated::rpc {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// Live sessions, so Stop can drain them. Sessions remove themselves when destroyed.
struct SessionRegistry {
  std::mutex mu;
  std::unordered_map<void*, std::function<void(std::function<void()>)>> drainers;
};

class Server::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server* server)
      : socket_(std::move(socket)),
        strand_(asio::make_strand(server->io_)),
        timer_(strand_),
        server_(server),
        limits_(server->limits_),
        decoder_(server->limits_.decode),
        registry_(server->registry_) {
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    peer_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
    socket_.set_option(tcp::no_delay(true), ec);
  }

  ~Session() {
    server_->connections_.fetch_sub(1);
    std::lock_guard<std::mutex> lock(registry_->mu);
    registry_->drainers.erase(this);
  }

  void Start() {
    std::weak_ptr<Session> weak = shared_from_this();
    {
      std::lock_guard<std::mutex> lock(registry_->mu);
      // Drains on the session's strand, then calls `drained` (from that strand, or at once when
      // the session is already gone).
      registry_->drainers[this] = [weak](std::function<void()> drained) {
        auto s = weak.lock();
        if (!s) {
          drained();
          return;
        }
        asio::post(s->strand_, [s, drained = std::move(drained)] {
          s->Drain();
          drained();
        });
      };
    }
    auto self = shared_from_this();
    asio::post(strand_, [self] {
      self->last_activity_ = SteadyClock::now();
      self->ArmTimer();
      self->ReadMore();
    });
  }

 private:
  size_t outstanding() const { return next_seq_ - next_write_; }

  void ReadMore() {
    if (closed_ || reading_ || draining_ || finishing_ ||
        outstanding() >= limits_.max_outstanding) {
      return;
    }
    // A connection starts with a small buffer (most requests are small, and thousands of idle
    // workers must not cost 64 KiB each); it grows to kReadChunk once a read fills it.
    if (buf_.empty()) {
      buf_.resize(kFirstReadChunk);
    } else if (buf_.size() - len_ < kFirstReadChunk) {
      buf_.resize(len_ + kReadChunk);
    }
    reading_ = true;
    auto self = shared_from_this();
    socket_.async_read_some(
        asio::buffer(buf_.data() + len_, buf_.size() - len_),
        asio::bind_executor(
            strand_, [self](boost::system::error_code ec, size_t n) { self->OnRead(ec, n); }));
  }

  void OnRead(boost::system::error_code ec, size_t n) {
    reading_ = false;
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted) {
        spdlog::debug("connection {}: read error: {}", peer_, ec.message());
      }
      // The peer is gone for reading; replies still owed are written if the socket allows.
      peer_closed_ = true;
      MaybeFinish();
      return;
    }
    if (len_ == 0 && decoder_.item_bytes() == 0) frame_start_ = SteadyClock::now();
    len_ += n;
    last_activity_ = SteadyClock::now();
    Consume();
    ReadMore();
  }

  // Decodes and dispatches every complete message in the buffer, up to the outstanding limit.
  void Consume() {
    while (!closed_ && !draining_ && !finishing_ && len_ > 0 &&
           outstanding() < limits_.max_outstanding) {
      size_t consumed = 0;
      auto r = decoder_.Feed(buf_.data(), len_, &consumed);
      if (consumed > 0) {
        std::memmove(buf_.data(), buf_.data() + consumed, len_ - consumed);
        len_ -= consumed;
      }
      if (r == StreamDecoder::Result::kError) {
        SPDLOG_WARN("connection {}: undecodable message, closing: {}", peer_,
                    decoder_.error().ToString());
        FinishThenClose();
        return;
      }
      if (r == StreamDecoder::Result::kNeedMore) break;
      HandleItem(decoder_.TakeValue());
      frame_start_ = SteadyClock::now();
    }
    // Keep the buffer from staying huge after a large message.
    if (len_ == 0 && buf_.size() > 4 * kReadChunk) {
      buf_.resize(kReadChunk);
      buf_.shrink_to_fit();
    }
  }

  void HandleItem(Value item) {
    Value msg;
    if (item.is_tag() && item.tag() == Value::kTagEncodedCbor) {
      if (!item.tagged().is_bytes()) {
        SPDLOG_WARN("connection {}: tag 24 over a non-byte-string, closing", peer_);
        FinishThenClose();
        return;
      }
      auto inner = DecodeMessage(item.tagged().str(), limits_.decode);
      if (!inner.ok()) {
        SPDLOG_WARN("connection {}: undecodable message, closing: {}", peer_,
                    inner.status().ToString());
        FinishThenClose();
        return;
      }
      msg = std::move(inner).value();
    } else {
      msg = std::move(item);
    }
    if (msg.is_null()) {  // as the original daemon: a null request ends the conversation
      FinishThenClose();
      return;
    }
    const uint64_t seq = next_seq_++;
    auto self = shared_from_this();
    const int failures_before = conn_.auth_failures;
    server_->dispatcher_->Handle(std::move(msg), &conn_, [self, seq](Value reply) {
      asio::post(self->strand_, [self, seq, reply = std::move(reply)]() mutable {
        self->Deliver(seq, EncodeFrame(reply));
      });
    });
    if (conn_.auth_failures != failures_before) {
      SPDLOG_WARN("connection {}: auth with a wrong token ({} of {} allowed)", peer_,
                  conn_.auth_failures, kMaxAuthFailures);
      if (conn_.auth_failures >= kMaxAuthFailures) FinishThenClose();
    }
  }

  void Deliver(uint64_t seq, std::string bytes) {
    ready_.emplace(seq, std::move(bytes));
    WriteNext();
  }

  void WriteNext() {
    if (writing_ || closed_) return;
    write_buf_.clear();
    while (!ready_.empty() && ready_.begin()->first == next_write_ &&
           write_buf_.size() < kMaxWriteBatch) {
      write_buf_ += ready_.begin()->second;
      ready_.erase(ready_.begin());
      ++next_write_;
    }
    if (write_buf_.empty()) {
      MaybeFinish();
      return;
    }
    writing_ = true;
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(write_buf_),
                      asio::bind_executor(strand_, [self](boost::system::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) {
                          self->Close();
                          return;
                        }
                        self->last_activity_ = SteadyClock::now();
                        self->WriteNext();
                        self->Consume();
                        self->ReadMore();
                      }));
  }

  // Closes once nothing is owed, if the peer hung up, the server is draining, or the byte
  // stream broke (replies to the requests read before the break are still sent).
  void MaybeFinish() {
    if ((peer_closed_ || draining_ || finishing_) && outstanding() == 0 && !writing_) Close();
  }

  void FinishThenClose() {
    finishing_ = true;
    len_ = 0;
    MaybeFinish();
  }

  void Drain() {
    draining_ = true;
    MaybeFinish();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    timer_.cancel();
  }

  void ArmTimer() {
    double period = 1.0;
    if (limits_.idle_timeout_seconds > 0)
      period = std::min(period, limits_.idle_timeout_seconds / 4);
    if (limits_.read_timeout_seconds > 0)
      period = std::min(period, limits_.read_timeout_seconds / 4);
    period = std::max(period, 0.02);
    timer_.expires_after(
        std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(period)));
    auto self = shared_from_this();
    timer_.async_wait([self](boost::system::error_code ec) {
      if (ec || self->closed_) return;
      self->CheckTimeouts();
      if (!self->closed_) self->ArmTimer();
    });
  }

  void CheckTimeouts() {
    const auto now = SteadyClock::now();
    auto secs = [&](SteadyClock::time_point t) {
      return std::chrono::duration<double>(now - t).count();
    };
    const bool partial = len_ > 0 || decoder_.item_bytes() > 0;
    if (partial && limits_.read_timeout_seconds > 0 && !reading_paused() &&
        secs(frame_start_) > limits_.read_timeout_seconds) {
      SPDLOG_INFO("connection {}: message not completed within {}s, closing", peer_,
                  limits_.read_timeout_seconds);
      Close();
      return;
    }
    if (!partial && outstanding() == 0 && limits_.idle_timeout_seconds > 0 &&
        secs(last_activity_) > limits_.idle_timeout_seconds) {
      spdlog::debug("connection {}: idle for {}s, closing", peer_, limits_.idle_timeout_seconds);
      Close();
    }
  }

  bool reading_paused() const { return outstanding() >= limits_.max_outstanding; }

  static constexpr size_t kReadChunk = 64 * 1024;
  static constexpr size_t kFirstReadChunk = 4 * 1024;
  static constexpr size_t kMaxWriteBatch = 1 << 20;

  tcp::socket socket_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;
  Server* server_;
  const ServerLimits& limits_;
  StreamDecoder decoder_;
  std::shared_ptr<SessionRegistry> registry_;
  ConnectionState conn_;  // authentication state, touched only on strand_
  std::string peer_;
  std::vector<uint8_t> buf_;
  size_t len_ = 0;
  std::map<uint64_t, std::string> ready_;  // encoded replies waiting for their turn
  uint64_t next_seq_ = 0;                  // sequence number of the next request read
  uint64_t next_write_ = 0;                // sequence number of the next reply to write
  std::string write_buf_;
  bool reading_ = false;
  bool writing_ = false;
  bool closed_ = false;
  bool draining_ = false;
  bool finishing_ = false;  // stop reading; close once the owed replies are written
  bool peer_closed_ = false;
  SteadyClock::time_point last_activity_ = SteadyClock::now();
  SteadyClock::time_point frame_start_ = SteadyClock::now();
};

Server::Server(asio::io_context& io, Dispatcher* dispatcher, ServerLimits limits)
    : io_(io),
      acceptor_(io),
      dispatcher_(dispatcher),
      limits_(limits),
      registry_(std::make_shared<SessionRegistry>()) {}

Server::~Server() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

Status Server::Listen(const std::string& host, int port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("bad listen address '" + host + "': " + ec.message());
  tcp::endpoint ep(addr, static_cast<uint16_t>(port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IOError("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                           ec.message());
  }
  bound_port_ = acceptor_.local_endpoint(ec).port();
  return Status::Ok();
}

void Server::StartAccepting() { Accept(); }

void Server::Accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](boost::system::error_code ec,
                                                        tcp::socket socket) {
    if (stopping_) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      SPDLOG_WARN("accept failed: {}", ec.message());
      // Back off briefly on resource errors (EMFILE) instead of spinning.
      auto t = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(50));
      t->async_wait([this, t](boost::system::error_code) { Accept(); });
      return;
    }
    total_connections_.fetch_add(1);
    if (connections_.load() >= limits_.max_connections) {
      SPDLOG_WARN("connection limit {} reached, refusing a connection", limits_.max_connections);
      boost::system::error_code ignore;
      socket.close(ignore);
    } else {
      connections_.fetch_add(1);
      std::make_shared<Session>(std::move(socket), this)->Start();
    }
    Accept();
  });
}

void Server::Stop(double wait_seconds) {
  stopping_ = true;
  asio::post(io_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
  std::vector<std::function<void(std::function<void()>)>> drainers;
  {
    std::lock_guard<std::mutex> lock(registry_->mu);
    for (auto& [k, f] : registry_->drainers) drainers.push_back(f);
  }
  struct Latch {
    std::mutex mu;
    std::condition_variable cv;
    size_t left;
  };
  auto latch = std::make_shared<Latch>();
  latch->left = drainers.size();
  for (auto& f : drainers) {
    f([latch] {
      std::lock_guard<std::mutex> lock(latch->mu);
      if (--latch->left == 0) latch->cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(latch->mu);
  latch->cv.wait_for(lock, std::chrono::duration<double>(wait_seconds),
                     [&] { return latch->left == 0; });
}

}  // namespace coordinated::rpc
