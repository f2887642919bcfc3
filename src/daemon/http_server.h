// HttpServer: the HTTP/1.1 side port (Boost.Beast) on the daemon's io_context, beside the
// CBOR-RPC listener.
//
// One Session per connection, serialised on its own strand: read one request (header and body
// limits, a read deadline), hand it to the HttpHandler, and write the response when the handler
// answers, which may be later and from another thread (the sequencer): the reply is posted back
// to the session's strand, so no io thread ever waits. Keep-alive is honoured; requests on one
// connection are answered one at a time, in order. A request that does not parse gets 400 (413
// for a body over the limit, 431 for headers over the limit) and the connection is closed;
// nothing a client sends can stop the listener.
//
// Thread-safety: Listen/StartAccepting/Stop from the owner thread; the io_context may be run by
// many threads. The handler may call HttpReply from any thread, exactly once.
#pragma once

// clang-format off
#include <utility>  // before Asio: Boost 1.74 awaitable.hpp needs std::exchange
#include <boost/asio.hpp>
// clang-format on

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace coordinated::daemon {

class MetricsRegistry;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // target before '?', still percent-encoded
  std::string query;   // target after '?' ("" when none)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // The value of a header (name lower-case), or nullptr.
  const std::string* Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // When set, called on the connection's strand to produce the body (so rendering work, e.g.
  // JSON serialisation of data gathered on the sequencer thread, happens on an io thread).
  std::function<std::string()> lazy_body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

using HttpReply = std::function<void(HttpResponse)>;

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Must call `reply` exactly once, from any thread, now or later.
  virtual void Handle(HttpRequest request, HttpReply reply) = 0;
};

struct HttpLimits {
  size_t max_connections = 256;  // more are answered 503 and closed
  uint64_t max_header_bytes = 16 * 1024;
  uint64_t max_body_bytes = 64 * 1024;
  double read_timeout_seconds = 30;  // a request must arrive within this (also keep-alive idle)
  double write_timeout_seconds = 30;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpHandler* handler, HttpLimits limits,
             MetricsRegistry* metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (SO_REUSEADDR); port 0 picks an ephemeral port.
  Status Listen(const std::string& host, int port);
  uint16_t bound_port() const { return bound_port_; }
  void StartAccepting();
  // Stops accepting and closes every connection (responses in flight are dropped).
  void Stop();

  size_t connections() const;

 private:
  struct Shared;
  class Session;
  void Accept();

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<Shared> shared_;
  uint16_t bound_port_ = 0;
};

}  // namespace coordinated::daemon
