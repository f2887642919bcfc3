// The status page served at `/`: one self-contained HTML document (inline CSS and JavaScript, no
// external assets) that polls the read-only /api endpoints. Its source is dashboard.html beside
// this file, embedded at build time (CMake generates dashboard.cc from dashboard.cc.in).
#pragma once

#include <string>

namespace coordinated::daemon {

const std::string& DashboardHtml();

}  // namespace coordinated::daemon
