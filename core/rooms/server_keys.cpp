#include "rooms/server_keys.h"

#include "errors/error.h"
#include "matrix/base64.h"
#include "matrix/ids.h"
#include "storage/database.h"

#include <fmt/format.h>

namespace eltrix::rooms {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

matrix::SigningKey from_row(const std::string& key_id, const std::string& seed) {
  auto raw_seed = matrix::decode_base64(seed);
  if (!raw_seed || raw_seed->size() != 32 || key_id.rfind("ed25519:", 0) != 0) {
    throw std::runtime_error("server_signing_keys holds a malformed key " + key_id);
  }
  return matrix::SigningKey::from_seed(*raw_seed, key_id.substr(8));
}

std::optional<matrix::SigningKey> read_current_key(storage::Transaction& tx) {
  auto row =
      tx.exec_optional("SELECT key_id, seed FROM server_signing_keys WHERE expired_ts IS NULL");
  if (!row) return std::nullopt;
  return from_row((*row)[0].as<std::string>(), (*row)[1].as<std::string>());
}

}  // namespace

std::optional<matrix::SigningKey> ServerKeys::read_current(storage::Transaction& tx) {
  return read_current_key(tx);
}

std::vector<VerifyKey> ServerKeys::read_verify_keys(storage::Transaction& tx) {
  std::vector<VerifyKey> out;
  for (const auto& row :
       tx.exec("SELECT key_id, seed, public_key, expired_ts FROM server_signing_keys "
               "ORDER BY expired_ts DESC NULLS FIRST, key_id")) {
    VerifyKey key{.key_id = row[0].as<std::string>(), .public_key_base64 = {}, .expired_ts = {}};
    if (row[3].is_null()) {
      // The current key's public half is derived from its seed, never stored
      // twice (one source of truth for what it signs with).
      key.public_key_base64 = from_row(key.key_id, row[1].as<std::string>()).public_key_base64();
    } else {
      key.public_key_base64 = row[2].as<std::string>();
      key.expired_ts = row[3].as<std::int64_t>();
    }
    out.push_back(std::move(key));
  }
  return out;
}

std::optional<std::string> ServerKeys::replace(storage::Transaction& tx,
                                               const matrix::SigningKey& next,
                                               std::chrono::milliseconds grace) {
  if (tx.exec_optional("SELECT 1 FROM server_signing_keys WHERE key_id = $1", next.key_id())) {
    throw errors::conflict("M_UNKNOWN",
                           fmt::format("the key ID {} was used by this server before; other "
                                       "servers cache keys by ID, so it cannot name a new key",
                                       next.key_id()));
  }
  // Locks the current row. Of two rotations at once, the second waits, then
  // finds no current key (the first retired it) and its insert fails on the
  // one-current index: it changes nothing and can be run again.
  std::optional<std::string> retired;
  if (auto current = tx.exec_optional(
          "SELECT key_id, seed FROM server_signing_keys WHERE expired_ts IS NULL FOR UPDATE")) {
    const std::string key_id = (*current)[0].as<std::string>();
    const std::string public_key =
        from_row(key_id, (*current)[1].as<std::string>()).public_key_base64();
    tx.exec(
        "UPDATE server_signing_keys SET seed = NULL, public_key = $2, expired_ts = $3 "
        "WHERE key_id = $1",
        key_id, public_key, now_ms() + grace.count());
    retired = key_id;
  }
  tx.exec("INSERT INTO server_signing_keys (key_id, seed, created_ts) VALUES ($1, $2, $3)",
          next.key_id(), matrix::encode_base64_unpadded(next.seed()), now_ms());
  return retired;
}

bool ServerKeys::reload(storage::Transaction& tx) {
  auto key = read_current_key(tx);
  if (!key) {
    // None yet (a test's fresh database), or someone deleted the row by
    // hand: keep signing with what we have rather than inventing a key
    // inside someone else's transaction.
    if (loaded_) loaded_->at = std::chrono::steady_clock::now();
    return loaded_.has_value();
  }
  Loaded fresh;
  if (loaded_ && loaded_->key->key_id() == key->key_id()) {
    fresh.key = loaded_->key;
  } else {
    fresh.key = std::make_shared<const matrix::SigningKey>(std::move(*key));
  }
  fresh.verify = std::make_shared<const std::vector<VerifyKey>>(read_verify_keys(tx));
  fresh.at = std::chrono::steady_clock::now();
  loaded_ = std::move(fresh);
  return true;
}

void ServerKeys::ensure_key(storage::Transaction& tx) {
  auto candidate = matrix::SigningKey::generate("a_" + matrix::random_string(4));
  // Two nodes may start at once: the unique index on the current key lets
  // one insert win, and both then read the winner.
  tx.exec(
      "INSERT INTO server_signing_keys (key_id, seed, created_ts) VALUES ($1, $2, $3) "
      "ON CONFLICT ((true)) WHERE expired_ts IS NULL DO NOTHING",
      candidate.key_id(), matrix::encode_base64_unpadded(candidate.seed()), now_ms());
}

std::shared_ptr<const matrix::SigningKey> ServerKeys::load() {
  std::lock_guard lock(mutex_);
  db_.write([&](storage::Transaction& tx) {
    ensure_key(tx);
    reload(tx);
  });
  return loaded_->key;
}

const ServerKeys::Loaded* ServerKeys::current(storage::Transaction& tx) {
  if (!loaded_ || std::chrono::steady_clock::now() - loaded_->at >= refresh_) {
    if (!reload(tx)) return nullptr;
  }
  return &*loaded_;
}

std::shared_ptr<const matrix::SigningKey> ServerKeys::signing_key(storage::Transaction& tx) {
  {
    std::lock_guard lock(mutex_);
    if (const Loaded* now = current(tx)) return now->key;
  }
  // Only where no node created the key at start (SchemaSetup does): a
  // transaction of its own, so the key outlives this one if it rolls back.
  return load();
}

std::shared_ptr<const std::vector<VerifyKey>> ServerKeys::verify_keys(storage::Transaction& tx) {
  {
    std::lock_guard lock(mutex_);
    if (const Loaded* now = current(tx)) return now->verify;
  }
  load();
  std::lock_guard lock(mutex_);
  return loaded_->verify;
}

}  // namespace eltrix::rooms
