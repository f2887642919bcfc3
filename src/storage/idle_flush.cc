#include "storage/idle_flush.h"

namespace coordinated::storage {

bool IdleFlushPolicy::ShouldFlush(uint64_t writes, double now) {
  if (!writes_ || *writes_ != writes) {
    // A first look (nothing written by us yet to flush) or new writes: a quiet spell starts.
    flushed_ = !writes_.has_value();
    writes_ = writes;
    since_ = now;
    return false;
  }
  if (flushed_ || idle_seconds_ <= 0 || now - since_ < idle_seconds_) return false;
  flushed_ = true;
  return true;
}

}  // namespace coordinated::storage
