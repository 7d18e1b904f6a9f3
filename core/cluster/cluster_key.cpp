#include "cluster/cluster_key.h"

#include <sodium.h>

#include <stdexcept>

namespace eltrix::cluster {

namespace {
// BLAKE2b keys are 16 to 64 bytes; this one is a domain separator, not a secret.
constexpr std::string_view kContext = "eltrix cluster mesh key v1";
}  // namespace

Key derive_cluster_key(std::string_view secret) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  Key key{};
  crypto_generichash(key.data(), key.size(), reinterpret_cast<const unsigned char*>(secret.data()),
                     secret.size(), reinterpret_cast<const unsigned char*>(kContext.data()),
                     kContext.size());
  return key;
}

}  // namespace eltrix::cluster
