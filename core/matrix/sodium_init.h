// libsodium must be initialised before its random generator and key functions
// are used. Internal to core/matrix.
#pragma once

#include <sodium.h>

#include <stdexcept>

namespace eltrix::matrix::detail {

/// Initialises libsodium once per process; later calls are a cheap check.
/// Throws std::runtime_error if libsodium cannot initialise (no entropy source),
/// because carrying on would produce predictable keys and identifiers.
inline void ensure_sodium() {
  // A function-local static, not a global, so that nothing runs at start-up
  // and concurrent first callers are serialised by the C++ runtime.
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium failed to initialise");
}

}  // namespace eltrix::matrix::detail
