// YAML documents (spec and flow files) as Values, with PyYAML's (YAML 1.1) scalar resolution:
// unquoted null/~, true/false/yes/no/on/off, integers (decimal, 0x, 0o, leading-0 octal, 0b),
// floats (including .inf and .nan) get their types; quoted scalars and everything else are
// text strings. Map key order is kept.
#pragma once

#include <string>

#include "common/status.h"
#include "common/value.h"

namespace coordadmin {

// Parses one YAML document; kInvalidArgument (with line and column) when it is not YAML.
coordinated::StatusOr<coordinated::Value> ParseYaml(const std::string& text);

}  // namespace coordadmin
