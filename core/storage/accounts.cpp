#include "storage/accounts.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

namespace eltrix::storage {
namespace {

std::vector<std::string> column_strings(const pqxx::result& result) {
  std::vector<std::string> out;
  out.reserve(result.size());
  for (const auto& row : result) out.push_back(row[0].as<std::string>());
  return out;
}

Device device_from(const pqxx::row& row) {
  return Device{
      .user_id = row[0].as<std::string>(),
      .device_id = row[1].as<std::string>(),
      .display_name = nullable<std::string>(row[2]),
      .last_seen_ts = nullable<std::int64_t>(row[3]),
      .last_seen_ip = nullable<std::string>(row[4]),
      .created_ts = row[5].as<std::int64_t>(),
  };
}

constexpr const char* kDeviceColumns =
    "user_id, device_id, display_name, last_seen_ts, last_seen_ip, created_ts";

std::vector<std::string> parse_stages(const std::string& text) {
  // Written only by add_uia_stage; anything unreadable counts as "nothing
  // completed", which can only make a client repeat a stage.
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (!parsed.is_array()) return out;
  for (const auto& item : parsed) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- users -------------------------------------------------------------------

bool create_user(Transaction& tx, const NewUser& user, std::int64_t now) {
  // ON CONFLICT instead of catching the unique violation: a failed statement
  // would abort the caller's whole transaction.
  auto result = tx.exec(
      "INSERT INTO users (user_id, password_hash, admin, created_ts, displayname) "
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO NOTHING RETURNING user_id",
      user.user_id, user.password_hash, user.admin, now, user.displayname);
  return !result.empty();
}

std::optional<User> find_user(Transaction& tx, std::string_view user_id) {
  auto row = tx.exec_optional(
      "SELECT user_id, password_hash, admin, deactivated, created_ts, displayname, avatar_url "
      "FROM users WHERE user_id = $1",
      user_id);
  if (!row) return std::nullopt;
  return User{
      .user_id = (*row)[0].as<std::string>(),
      .password_hash = nullable<std::string>((*row)[1]),
      .admin = (*row)[2].as<bool>(),
      .deactivated = (*row)[3].as<bool>(),
      .created_ts = (*row)[4].as<std::int64_t>(),
      .displayname = nullable<std::string>((*row)[5]),
      .avatar_url = nullable<std::string>((*row)[6]),
  };
}

bool user_exists(Transaction& tx, std::string_view user_id) {
  return tx.exec_optional("SELECT 1 FROM users WHERE user_id = $1", user_id).has_value();
}

bool set_password_hash(Transaction& tx, std::string_view user_id, std::string_view hash) {
  auto result = tx.exec("UPDATE users SET password_hash = $2 WHERE user_id = $1", user_id, hash);
  return result.affected_rows() > 0;
}

bool upgrade_password_hash(Transaction& tx, std::string_view user_id, std::string_view old_hash,
                           std::string_view new_hash) {
  auto result =
      tx.exec("UPDATE users SET password_hash = $3 WHERE user_id = $1 AND password_hash = $2",
              user_id, old_hash, new_hash);
  return result.affected_rows() > 0;
}

// ---- devices and access tokens ------------------------------------------------

std::vector<std::string> add_access_token(Transaction& tx, const NewAccessToken& token,
                                          std::int64_t now) {
  // A known device keeps its display name; its last-seen fields move on.
  tx.exec(
      "INSERT INTO devices (user_id, device_id, display_name, last_seen_ts, last_seen_ip, "
      "created_ts) VALUES ($1, $2, $3, $4, $5, $4) "
      "ON CONFLICT (user_id, device_id) DO UPDATE SET last_seen_ts = EXCLUDED.last_seen_ts, "
      "last_seen_ip = COALESCE(EXCLUDED.last_seen_ip, devices.last_seen_ip)",
      token.user_id, token.device_id, token.initial_display_name, now, token.ip);
  auto removed =
      column_strings(tx.exec("DELETE FROM access_tokens WHERE user_id = $1 AND device_id = $2 "
                             "RETURNING token_hash",
                             token.user_id, token.device_id));
  tx.exec(
      "INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts, expires_ts) "
      "VALUES ($1, $2, $3, $4, $5)",
      token.token_hash, token.user_id, token.device_id, now, token.expires_ts);
  return removed;
}

std::optional<TokenOwner> find_access_token(Transaction& tx, std::string_view token_hash) {
  auto row = tx.exec_optional(
      "SELECT t.user_id, t.device_id, u.admin, t.expires_ts FROM access_tokens t "
      "JOIN users u ON u.user_id = t.user_id "
      "WHERE t.token_hash = $1 AND NOT u.deactivated",
      token_hash);
  if (!row) return std::nullopt;
  return TokenOwner{
      .user_id = (*row)[0].as<std::string>(),
      .device_id = (*row)[1].as<std::string>(),
      .admin = (*row)[2].as<bool>(),
      .expires_ts = nullable<std::int64_t>((*row)[3]),
  };
}

void touch_device(Transaction& tx, std::string_view user_id, std::string_view device_id,
                  std::string_view ip, std::int64_t now) {
  tx.exec(
      "UPDATE devices SET last_seen_ts = $3, last_seen_ip = $4 "
      "WHERE user_id = $1 AND device_id = $2",
      user_id, device_id, now, ip);
}

std::vector<Device> list_devices(Transaction& tx, std::string_view user_id) {
  auto result = tx.exec(std::string("SELECT ") + kDeviceColumns +
                            " FROM devices WHERE user_id = $1 ORDER BY created_ts, device_id",
                        user_id);
  std::vector<Device> out;
  out.reserve(result.size());
  for (const auto& row : result) out.push_back(device_from(row));
  return out;
}

std::optional<Device> find_device(Transaction& tx, std::string_view user_id,
                                  std::string_view device_id) {
  auto row = tx.exec_optional(std::string("SELECT ") + kDeviceColumns +
                                  " FROM devices WHERE user_id = $1 AND device_id = $2",
                              user_id, device_id);
  if (!row) return std::nullopt;
  return device_from(*row);
}

bool rename_device(Transaction& tx, std::string_view user_id, std::string_view device_id,
                   std::string_view display_name) {
  auto result =
      tx.exec("UPDATE devices SET display_name = $3 WHERE user_id = $1 AND device_id = $2", user_id,
              device_id, display_name);
  return result.affected_rows() > 0;
}

std::vector<std::string> delete_devices(Transaction& tx, std::string_view user_id,
                                        const std::vector<std::string>& device_ids) {
  // One statement pair per device: libpqxx 6 cannot bind arrays, and the
  // lists are short (a user's own devices).
  std::vector<std::string> removed;
  for (const auto& device_id : device_ids) {
    auto hashes =
        column_strings(tx.exec("DELETE FROM access_tokens WHERE user_id = $1 AND device_id = $2 "
                               "RETURNING token_hash",
                               user_id, device_id));
    removed.insert(removed.end(), hashes.begin(), hashes.end());
    tx.exec("DELETE FROM devices WHERE user_id = $1 AND device_id = $2", user_id, device_id);
  }
  return removed;
}

std::vector<std::string> delete_all_devices(Transaction& tx, std::string_view user_id,
                                            std::optional<std::string_view> keep) {
  std::optional<std::string> kept;
  if (keep) kept = std::string(*keep);
  auto removed =
      column_strings(tx.exec("DELETE FROM access_tokens WHERE user_id = $1 "
                             "AND ($2::text IS NULL OR device_id <> $2::text) RETURNING token_hash",
                             user_id, kept));
  tx.exec("DELETE FROM devices WHERE user_id = $1 AND ($2::text IS NULL OR device_id <> $2::text)",
          user_id, kept);
  return removed;
}

std::vector<std::string> device_ids(Transaction& tx, std::string_view user_id) {
  return column_strings(
      tx.exec("SELECT device_id FROM devices WHERE user_id = $1 ORDER BY device_id", user_id));
}

// ---- user-interactive authentication sessions ---------------------------------

void create_uia_session(Transaction& tx, const UiaSession& session) {
  tx.exec(
      "INSERT INTO uia_sessions (session_id, operation, user_id, completed, params, created_ts, "
      "sealed_body) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      session.session_id, session.operation, session.user_id,
      nlohmann::json(session.completed).dump(), session.params_json, session.created_ts,
      session.sealed_body);
}

std::optional<UiaSession> find_uia_session(Transaction& tx, std::string_view session_id,
                                           std::int64_t min_created_ts) {
  const std::string lock = tx.read_only() ? "" : " FOR UPDATE";
  auto row = tx.exec_optional(
      "SELECT session_id, operation, user_id, completed, params, created_ts, sealed_body "
      "FROM uia_sessions "
      "WHERE session_id = $1 AND created_ts >= $2" +
          lock,
      session_id, min_created_ts);
  if (!row) return std::nullopt;
  return UiaSession{
      .session_id = (*row)[0].as<std::string>(),
      .operation = (*row)[1].as<std::string>(),
      .user_id = nullable<std::string>((*row)[2]),
      .completed = parse_stages((*row)[3].as<std::string>()),
      .params_json = (*row)[4].as<std::string>(),
      .created_ts = (*row)[5].as<std::int64_t>(),
      .sealed_body = nullable<std::string>((*row)[6]),
  };
}

void add_uia_stage(Transaction& tx, std::string_view session_id, std::string_view stage) {
  auto row = tx.exec_optional("SELECT completed FROM uia_sessions WHERE session_id = $1 FOR UPDATE",
                              session_id);
  if (!row) return;
  auto stages = parse_stages((*row)[0].as<std::string>());
  if (std::find(stages.begin(), stages.end(), stage) != stages.end()) return;
  stages.emplace_back(stage);
  tx.exec("UPDATE uia_sessions SET completed = $2 WHERE session_id = $1", session_id,
          nlohmann::json(stages).dump());
}

void set_uia_body(Transaction& tx, std::string_view session_id,
                  const std::optional<std::string>& sealed_body) {
  tx.exec("UPDATE uia_sessions SET sealed_body = $2 WHERE session_id = $1", session_id,
          sealed_body);
}

void delete_uia_session(Transaction& tx, std::string_view session_id) {
  tx.exec("DELETE FROM uia_sessions WHERE session_id = $1", session_id);
}

std::size_t expire_uia_sessions(Transaction& tx, std::int64_t before) {
  return static_cast<std::size_t>(
      tx.exec("DELETE FROM uia_sessions WHERE created_ts < $1", before).affected_rows());
}

// ---- shared-secret registration nonces ----------------------------------------

void store_registration_nonce(Transaction& tx, std::string_view nonce, std::int64_t now) {
  tx.exec("INSERT INTO admin_register_nonces (nonce, created_ts) VALUES ($1, $2)", nonce, now);
}

bool consume_registration_nonce(Transaction& tx, std::string_view nonce,
                                std::int64_t min_created_ts) {
  // DELETE ... RETURNING makes "check and use up" one atomic step: of two
  // concurrent requests with the same nonce, only one gets the row back.
  auto row = tx.exec_optional(
      "DELETE FROM admin_register_nonces WHERE nonce = $1 RETURNING created_ts", nonce);
  return row && (*row)[0].as<std::int64_t>() >= min_created_ts;
}

std::size_t expire_registration_nonces(Transaction& tx, std::int64_t before) {
  return static_cast<std::size_t>(
      tx.exec("DELETE FROM admin_register_nonces WHERE created_ts < $1", before).affected_rows());
}

}  // namespace eltrix::storage
