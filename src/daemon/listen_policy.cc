#include "daemon/listen_policy.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <cstring>

namespace coordinated::daemon {

bool IsLoopbackHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string lower(host);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, lower.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, lower.c_str(), &v6) == 1) {
    if (std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0) return true;
    static const uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(v6.s6_addr, kMappedPrefix, sizeof kMappedPrefix) == 0 &&
           v6.s6_addr[12] == 127;
  }
  return false;
}

Status CheckListenPolicy(const ListenPolicyInput& in) {
  if (!IsLoopbackHost(in.rpc_host) && !in.auth_token_configured && !in.allow_insecure_remote) {
    return Status::FailedPrecondition(fmt::format(
        "refusing to listen on non-loopback host '{}' without authentication: set "
        "server.auth_token_file (--auth-token-file FILE), or pass --allow-insecure-remote "
        "(server.allow_insecure_remote) to serve unauthenticated clients from other machines",
        in.rpc_host));
  }
  if (in.http_enabled && !IsLoopbackHost(in.http_host) && !in.allow_insecure_remote) {
    return Status::FailedPrecondition(fmt::format(
        "refusing to serve the HTTP side port on non-loopback host '{}': it has no "
        "authentication (server.auth_token_file does not cover it); keep http.host on loopback, "
        "pass --no-http, or pass --allow-insecure-remote (server.allow_insecure_remote)",
        in.http_host));
  }
  return Status::Ok();
}

bool ListensInsecurelyOnRemote(const ListenPolicyInput& in) {
  return (!IsLoopbackHost(in.rpc_host) && !in.auth_token_configured) ||
         (in.http_enabled && !IsLoopbackHost(in.http_host));
}

}  // namespace coordinated::daemon
