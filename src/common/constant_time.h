// Comparison of secrets (the RPC auth token) whose running time does not depend on where the
// inputs differ.
//
// ConstantTimeEquals(secret, candidate) reads every byte of `candidate` and, for each, one byte
// of `secret`, accumulating differences without branching on them. Its running time depends
// only on candidate.size(), which the caller already knows, so timing reveals neither the
// secret's bytes nor its length. Returns true exactly when the two are byte-for-byte equal (two
// empty strings are equal).
//
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace coordinated {

inline bool ConstantTimeEquals(std::string_view secret, std::string_view candidate) {
  // Lengths differ -> non-zero; folded in without an early return.
  volatile uint8_t diff = secret.size() == candidate.size() ? 0 : 1;
  const size_t n = secret.size();
  for (size_t i = 0; i < candidate.size(); ++i) {
    // With an empty secret there is nothing to compare against: 0 stands in, and the length
    // difference already makes the result false.
    const uint8_t s = n == 0 ? 0 : static_cast<uint8_t>(secret[i % n]);
    diff = diff | (s ^ static_cast<uint8_t>(candidate[i]));
  }
  return diff == 0;
}

}  // namespace coordinated
