#include "common/clock.h"

#include <chrono>

namespace coordinated {

double SystemClock::Now() const {
  auto d = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(d).count() + offset_.load();
}

}  // namespace coordinated
