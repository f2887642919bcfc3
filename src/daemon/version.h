// The daemon's version string, from the CMake project version.
#pragma once

namespace coordinated {
inline constexpr const char* kVersion = COORD_VERSION;
}
