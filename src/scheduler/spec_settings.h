// SpecSettings: the scheduling settings of a work spec, derived from its definition map and the
// control_work_spec overrides stored beside it. set_work_spec replaces the definition and drops
// the overrides (as the original daemon did: re-submitting a spec un-pauses it).
#pragma once

#include <cstdint>
#include <optional>

#include "common/status.h"
#include "common/value.h"

namespace coordinated::scheduler {

struct SpecSettings {
  bool paused = false;             // status 2
  bool continuous = false;         // may synthesise units when idle
  bool can_be_continuous = false;  // the definition says continuous: true
  std::optional<double> interval;  // seconds between continuous units (also throttles queued)
  std::optional<int64_t> max_running;
  std::optional<int64_t> max_getwork;
  int64_t weight = 20;   // <= 0: never scheduled
  int64_t priority = 0;  // spec-level priority, tier 1
  Value then;            // successor spec name, or null
  bool then_preempts = true;
  int64_t max_retries = 0;  // 0: unlimited
};

SpecSettings DeriveSettings(const Value& definition, const Value& control);

// Validates a control_work_spec options map (types), without applying it.
Status ValidateControl(const Value& options);

// get_work_spec_meta's map: {status, continuous, interval, max_running, weight}.
Value SettingsToMeta(const SpecSettings& s);

}  // namespace coordinated::scheduler
