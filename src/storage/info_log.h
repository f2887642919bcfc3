// RocksDB's info log ("LOG" in the data directory), written so that a full disk cannot stop the
// process.
//
// RocksDB's own file logger stops the process at the first line it logs after a write of its
// log file failed (an assertion, enabled in Debian's build of librocksdb), and a full disk makes
// that write fail: the daemon would abort in the middle of a disk-full episode. This logger
// writes "<dir>/LOG" with stdio and drops the lines it cannot write. As RocksDB's does, it
// starts a new LOG at each open; the previous one is kept as LOG.old.
//
// Thread-safety: the logger may be called from any thread (RocksDB logs from its own).
#pragma once

#include <memory>
#include <string>

namespace rocksdb {
class Logger;
}

namespace coordinated::storage {

// A logger for DBOptions::info_log; nullptr when the file cannot be created (RocksDB then
// makes its own).
std::shared_ptr<rocksdb::Logger> NewInfoLog(const std::string& dir);

}  // namespace coordinated::storage
