// Accounts repository: users, devices, access tokens, user-interactive
// authentication sessions and shared-secret registration nonces
// (migrations/0003_accounts.sql).
//
// Every function runs inside a caller's Transaction, so that callers can
// combine them in one transaction; none of them hashes passwords (do that
// before opening the transaction). Functions that remove access tokens return
// the removed token hashes: the caller must also erase them from the cache
// (accounts::forget_cached_tokens) so that the removal takes effect at once.
//
// Security-sensitive reads (token lookups, password checks) should run on the
// primary (Database::write), because a replica may still hold a token that
// was just logged out.
#pragma once

#include "storage/database.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::storage {

/// Milliseconds since the Unix epoch (the unit of every *_ts column).
std::int64_t now_ms();

// ---- users -------------------------------------------------------------------

struct User {
  std::string user_id;
  std::optional<std::string> password_hash;
  bool admin = false;
  bool deactivated = false;
  std::int64_t created_ts = 0;
  std::optional<std::string> displayname;
  std::optional<std::string> avatar_url;
};

struct NewUser {
  std::string user_id;
  std::optional<std::string> password_hash;
  bool admin = false;
  std::optional<std::string> displayname;
};

/// Inserts the user. False (and nothing written) when the user ID is taken.
bool create_user(Transaction& tx, const NewUser& user, std::int64_t now);

std::optional<User> find_user(Transaction& tx, std::string_view user_id);

bool user_exists(Transaction& tx, std::string_view user_id);

/// False when there is no such user.
bool set_password_hash(Transaction& tx, std::string_view user_id, std::string_view hash);

/// Replaces the hash only if it is still `old_hash` (a re-hash with newer
/// parameters must not undo a password change made meanwhile).
bool upgrade_password_hash(Transaction& tx, std::string_view user_id, std::string_view old_hash,
                           std::string_view new_hash);

// ---- devices and access tokens ------------------------------------------------

struct Device {
  std::string user_id;
  std::string device_id;
  std::optional<std::string> display_name;
  std::optional<std::int64_t> last_seen_ts;
  std::optional<std::string> last_seen_ip;
  std::int64_t created_ts = 0;
};

/// What an access token stands for. Tokens of deactivated users are not found.
struct TokenOwner {
  std::string user_id;
  std::string device_id;
  bool admin = false;
  std::optional<std::int64_t> expires_ts;  ///< ms since the epoch; none: until logout
};

struct NewAccessToken {
  std::string user_id;
  std::string device_id;
  /// Used only when the device is created by this call.
  std::optional<std::string> initial_display_name;
  std::string token_hash;
  std::optional<std::int64_t> expires_ts;
  std::optional<std::string> ip;
};

/// Logs a device in: creates the device if the user does not have it yet,
/// removes the tokens the device already had (spec: a client that names its
/// device_id invalidates that device's earlier tokens) and stores the new
/// token. Returns the hashes of the tokens removed.
std::vector<std::string> add_access_token(Transaction& tx, const NewAccessToken& token,
                                          std::int64_t now);

std::optional<TokenOwner> find_access_token(Transaction& tx, std::string_view token_hash);

/// Records that the device was used now from `ip`.
void touch_device(Transaction& tx, std::string_view user_id, std::string_view device_id,
                  std::string_view ip, std::int64_t now);

std::vector<Device> list_devices(Transaction& tx, std::string_view user_id);

std::optional<Device> find_device(Transaction& tx, std::string_view user_id,
                                  std::string_view device_id);

/// False when the user has no such device.
bool rename_device(Transaction& tx, std::string_view user_id, std::string_view device_id,
                   std::string_view display_name);

/// Deletes the devices (unknown IDs are skipped) with their access tokens;
/// returns the removed token hashes. The one place devices are deleted, so
/// that later per-device data (keys, device lists) has one hook.
std::vector<std::string> delete_devices(Transaction& tx, std::string_view user_id,
                                        const std::vector<std::string>& device_ids);

/// Deletes every device of the user except `keep` (if given) with their
/// tokens; returns the removed token hashes.
std::vector<std::string> delete_all_devices(Transaction& tx, std::string_view user_id,
                                            std::optional<std::string_view> keep = std::nullopt);

/// The IDs of the user's devices.
std::vector<std::string> device_ids(Transaction& tx, std::string_view user_id);

// ---- user-interactive authentication sessions ---------------------------------

struct UiaSession {
  std::string session_id;
  std::string operation;               ///< e.g. "POST /register"
  std::optional<std::string> user_id;  ///< who must complete it; none for registration
  std::vector<std::string> completed;  ///< stage types, in completion order
  std::string params_json = "{}";
  std::int64_t created_ts = 0;
  /// The request body it authorises, sealed by client/uia.cpp (base64).
  std::optional<std::string> sealed_body = std::nullopt;
};

void create_uia_session(Transaction& tx, const UiaSession& session);

/// The session, unless unknown or created before `min_created_ts`. Locks the
/// row (FOR UPDATE) in a write transaction, so that concurrent attempts on
/// one session serialise.
std::optional<UiaSession> find_uia_session(Transaction& tx, std::string_view session_id,
                                           std::int64_t min_created_ts);

/// Appends `stage` to the completed stages (once).
void add_uia_stage(Transaction& tx, std::string_view session_id, std::string_view stage);

/// Replaces the remembered request body (client/uia.cpp seals it).
/// nullopt forgets the remembered body (the latest one could not be kept).
void set_uia_body(Transaction& tx, std::string_view session_id,
                  const std::optional<std::string>& sealed_body);

void delete_uia_session(Transaction& tx, std::string_view session_id);

/// Deletes sessions created before `before`; returns how many.
std::size_t expire_uia_sessions(Transaction& tx, std::int64_t before);

// ---- shared-secret registration nonces ----------------------------------------

void store_registration_nonce(Transaction& tx, std::string_view nonce, std::int64_t now);

/// Deletes the nonce and returns whether it existed and was created at or
/// after `min_created_ts`. A nonce is consumed even when it turns out to be
/// too old or the request fails later: each one is good for one attempt.
bool consume_registration_nonce(Transaction& tx, std::string_view nonce,
                                std::int64_t min_created_ts);

/// Deletes nonces created before `before`.
std::size_t expire_registration_nonces(Transaction& tx, std::int64_t before);

}  // namespace eltrix::storage
