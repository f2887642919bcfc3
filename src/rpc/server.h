// Server: the CBOR-RPC TCP listener and its connections (Boost.Asio).
//
// One Session per connection reads bytes, decodes complete CBOR items incrementally (tag 24
// wrapped or plain), hands each request to the Dispatcher and writes replies strictly in request
// order, even when later requests finish first. Limits (ServerLimits) are enforced per
// connection: outstanding requests (reading pauses), idle and per-message read timeouts, and the
// decoder limits. A message that cannot be decoded closes its connection (there is no way to
// find the next message boundary); everything else gets an error reply. Each session keeps its
// ConnectionState (whether it called auth with the right token) and hands it to the dispatcher
// with every request; after kMaxAuthFailures wrong tokens it closes once the replies it owes are
// written.
//
// Thread-safety: Start/Stop from the owner thread; the io_context may be run by many threads
// (each session serializes itself on a strand).
#pragma once

// clang-format off
#include <utility>  // before Asio: Boost 1.74 awaitable.hpp needs std::exchange
#include <boost/asio.hpp>
// clang-format on

#include <atomic>
#include <memory>
#include <string>

#include "common/status.h"
#include "rpc/dispatcher.h"
#include "rpc/limits.h"

namespace coordinated::rpc {

class Server {
 public:
  Server(boost::asio::io_context& io, Dispatcher* dispatcher, ServerLimits limits);
  ~Server();

  // Binds and listens (SO_REUSEADDR), port 0 picks an ephemeral port.
  Status Listen(const std::string& host, int port);
  uint16_t bound_port() const { return bound_port_; }
  void StartAccepting();
  // Stops accepting and closes idle connections; connections with requests in flight close
  // after their replies are written. Returns once every connection has stopped reading new
  // requests (or after `wait_seconds`), so requests already handed to the dispatcher are all
  // the work left. Call from a thread that is not running the io_context.
  void Stop(double wait_seconds = 5);

  size_t connections() const { return connections_.load(); }
  uint64_t total_connections() const { return total_connections_.load(); }

 private:
  class Session;
  void Accept();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Dispatcher* dispatcher_;
  ServerLimits limits_;
  uint16_t bound_port_ = 0;
  std::atomic<size_t> connections_{0};
  std::atomic<uint64_t> total_connections_{0};
  std::atomic<bool> stopping_{false};
  std::shared_ptr<struct SessionRegistry> registry_;
};

}  // namespace coordinated::rpc
