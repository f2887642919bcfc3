// Limits of the RPC server. Every limit is named here with the reason it exists; the daemon
// fills them from its configuration table (limits.* keys).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/cbor.h"

namespace coordinated::rpc {

struct ServerLimits {
  // Decoder limits for one message: bytes (default 64 MiB, since add_work_units batches can be
  // large), nesting depth (64: deeper data is never legitimate and recursion must stay bounded)
  // and data items (each costs ~80 bytes of memory whatever its wire size).
  DecodeLimits decode;
  // Open connections; above it new connections are accepted and closed at once, with a log line.
  // Past deployments ran 800+ workers against one daemon.
  size_t max_connections = 4096;
  // Requests read from one connection but not yet answered; reading pauses above it, so one
  // pipelining client cannot queue unbounded work.
  size_t max_outstanding = 256;
  // A connection with no request for this long is closed (0 = never). Python workers keep one
  // connection for the life of a job, so the default is generous; the client reconnects.
  double idle_timeout_seconds = 3600;
  // Once the first byte of a message arrived, the rest must arrive within this (slow senders
  // cannot hold buffers forever).
  double read_timeout_seconds = 60;
};

}  // namespace coordinated::rpc
