// Flow files, as the Python `coordinate flow` command read them: a YAML document whose `flows`
// map holds work specs by name. A map with a `min_gb` key is a spec; any other map is a group
// whose entries get dotted names ("parent.child"). Each spec gets its `name`, and `config`: the
// base configuration overlaid with the spec's own `config` (yakonfig.overlay_config: maps merge
// recursively, a null value deletes the key).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace coordadmin {

struct FlowSpec {
  std::string name;
  coordinated::Value definition;
};

// The specs of a flow document, in file order (groups depth-first).
coordinated::StatusOr<std::vector<FlowSpec>> ParseFlow(const coordinated::Value& document,
                                                       const coordinated::Value& base_config);

// yakonfig.overlay_config.
coordinated::Value OverlayConfig(const coordinated::Value& base, const coordinated::Value& overlay);

// `then` targets of the flow's specs that are not specs of the flow: (spec, then) pairs.
std::vector<std::pair<std::string, std::string>> ExternalThens(const std::vector<FlowSpec>& specs);

}  // namespace coordadmin
