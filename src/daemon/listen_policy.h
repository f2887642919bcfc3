// Protected mode: which listen addresses the daemon accepts, given its authentication setup.
//
// Neither the CBOR-RPC protocol nor the HTTP side port is encrypted, and the HTTP side port has
// no authentication at all. So, as Redis's protected mode does, the daemon refuses to start
// when a listener would be reachable from other machines without protection:
//
//  * the RPC listener on a non-loopback host needs an auth token (server.auth_token_file) or
//    server.allow_insecure_remote;
//  * the HTTP side port (when enabled) on a non-loopback host always needs
//    server.allow_insecure_remote, because the token does not cover it.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace coordinated::daemon {

// True for hosts that only this machine can reach: "localhost" (any case), IPv4 127.0.0.0/8,
// IPv6 ::1, and IPv4-mapped loopback (::ffff:127.x.y.z). Everything else, including 0.0.0.0,
// ::, other names and unparsable text, is false (treated as reachable from elsewhere).
bool IsLoopbackHost(std::string_view host);

struct ListenPolicyInput {
  std::string rpc_host;
  std::string http_host;
  bool http_enabled = true;
  bool auth_token_configured = false;
  bool allow_insecure_remote = false;
};

// OK when the listeners may be bound as configured; otherwise FailedPrecondition with a
// one-line message naming the host and the option that would allow it.
Status CheckListenPolicy(const ListenPolicyInput& in);

// True when a listener is allowed only because of allow_insecure_remote (the daemon logs a
// warning for it).
bool ListensInsecurelyOnRemote(const ListenPolicyInput& in);

}  // namespace coordinated::daemon
