// Reading the shared RPC auth token (server.auth_token_file) at start-up.
//
// The file holds the token as its whole content; trailing whitespace (the newline an editor or
// `echo` adds) is removed, nothing else is changed. The file must be a regular file that only
// its owner may read or write: any group or other permission bit (mode & 077) is refused, like
// ssh refuses a private key others can read.
//
// Thread-safety: a pure function of the file system.
#pragma once

#include <string>

#include "common/status.h"

namespace coordinated::daemon {

// The token. Errors (the message names the path, never the content):
//  * IOError: cannot open or read the file;
//  * FailedPrecondition: not a regular file, or readable/writable by group or others (the
//    message shows the mode and the chmod that fixes it);
//  * InvalidArgument: empty, only whitespace, or larger than 64 KiB.
StatusOr<std::string> ReadAuthTokenFile(const std::string& path);

}  // namespace coordinated::daemon
