// Logging set-up: spdlog to stderr, text or JSON lines, at the configured level.
#pragma once

#include <string>

#include "common/status.h"

namespace coordinated::daemon {

Status SetUpLogging(const std::string& level, const std::string& format);

}  // namespace coordinated::daemon
