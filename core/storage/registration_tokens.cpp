#include "storage/registration_tokens.h"

namespace eltrix::storage {
namespace {

constexpr const char* kColumns = "token, uses_allowed, pending, completed, expiry_time";

// A token is usable while it has not expired and its uses (completed and
// pending registrations) stay below uses_allowed.
constexpr const char* kUsable =
    "(expiry_time IS NULL OR expiry_time > $2) AND "
    "(uses_allowed IS NULL OR pending + completed < uses_allowed)";

RegistrationToken token_from(const pqxx::row& row) {
  return RegistrationToken{
      .token = row[0].as<std::string>(),
      .uses_allowed = nullable<std::int64_t>(row[1]),
      .pending = row[2].as<std::int64_t>(),
      .completed = row[3].as<std::int64_t>(),
      .expiry_time = nullable<std::int64_t>(row[4]),
  };
}

}  // namespace

bool create_registration_token(Transaction& tx, const RegistrationToken& token) {
  return !tx.exec(
                "INSERT INTO registration_tokens (token, uses_allowed, expiry_time) "
                "VALUES ($1, $2, $3) ON CONFLICT (token) DO NOTHING RETURNING token",
                token.token, token.uses_allowed, token.expiry_time)
              .empty();
}

std::optional<RegistrationToken> find_registration_token(Transaction& tx, std::string_view token) {
  auto row = tx.exec_optional(
      std::string("SELECT ") + kColumns + " FROM registration_tokens WHERE token = $1", token);
  if (!row) return std::nullopt;
  return token_from(*row);
}

std::vector<RegistrationToken> list_registration_tokens(Transaction& tx, std::optional<bool> valid,
                                                        std::int64_t now) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM registration_tokens";
  // $1 is unused but keeps kUsable's $2 meaning "now".
  sql += " WHERE $1::boolean IS NULL OR (" + std::string(kUsable) + ") = $1 ORDER BY token";
  std::vector<RegistrationToken> out;
  for (const auto& row : tx.exec(sql, valid, now)) out.push_back(token_from(row));
  return out;
}

bool update_registration_token(Transaction& tx, std::string_view token,
                               const RegistrationTokenUpdate& update) {
  // $2/$4 say whether to set the field, $3/$5 its new value.
  return tx.exec0(
             "UPDATE registration_tokens SET "
             "uses_allowed = CASE WHEN $2 THEN $3::integer ELSE uses_allowed END, "
             "expiry_time = CASE WHEN $4 THEN $5::bigint ELSE expiry_time END "
             "WHERE token = $1",
             token, update.uses_allowed.has_value(),
             update.uses_allowed ? *update.uses_allowed : std::nullopt,
             update.expiry_time.has_value(),
             update.expiry_time ? *update.expiry_time : std::nullopt) == 1;
}

bool delete_registration_token(Transaction& tx, std::string_view token) {
  return tx.exec0("DELETE FROM registration_tokens WHERE token = $1", token) == 1;
}

bool registration_token_usable(Transaction& tx, std::string_view token, std::int64_t now) {
  return tx
      .exec_optional(
          std::string("SELECT 1 FROM registration_tokens WHERE token = $1 AND ") + kUsable, token,
          now)
      .has_value();
}

bool spend_registration_token(Transaction& tx, std::string_view token, std::int64_t now) {
  return tx.exec0(std::string("UPDATE registration_tokens SET completed = completed + 1 "
                              "WHERE token = $1 AND ") +
                      kUsable,
                  token, now) == 1;
}

void refund_registration_token(Transaction& tx, std::string_view token) {
  tx.exec0("UPDATE registration_tokens SET completed = greatest(completed - 1, 0) WHERE token = $1",
           token);
}

}  // namespace eltrix::storage
