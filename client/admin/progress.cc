#include "progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace coordadmin {

ProgressLine::ProgressLine(std::string verb, uint64_t total_bytes)
    : verb_(std::move(verb)), total_bytes_(total_bytes), enabled_(isatty(2) != 0) {
  start_ = last_ = std::chrono::steady_clock::now();
}

ProgressLine::~ProgressLine() { End(); }

void ProgressLine::End() {
  if (drawn_) std::fputs("\n", stderr);
  drawn_ = false;
}

void ProgressLine::Update(const coordinated::scheduler::DumpProgress& p) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!p.done && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? p.units / secs : 0;
  std::string line = fmt::format("{} {} units", verb_, p.units);
  if (p.total_units > 0) {
    line = fmt::format("{} {}/{} units ({}%)", verb_, p.units, p.total_units,
                       std::min<uint64_t>(100, p.units * 100 / p.total_units));
  } else if (total_bytes_ > 0) {
    line +=
        fmt::format(" ({}% of the input)", std::min<uint64_t>(100, p.bytes * 100 / total_bytes_));
  }
  line += fmt::format(", {:.0f} units/s", rate);
  if (p.done) line += ", done";
  std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace coordadmin
