// Clock: the one source of "now" for leases, expiry and timers (a test seam).
//
// SystemClock reads the real time plus an offset that tests may move forward (the daemon only
// exposes that through a test-only RPC when started with test hooks enabled). FakeClock is for
// unit tests. Times are Unix seconds as doubles, as the wire carries them.
// Thread-safety: all methods are safe to call from any thread.
#pragma once

#include <atomic>

namespace coordinated {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual double Now() const = 0;  // Unix time in seconds
};

class SystemClock : public Clock {
 public:
  double Now() const override;
  // Moves this clock's idea of now by `seconds` (test hooks only).
  void Advance(double seconds) { offset_.store(offset_.load() + seconds); }

 private:
  std::atomic<double> offset_{0.0};
};

class FakeClock : public Clock {
 public:
  explicit FakeClock(double start = 1'000'000.0) : now_(start) {}
  double Now() const override { return now_.load(); }
  void Set(double t) { now_.store(t); }
  void Advance(double seconds) { now_.store(now_.load() + seconds); }

 private:
  std::atomic<double> now_;
};

}  // namespace coordinated
