#include "rooms/server_keys.h"

#include "matrix/base64.h"
#include "matrix/ids.h"
#include "storage/database.h"

#include <chrono>

namespace eltrix::rooms {

const matrix::SigningKey& ServerKeys::signing_key() {
  std::lock_guard lock(mutex_);
  if (key_) return *key_;
  // Two nodes may start at once: both try to insert their candidate, the
  // table keeps exactly one, and both then read the winner.
  auto candidate = matrix::SigningKey::generate("a_" + matrix::random_string(4));
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto [key_id, seed] = db_.write([&](storage::Transaction& tx) {
    tx.exec(
        "INSERT INTO server_signing_keys (key_id, seed, created_ts) "
        "SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM server_signing_keys)",
        candidate.key_id(), matrix::encode_base64_unpadded(candidate.seed()), now);
    auto row = tx.exec1("SELECT key_id, seed FROM server_signing_keys ORDER BY created_ts LIMIT 1");
    return std::pair{row[0].as<std::string>(), row[1].as<std::string>()};
  });
  auto raw_seed = matrix::decode_base64(seed);
  if (!raw_seed || raw_seed->size() != 32 || key_id.rfind("ed25519:", 0) != 0) {
    throw std::runtime_error("server_signing_keys holds a malformed key " + key_id);
  }
  key_ = std::make_unique<const matrix::SigningKey>(
      matrix::SigningKey::from_seed(*raw_seed, key_id.substr(8)));
  return *key_;
}

}  // namespace eltrix::rooms
