// Whitebox crash points: named places where a test build can make the process die on the spot,
// as kill -9 would, at the instants that matter most for durability (after a write is applied
// but before it is synced, after the sync but before the reply, in the middle of a multi-step
// change, during start-up recovery).
//
//   COORD_CRASH_POINT("sequencer.before_sync");
//   COORD_CRASH_POINT_IF(rec->expiries > 0, "get_work.regrant_expired");
//
// Both macros compile to nothing unless COORD_TEST_HOOKS is defined (the CMake option of the
// same name). When compiled in, the environment variable COORDINATED_CRASH_POINTS arms points:
//
//   COORDINATED_CRASH_POINTS="sequencer.before_sync:0.01,coordinator.chain:@3"
//
//  * "NAME:P"  dies on each pass through NAME with probability P (0 < P <= 1);
//  * "NAME:@N" dies on the Nth pass through NAME (N >= 1).
// COORDINATED_CRASH_SEED (an unsigned integer) seeds the probability draws; without it they are
// seeded randomly. A point that fires writes "crash point fired: NAME" to stderr (unbuffered)
// and raises SIGKILL, so nothing else (no destructor, no flush, no reply) runs after it. When
// nothing is armed a pass costs a function call and one test. A malformed COORDINATED_CRASH_POINTS
// is reported on stderr and ends the process with exit code 2, so a typo never silently disables a
// crash test.
//
// Thread-safety: points may be passed from any thread; the environment is read once, on the
// first pass through any point.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace coordinated::crash {

// One armed point, as parsed from COORDINATED_CRASH_POINTS.
struct Rule {
  std::string name;
  double probability = 0;  // used when nth == 0
  uint64_t nth = 0;        // die on this pass (1-based); 0: use probability
};

// Parses "NAME:P,NAME:@N,...". kInvalidArgument names the malformed entry. Empty -> no rules.
StatusOr<std::vector<Rule>> ParseRules(std::string_view spec);

// The slow path of the macros: counts a pass through `name` and dies when its rule says so.
void Pass(const char* name);

}  // namespace coordinated::crash

#ifdef COORD_TEST_HOOKS
#define COORD_CRASH_POINT(name) ::coordinated::crash::Pass(name)
#define COORD_CRASH_POINT_IF(cond, name)        \
  do {                                          \
    if (cond) ::coordinated::crash::Pass(name); \
  } while (0)
#else
#define COORD_CRASH_POINT(name) \
  do {                          \
  } while (0)
#define COORD_CRASH_POINT_IF(cond, name) \
  do {                                   \
  } while (0)
#endif
