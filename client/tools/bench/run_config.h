// RunConfig: the parameters of one benchmark run, and the label that names it on its report line.
//
// A run is one workload (floor, add, do, mixed or restart) against one daemon configuration
// (storage sync on or off, a number of work specs, a payload size, a pre-loaded backlog, a
// number of idle connections). The label lists exactly the parameters that matter for the
// workload, in a fixed order, so two runs with the same label measured the same thing:
//
//   floor w=64
//   add w=1 batch=1000 sync=on specs=1 payload=100 backlog=10000
//   do w=64 k=1 sync=on specs=1 payload=100 backlog=10000 idle=1000
//   do w=64 k=1 sync=on specs=1 payload=100 backlog=10000000 settled
//   mixed w=64 sync=on specs=1 payload=100 backlog=10000
//   restart sync=on specs=1 payload=100 backlog=10000
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace coordinate::bench {

enum class Workload { kFloor, kAdd, kDo, kMixed, kRestart };

const char* WorkloadName(Workload w);

// How the daemon under test is reached.
enum class SyncMode {
  kOn,        // a launched daemon with storage.sync true
  kOff,       // a launched daemon with --no-sync
  kExternal,  // an already running daemon (--addr): its setting is unknown
};

struct RunConfig {
  Workload workload = Workload::kDo;
  int workers = 8;  // W: threads, one connection each
  int batch = 1;    // do/mixed: max_jobs per get_work (K); add: units per add_work_units call
  SyncMode sync = SyncMode::kOn;
  int specs = 1;                 // work specs, all holding work
  size_t payload = 100;          // bytes of data per unit
  uint64_t backlog = 10000;      // units queued before the measurement (and kept queued during it)
  double duration = 5;           // seconds of measurement
  uint64_t count = 0;            // add: stop after this many units (0: run for `duration`)
  uint64_t first_key = 0;        // number of the first unit key the bench creates
  int idle = 0;                  // extra connections that stay open and idle during the run
  bool measure_restart = false;  // after the measurement: kill -9, restart, time until ready
  // Launched daemon only: after the pre-load, wait until the daemon is idle (its flushes and
  // compactions of the load done) before measuring, so the run sees the queue, not the load.
  bool settle = false;
  std::string spec_prefix = "bench";  // spec names: the prefix (1 spec) or prefix-0000, ...
};

// "do w=64 k=1 sync=on specs=1 payload=100 backlog=10000" (see the file comment).
std::string Label(const RunConfig& c);

// The name of spec number `i` of a run with `specs` specs.
std::string SpecName(const RunConfig& c, int i);

// Unit key number `i`: "u" and ten digits, as the original load generator wrote them.
std::string UnitKey(uint64_t i);

}  // namespace coordinate::bench
