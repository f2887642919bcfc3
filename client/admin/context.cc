#include "context.h"

#include <fstream>
#include <sstream>
#include <string_view>

#include "errors.h"
#include "rpc_backend.h"
#include "store_backend.h"

namespace coordadmin {

Format Context::format() const {
  if (options.output == "json") return Format::kJson;
  if (options.output == "jsonl") return Format::kJsonl;
  return Format::kTable;
}

namespace {

// The token in `path`, trailing whitespace removed (as the daemon reads its copy).
std::string ReadToken(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Usage("cannot read --auth-token-file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token = ss.str();
  while (!token.empty() &&
         std::string_view(" \t\r\n\f\v").find(token.back()) != std::string_view::npos) {
    token.pop_back();
  }
  if (token.empty()) Usage("--auth-token-file " + path + " is empty");
  return token;
}

}  // namespace

std::string Context::address() const { return coordinate::ResolveAddress(options.addr); }

void Context::RequireOnline(const char* command) const {
  if (offline()) {
    Usage(std::string(command) + " works through the daemon; it cannot run with --data-dir");
  }
}

void Context::RequireOffline(const char* command) const {
  if (!offline()) {
    Usage(std::string(command) +
          " works on a data directory: give --data-dir DIR (with the "
          "daemon stopped)");
  }
}

coordinate::Client& Context::client(const char* command) {
  RequireOnline(command);
  if (!client_) {
    coordinate::ClientOptions o;
    o.address = address();
    o.timeout_seconds = options.timeout;
    o.retries = 1;
    o.base_retry_seconds = 0.2;
    if (!options.auth_token_file.empty()) o.auth_token = ReadToken(options.auth_token_file);
    auto c = std::make_unique<coordinate::Client>(o);
    Status s = c->Connect();
    if (s.code() == coordinated::Code::kUnauthenticated) {
      Fail(kExitFailed, "the daemon at " + o.address + " refused the auth token: " + s.message());
    }
    if (!s.ok())
      Fail(kExitUnavailable, "cannot connect to the daemon at " + o.address + ": " + s.message());
    client_ = std::move(c);
  }
  return *client_;
}

coordinated::storage::Store& Context::read_only_store() {
  if (!store_) {
    coordinated::storage::StoreOptions o;
    o.path = options.data_dir;
    o.read_only = true;
    o.create_if_missing = false;
    o.sync = false;
    auto s = coordinated::storage::Store::Open(o);
    if (!s.ok()) {
      Fail(kExitUnavailable,
           "cannot open data directory " + options.data_dir + ": " + s.status().message());
    }
    store_ = std::move(s).value();
  }
  return *store_;
}

std::unique_ptr<coordinated::storage::Store> Context::writable_store(bool create) {
  coordinated::storage::StoreOptions o;
  o.path = options.data_dir;
  o.create_if_missing = create;
  auto s = coordinated::storage::Store::Open(o);
  if (!s.ok()) {
    Fail(kExitUnavailable,
         "cannot open data directory " + options.data_dir +
             " for writing (is a daemon running on it?): " + s.status().message());
  }
  return std::move(s).value();
}

Backend& Context::backend() {
  if (!backend_) {
    if (offline()) {
      auto b = StoreBackend::Create(&read_only_store());
      if (!b.ok()) FailStatus(b.status(), "reading " + options.data_dir);
      backend_ = std::move(b).value();
    } else {
      backend_ = std::make_unique<RpcBackend>(&client("this command"));
    }
  }
  return *backend_;
}

}  // namespace coordadmin
