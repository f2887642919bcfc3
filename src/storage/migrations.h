// Format versions and migrations.
//
// The store records its format version under meta key "format_version" (8-byte big-endian).
// A new store is stamped with kFormatVersion. An older store is brought up to date by running,
// in order, each step of Migrations() (one per version change, each documented in
// migrations/NNNN_*.md). A step writes its own changes and the new version number is written
// after it, so a step must be idempotent: a crash between the two re-runs the step.
// A store newer than this binary is refused: the daemon must not guess at a format it does not
// know.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace coordinated::storage {

class Store;

struct Migration {
  uint64_t from;         // applies to a store at this version
  uint64_t to;           // and leaves it at this one
  std::string_view doc;  // migrations/ file describing it
  std::function<Status(Store*)> apply;
};

// The migration steps, oldest first.
const std::vector<Migration>& Migrations();

// Stamps a new store, migrates an old one, refuses a newer one.
Status RunMigrations(Store* store);
// Only checks (read-only opens): refuses newer and older-than-supported stores.
Status CheckFormatVersion(const Store* store);
// The version recorded in the store, 0 when none.
StatusOr<uint64_t> ReadFormatVersion(const Store* store);

}  // namespace coordinated::storage
