// libsodium must be initialised before its random generator is used.
// Internal to core/crypto.
#pragma once

#include <sodium.h>

#include <stdexcept>

namespace eltrix::crypto::detail {

/// Initialises libsodium once per process. Throws std::runtime_error if it
/// cannot (no entropy source): carrying on would hand out predictable tokens.
inline void ensure_sodium() {
  // A function-local static: nothing runs at start-up, and concurrent first
  // callers are serialised by the C++ runtime.
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium failed to initialise");
}

}  // namespace eltrix::crypto::detail
