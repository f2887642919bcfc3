// Backlog: the work specs of a run and the units the bench adds to them.
//
// Every unit of a run has the same shape: key UnitKey(n) (unique per spec; each spec counts its
// own keys up from the run's first_key) and data {"p": <payload bytes>}, the bytes a window of
// a fixed pseudo-random pool chosen by the key number, so the store cannot compress them away
// and units do not share content (the disk-size ratio stays honest). The backlog
// counts what it added, so a run can report how many units were queued and how many raw bytes
// (key plus CBOR-encoded data) they hold, the basis of the disk-size ratio.
//
// Thread-safety: ReserveKeys, Items, CountAdded and the accessors may be called from any
// thread; CreateSpecs and Fill from one thread at a time (Fill starts its own threads).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "coordinate/client.h"
#include "run_config.h"

namespace coordinate::bench {

class Backlog {
 public:
  Backlog(const RunConfig& config, std::string address);

  // set_work_spec for every spec of the run.
  coordinated::Status CreateSpecs();
  // Adds `units` units, spread evenly over the specs, in add_work_units calls of up to 1,000
  // units from `connections` connections at once.
  coordinated::Status Fill(uint64_t units, int connections);

  // Reserves `n` fresh keys of spec `spec`; returns the number of the first.
  uint64_t ReserveKeys(int spec, uint64_t n);
  // The add_work_units item list for keys first .. first+n-1.
  coordinated::Value Items(uint64_t first, uint64_t n) const;
  // The data of unit number `i`.
  coordinated::Value Data(uint64_t i) const;
  void CountAdded(uint64_t n) { added_ += n; }

  int specs() const { return static_cast<int>(names_.size()); }
  const std::string& spec_name(int i) const { return names_[static_cast<size_t>(i)]; }
  uint64_t added() const { return added_.load(); }
  uint64_t raw_bytes() const { return added_.load() * unit_raw_bytes_; }
  ClientOptions client_options() const;

 private:
  std::string address_;
  std::vector<std::string> names_;
  size_t payload_;
  std::string pool_;  // pseudo-random bytes the payloads are windows of
  uint64_t unit_raw_bytes_ = 0;
  std::mutex mu_;
  std::vector<uint64_t> next_key_;  // per spec
  std::atomic<uint64_t> added_{0};
};

}  // namespace coordinate::bench
