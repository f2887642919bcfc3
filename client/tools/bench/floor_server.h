// FloorServer: an in-process CBOR-RPC echo server, the "floor" every daemon figure is compared to.
//
// It listens on 127.0.0.1 (port 0 by default), reads the frames the daemon reads (tag 24 over a
// byte string holding a request map, or a plain map; an array of requests is a batch) with the
// project's streaming decoder, and answers each request at once in the daemon's envelope
// (rpc::ResultReply, rpc::EncodeFrame) with a trivial result: `((None, None, None), None)` for
// get_work (the daemon's "no work" reply) and `(True, None)` for anything else. Nothing is
// stored and nothing is synced, so a client loop against it measures what the transport, the
// codec and the client cost: the most round trips per second the daemon could ever serve.
//
// Threading: `threads` threads run the io_context (the daemon's server.threads defaults to 2).
// A connection handles one read at a time: it answers every complete request in what it read,
// writes all the replies, then reads again, so replies keep request order.
// Thread-safety: Start/Stop from the owning thread only.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

// clang-format off
#include <utility>  // before Asio: Boost 1.74 needs std::exchange
#include <boost/asio.hpp>
// clang-format on

#include "common/status.h"

namespace coordinate::bench {

class FloorServer {
 public:
  explicit FloorServer(int threads = 2);
  ~FloorServer();  // Stop()
  FloorServer(const FloorServer&) = delete;
  FloorServer& operator=(const FloorServer&) = delete;

  // Binds 127.0.0.1:`port` (0: ephemeral) and starts serving. kUnavailable when it cannot bind.
  coordinated::Status Start(int port = 0);
  // Closes the listener and every connection, and joins the threads. Idempotent.
  void Stop();
  // "127.0.0.1:PORT" once started.
  std::string address() const;

 private:
  class Session;
  void Accept();

  int threads_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::thread> runners_;
  unsigned short port_ = 0;
};

}  // namespace coordinate::bench
