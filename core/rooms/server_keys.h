// The server's ed25519 signing keys, kept in PostgreSQL (server_signing_keys)
// so every node of a deployment signs with the same key. The first node that
// needs one creates it. `eltrix keys rotate` and `eltrix keys import` replace
// it: the old key is retired (seed erased, public half kept with the time it
// stops being valid), and each node notices within `refresh` (it looks again
// inside a send's own transaction, so no extra round trip and no second
// connection). Retired keys stay valid for a grace period covering that, so
// nothing a slow node signs meanwhile is invalid.
#pragma once

#include "matrix/signing.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace eltrix::storage {
class Database;
class Transaction;
}  // namespace eltrix::storage

namespace eltrix::rooms {

/// A public key this server signs or signed with.
struct VerifyKey {
  std::string key_id;                      ///< "ed25519:<version>"
  std::string public_key_base64;           ///< unpadded
  std::optional<std::int64_t> expired_ts;  ///< set for a retired key (ms)
};

class ServerKeys {
 public:
  /// How long a node keeps signing with the key it loaded before it looks
  /// again, and so how long a rotation takes to reach every node.
  static constexpr std::chrono::seconds kDefaultRefresh{60};

  explicit ServerKeys(storage::Database& db, std::chrono::milliseconds refresh = kDefaultRefresh)
      : db_(db), refresh_(refresh) {}

  /// Creates the deployment's first key unless it has one. A starting node
  /// calls it right after the migrations.
  static void ensure_key(storage::Transaction& tx);

  /// Creates the key if there is none and loads it, in a transaction of its
  /// own. Throws StorageError while the database is unreachable.
  std::shared_ptr<const matrix::SigningKey> load();

  /// The current signing key. First, and when `refresh` has passed, it looks
  /// with `tx` (a read: it never creates a key inside someone else's
  /// transaction, which could roll back; it calls load() for that).
  std::shared_ptr<const matrix::SigningKey> signing_key(storage::Transaction& tx);

  /// The current key's public half and every retired one's, as of the last
  /// look (same refresh rule as signing_key).
  std::shared_ptr<const std::vector<VerifyKey>> verify_keys(storage::Transaction& tx);

  /// Every key, read now: what `eltrix keys export --public` prints.
  static std::vector<VerifyKey> read_verify_keys(storage::Transaction& tx);

  /// The current key with its seed, read now (`eltrix keys export`); nullopt
  /// when the deployment has none yet.
  static std::optional<matrix::SigningKey> read_current(storage::Transaction& tx);

  /// Makes `next` the signing key; the current one (if any) is retired with
  /// expired_ts = now + grace. Returns the retired key's ID, or nullopt when
  /// there was no key. Throws errors::Error (conflict) when `next` has the ID
  /// of a key this server used before: other servers cache keys by ID.
  static std::optional<std::string> replace(storage::Transaction& tx,
                                            const matrix::SigningKey& next,
                                            std::chrono::milliseconds grace);

 private:
  struct Loaded {
    std::shared_ptr<const matrix::SigningKey> key;
    std::shared_ptr<const std::vector<VerifyKey>> verify;
    std::chrono::steady_clock::time_point at;
  };
  /// Looks again with `tx` if due; the state to use, or nullptr when there
  /// is no key at all yet. Caller holds mutex_.
  const Loaded* current(storage::Transaction& tx);
  /// Reads the current key; false when there is none and none was loaded.
  bool reload(storage::Transaction& tx);

  storage::Database& db_;
  const std::chrono::milliseconds refresh_;
  std::mutex mutex_;
  std::optional<Loaded> loaded_;
};

}  // namespace eltrix::rooms
