#include "daemon/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "daemon/metrics.h"
#include "daemon/version.h"

namespace coordinated::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

const std::string* HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

// State the sessions share with the server; it outlives the server while sessions exist.
struct HttpServer::Shared {
  HttpHandler* handler;
  HttpLimits limits;
  MetricsRegistry* metrics;
  std::atomic<size_t> connections{0};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::unordered_map<void*, std::function<void()>> closers;  // live sessions, for Stop
};

namespace {

std::chrono::steady_clock::duration Seconds(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(s));
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared, bool reject)
      : stream_(std::move(socket)), shared_(std::move(shared)), reject_(reject) {
    shared_->connections.fetch_add(1);
  }

  ~Session() {
    shared_->connections.fetch_sub(1);
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->closers.erase(this);
  }

  void Start() {
    std::weak_ptr<Session> weak = shared_from_this();
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->closers[this] = [weak] {
        if (auto s = weak.lock()) {
          asio::post(s->stream_.get_executor(), [s] { s->Close(); });
        }
      };
    }
    auto self = shared_from_this();
    asio::dispatch(stream_.get_executor(), [self] {
      if (self->reject_) {
        HttpResponse r;
        r.status = 503;
        r.body = "too many connections\n";
        self->Write(std::move(r), /*close=*/true);
      } else {
        self->Read();
      }
    });
  }

 private:
  void Read() {
    if (closed_ || shared_->stopping.load()) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->limits.max_header_bytes));
    parser_->body_limit(shared_->limits.max_body_bytes);
    stream_.expires_after(Seconds(shared_->limits.read_timeout_seconds));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (closed_) return;
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      return Close();
    }
    if (ec) {
      // A malformed or oversized request: say so, then close (the stream position is lost).
      HttpResponse r;
      r.status = ec == http::error::body_limit                                                ? 413
                 : ec == http::error::header_limit                                            ? 431
                 : ec.category() == http::make_error_code(http::error::bad_target).category() ? 400
                                                                                              : 0;
      if (r.status == 0) return Close();
      r.body = r.status == 413   ? "request body too large\n"
               : r.status == 431 ? "request header too large\n"
                                 : "bad request: " + ec.message() + "\n";
      spdlog::debug("http: bad request: {}", ec.message());
      return Write(std::move(r), /*close=*/true);
    }
    auto msg = parser_->release();
    parser_.reset();
    const bool keep_alive = msg.keep_alive();
    HttpRequest req;
    const auto method = msg.method_string();
    const auto target = msg.target();
    req.method.assign(method.data(), method.size());
    req.target.assign(target.data(), target.size());
    const size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    req.query = q == std::string::npos ? "" : req.target.substr(q + 1);
    for (const auto& field : msg) {
      const auto name = field.name_string();
      const auto value = field.value();
      req.headers.emplace_back(ToLower(std::string_view(name.data(), name.size())),
                               std::string(value.data(), value.size()));
    }
    req.body = std::move(msg.body());
    // No deadline while the handler works: nothing is pending on the socket meanwhile.
    stream_.expires_never();
    auto self = shared_from_this();
    shared_->handler->Handle(std::move(req), [self, keep_alive](HttpResponse res) {
      asio::post(self->stream_.get_executor(), [self, keep_alive, res = std::move(res)]() mutable {
        self->Write(std::move(res), !keep_alive);
      });
    });
  }

  void Write(HttpResponse r, bool close) {
    if (closed_) return;
    if (r.lazy_body) {
      try {
        r.body = r.lazy_body();
      } catch (const std::exception& e) {
        r.status = 500;
        r.content_type = "text/plain; charset=utf-8";
        r.body = std::string("internal error: ") + e.what() + "\n";
      }
    }
    if (shared_->stopping.load()) close = true;
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::server, std::string("coordinated/") + kVersion);
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : r.headers) res->set(k, v);
    res->keep_alive(!close);
    res->body() = std::move(r.body);
    res->prepare_payload();
    if (shared_->metrics) shared_->metrics->CountHttp(r.status);
    stream_.expires_after(Seconds(shared_->limits.write_timeout_seconds));
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, close](beast::error_code ec, size_t) {
                        if (ec || close) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Shared> shared_;
  bool reject_;
  bool closed_ = false;
};

HttpServer::HttpServer(asio::io_context& io, HttpHandler* handler, HttpLimits limits,
                       MetricsRegistry* metrics)
    : io_(io),
      strand_(asio::make_strand(io)),
      acceptor_(strand_),
      shared_(std::make_shared<Shared>()) {
  shared_->handler = handler;
  shared_->limits = limits;
  shared_->metrics = metrics;
}

HttpServer::~HttpServer() {
  shared_->stopping.store(true);
  boost::system::error_code ec;
  acceptor_.close(ec);
}

Status HttpServer::Listen(const std::string& host, int port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("bad HTTP listen address '" + host + "': " + ec.message());
  tcp::endpoint ep(addr, static_cast<uint16_t>(port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IOError("cannot listen for HTTP on " + host + ":" + std::to_string(port) + ": " +
                           ec.message());
  }
  bound_port_ = acceptor_.local_endpoint(ec).port();
  return Status::Ok();
}

void HttpServer::StartAccepting() {
  asio::dispatch(strand_, [this] { Accept(); });
}

void HttpServer::Accept() {
  if (shared_->stopping.load() || !acceptor_.is_open()) return;
  acceptor_.async_accept(
      asio::make_strand(io_),
      [this, shared = shared_](boost::system::error_code ec, tcp::socket socket) {
        if (shared->stopping.load()) return;
        if (ec) {
          if (ec == asio::error::operation_aborted) return;
          SPDLOG_WARN("http: accept failed: {}", ec.message());
          // Out of descriptors and the like: try again shortly rather than spin.
          auto timer =
              std::make_shared<asio::steady_timer>(strand_, std::chrono::milliseconds(100));
          timer->async_wait([this, timer, shared](boost::system::error_code) {
            if (!shared->stopping.load()) Accept();
          });
          return;
        }
        const bool reject = shared->connections.load() >= shared->limits.max_connections;
        std::make_shared<Session>(std::move(socket), shared, reject)->Start();
        Accept();
      });
}

void HttpServer::Stop() {
  shared_->stopping.store(true);
  asio::post(strand_, [this, shared = shared_] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
  std::vector<std::function<void()>> closers;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    for (auto& [_, fn] : shared_->closers) closers.push_back(fn);
  }
  for (auto& fn : closers) fn();
}

size_t HttpServer::connections() const { return shared_->connections.load(); }

}  // namespace coordinated::daemon
