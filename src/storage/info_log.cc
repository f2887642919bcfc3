#include "storage/info_log.h"

#include <rocksdb/env.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

namespace coordinated::storage {

namespace {

class StdioLogger : public rocksdb::Logger {
 public:
  explicit StdioLogger(std::FILE* file)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), file_(file) {}
  ~StdioLogger() override { std::fclose(file_); }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    struct timeval now;
    ::gettimeofday(&now, nullptr);
    struct tm t;
    ::localtime_r(&now.tv_sec, &t);
    std::lock_guard<std::mutex> lock(mu_);
    // Errors (a full disk) are ignored: the line is lost, the process goes on.
    std::fprintf(file_, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ", t.tm_year + 1900, t.tm_mon + 1,
                 t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<long>(now.tv_usec));
    std::vfprintf(file_, format, ap);
    std::fputc('\n', file_);
    std::fflush(file_);
    std::clearerr(file_);
  }

 private:
  std::mutex mu_;
  std::FILE* file_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewInfoLog(const std::string& dir) {
  ::mkdir(dir.c_str(), 0755);  // RocksDB creates a missing store directory only later
  const std::string path = dir + "/LOG";
  std::rename(path.c_str(), (path + ".old").c_str());  // fails harmlessly when there is none
  std::FILE* file = std::fopen(path.c_str(), "we");
  if (file == nullptr) return nullptr;
  return std::make_shared<StdioLogger>(file);
}

}  // namespace coordinated::storage
