#include "storage/openid_tokens.h"

namespace eltrix::storage {

void create_openid_token(Transaction& tx, std::string_view token_hash, std::string_view user_id,
                         std::int64_t expires_ts, std::int64_t now_ts) {
  tx.exec("DELETE FROM openid_tokens WHERE expires_ts < $1", now_ts);
  tx.exec("INSERT INTO openid_tokens (token_hash, user_id, expires_ts) VALUES ($1, $2, $3)",
          token_hash, user_id, expires_ts);
}

std::int64_t count_openid_tokens(Transaction& tx, std::string_view user_id, std::int64_t now_ts) {
  return tx
      .exec1("SELECT count(*) FROM openid_tokens WHERE user_id = $1 AND expires_ts >= $2", user_id,
             now_ts)[0]
      .as<std::int64_t>();
}

void delete_openid_tokens(Transaction& tx, std::string_view user_id) {
  tx.exec("DELETE FROM openid_tokens WHERE user_id = $1", user_id);
}

std::optional<std::string> openid_token_user(Transaction& tx, std::string_view token_hash,
                                             std::int64_t now_ts) {
  auto row = tx.exec_optional(
      "SELECT o.user_id FROM openid_tokens o JOIN users u ON u.user_id = o.user_id "
      "WHERE o.token_hash = $1 AND o.expires_ts >= $2 AND NOT u.deactivated",
      token_hash, now_ts);
  if (!row) return std::nullopt;
  return (*row)[0].as<std::string>();
}

}  // namespace eltrix::storage
