// Small helpers shared by the fuzz targets in this directory.
//
// A target reports a broken property with FuzzDie, which aborts: libFuzzer records the input as
// a crash and the replay driver (replay_main.cc) fails with the input's name on stderr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/value.h"

namespace coordfuzz {

[[noreturn]] inline void FuzzDie(const char* target, const char* what,
                                 const coordinated::Value* v = nullptr) {
  std::fprintf(stderr, "%s: %s\n", target, what);
  if (v != nullptr) std::fprintf(stderr, "value: %s\n", v->ToDiagnostic().c_str());
  std::abort();
}

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// A tiny deterministic generator (splitmix64), for decisions derived from the input itself.
class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// FNV-1a over the input: a seed that changes with every byte.
inline uint64_t HashBytes(const uint8_t* data, size_t size) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3ull;
  return h;
}

}  // namespace coordfuzz
