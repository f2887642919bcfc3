// Context: the global options of coordinate-admin and the connections they lead to, opened
// lazily: a Client for --addr (or $COORDINATE_ADDR, or 127.0.0.1:5932), or a Store for
// --data-dir.
#pragma once

#include <memory>
#include <string>

#include "backend.h"
#include "coordinate/client.h"
#include "output.h"
#include "storage/store.h"

namespace coordadmin {

struct GlobalOptions {
  std::string addr;
  std::string auth_token_file;  // the daemon's token (server.auth_token_file), sent with auth()
  std::string data_dir;
  std::string output = "table";
  bool no_header = false;
  double timeout = 30;
};

class Context {
 public:
  GlobalOptions options;

  Format format() const;
  bool offline() const { return !options.data_dir.empty(); }
  // host:port of the daemon (--addr, then $COORDINATE_ADDR, then the default).
  std::string address() const;

  // The daemon; exits 3 when it cannot be reached, 2 in offline mode.
  coordinate::Client& client(const char* command);
  // The data directory opened read-only; exits 3 when it cannot be opened.
  coordinated::storage::Store& read_only_store();
  // The data directory opened for writing (`create`: make it when missing); exits 3 when it
  // cannot be opened (for example while a daemon holds it).
  std::unique_ptr<coordinated::storage::Store> writable_store(bool create);
  // The read side: the daemon, or the read-only data directory.
  Backend& backend();

  // Exits 2 unless the mode fits the command.
  void RequireOnline(const char* command) const;
  void RequireOffline(const char* command) const;

 private:
  std::unique_ptr<coordinate::Client> client_;
  std::unique_ptr<coordinated::storage::Store> store_;
  std::unique_ptr<Backend> backend_;
};

}  // namespace coordadmin
