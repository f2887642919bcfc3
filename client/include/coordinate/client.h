// coordinate::Client: a C++ client for coordinated's CBOR-RPC protocol.
//
// One Client owns one TCP connection, opened lazily. Call() sends a request (tag-24 framed, as
// the Python client does) and returns its `result`; an error reply becomes a Status whose code
// comes from the message's class-like prefix ("InvalidArgument: ..."). Transport failures are
// retried like the Python client: reconnect and resend, up to `retries` times, sleeping
// `base_retry_seconds` doubling each time. Pipeline() sends many requests before reading their
// replies; Batch() sends one array request and gets one array reply.
//
// Address resolution: the caller's address, else $COORDINATE_ADDR, else 127.0.0.1:5932.
// Thread-safety: a Client is not thread-safe; use one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/cbor.h"
#include "common/status.h"
#include "common/value.h"

namespace coordinate {

using coordinated::Status;
using coordinated::StatusOr;
using coordinated::Value;

struct ClientOptions {
  std::string address;              // host:port; empty = $COORDINATE_ADDR or 127.0.0.1:5932
  double timeout_seconds = 30;      // connect and per-reply timeout
  int retries = 5;                  // reconnect+resend attempts after a transport failure
  double base_retry_seconds = 0.5;  // first back-off; doubles each attempt
  coordinated::DecodeLimits limits;
  // Non-empty: every new connection (the first and each reconnect) calls auth(auth_token)
  // before anything else; a refused token fails Connect and the call with kUnauthenticated,
  // which is never retried. Needed when the daemon has server.auth_token_file.
  std::string auth_token;
};

// host:port from an explicit value, then COORDINATE_ADDR, then the default.
std::string ResolveAddress(const std::string& explicit_address);

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Opens the connection now (Call does it lazily), and authenticates it when
  // options.auth_token is set. kUnavailable when nothing listens, kUnauthenticated when the
  // daemon refuses the token.
  Status Connect();
  void Close();
  bool connected() const { return fd_ >= 0; }

  // One call; params is an array (positional) or a map (keyword arguments).
  StatusOr<Value> Call(std::string_view method, Value params = Value::Array());
  // Sends every call, then reads every reply (in order). No retries.
  std::vector<StatusOr<Value>> Pipeline(const std::vector<std::pair<std::string, Value>>& calls);
  // One batch request (an array of request maps) answered by one array of replies.
  std::vector<StatusOr<Value>> Batch(const std::vector<std::pair<std::string, Value>>& calls);

  // Low level, for tests: send raw bytes; read one reply message (the decoded inner value).
  Status SendRaw(std::string_view bytes);
  StatusOr<Value> ReadMessage(double timeout_seconds);

  // ---- typed conveniences ----------------------------------------------------------------
  Status SetWorkSpec(const Value& spec);
  // `items` is moved into the request (pass std::move(items) to avoid a copy).
  Status AddWorkUnits(const Value& spec, Value items);
  // (spec, key, data) triples; an empty vector when there is no work.
  StatusOr<std::vector<std::vector<Value>>> GetWork(const Value& worker, int max_jobs,
                                                    double lease_seconds = 300);
  Status UpdateWorkUnit(const Value& spec, const Value& key, const Value& options);

  const std::string& address() const { return address_; }

 private:
  Value Envelope(std::string_view method, Value params, uint64_t id) const;
  Status SendFrame(const Value& message);
  // Sends auth(options_.auth_token) on the fresh connection and checks the reply.
  Status Authenticate();
  StatusOr<Value> ResultOf(Value reply, uint64_t id) const;
  // Bounds the next blocking recv by about `left_ms` milliseconds (SO_RCVTIMEO). The socket's
  // timeout is changed only when it would overrun that or is far shorter, so a reply read
  // with the usual timeout costs one recv and no other system call. False when the timeout
  // could not be set (the caller then waits in poll).
  bool BoundReceive(int64_t left_ms);

  ClientOptions options_;
  std::string address_;
  int fd_ = -1;
  int64_t rcvtimeo_ms_ = 0;  // the socket's SO_RCVTIMEO (0: none set, recv waits forever)
  uint64_t next_id_ = 1;
  std::string inbuf_;
  std::unique_ptr<coordinated::StreamDecoder> decoder_;
};

// Builds a map with byte-string keys, as Python 2 clients did.
inline Value M(std::initializer_list<std::pair<std::string_view, Value>> kv) {
  return coordinated::MapOf(kv);
}
inline Value B(std::string_view s) { return Value::Bytes(s); }
inline Value T(std::string_view s) { return Value::Text(s); }
inline Value I(int64_t i) { return Value::Int(i); }
inline Value A(std::vector<Value> v = {}) { return Value::Array(std::move(v)); }
inline Value Tup(std::vector<Value> v = {}) { return Value::Tuple(std::move(v)); }

}  // namespace coordinate
