// The standard matrix: the list of runs `coordinate-bench matrix` (and scripts/bench.sh) carries
// out, in order. Floors first (W = 1, 4, 8, 64, 256); then, for sync on and for sync off: add
// (batch 1,000; W = 1 and 4), do (W = 1, 8, 64, 256 x K = 1, 10; the W=64 K=1 run also times a
// restart after kill -9) and mixed (W = 64); then, sync on only: payload 10 KiB (add and do),
// 10 and 1,000 specs, 1,000 idle connections beside 64 busy ones; with `big`, a 10-million-unit
// backlog (do W=64 K=1 with the restart timed), measured right after its pre-load, and then
// (launched daemons only) the pair of 10-thousand- and 10-million-unit backlogs again, each
// measured once the daemon has gone idle after its pre-load (RunConfig::settle).
//
// Runs that compare with another (bars.h) come after the run they compare with. Against an
// external daemon (`external`), sync cannot be chosen and the daemon cannot be restarted, so
// only the sync-on half runs, without restarts, each run on its own specs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "run_config.h"

namespace coordinate::bench {

struct MatrixOptions {
  double duration = 5;
  bool big = false;
  uint64_t big_backlog = 10000000;
  bool external = false;
  std::string spec_prefix = "bench";
  // Keep only runs whose label contains every one of these as whole words ("k=1" keeps k=1,
  // not k=10; "do w=64" is fine too). Empty: every run.
  std::vector<std::string> only;
};

std::vector<RunConfig> StandardMatrix(const MatrixOptions& options);

}  // namespace coordinate::bench
