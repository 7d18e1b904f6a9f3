// Registration tokens (migrations/0011_admin_api.sql): managed through the
// admin API (/_synapse/admin/v1/registration_tokens), spent by /register's
// m.login.registration_token stage. Every function runs in a caller's
// Transaction.
#pragma once

#include "storage/database.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::storage {

struct RegistrationToken {
  std::string token;
  std::optional<std::int64_t> uses_allowed;  ///< none: unlimited
  std::int64_t pending = 0;
  std::int64_t completed = 0;
  std::optional<std::int64_t> expiry_time;  ///< ms since the epoch; none: never
};

/// False (nothing written) when the token exists already.
bool create_registration_token(Transaction& tx, const RegistrationToken& token);

std::optional<RegistrationToken> find_registration_token(Transaction& tx, std::string_view token);

/// All tokens; with `valid`, only those still usable at `now` (true) or
/// only those used up or expired (false).
std::vector<RegistrationToken> list_registration_tokens(Transaction& tx, std::optional<bool> valid,
                                                        std::int64_t now);

/// Sets the fields that are present (an inner nullopt clears one); false
/// when there is no such token.
struct RegistrationTokenUpdate {
  std::optional<std::optional<std::int64_t>> uses_allowed;
  std::optional<std::optional<std::int64_t>> expiry_time;
};
bool update_registration_token(Transaction& tx, std::string_view token,
                               const RegistrationTokenUpdate& update);

bool delete_registration_token(Transaction& tx, std::string_view token);

/// Whether the token exists and can still be used at `now`.
bool registration_token_usable(Transaction& tx, std::string_view token, std::int64_t now);

/// Counts one completed registration against the token if it is still
/// usable at `now`, in one statement (two registrations racing for the last
/// use cannot both get it); false when it is not usable.
bool spend_registration_token(Transaction& tx, std::string_view token, std::int64_t now);

/// Gives back a use spent by a registration that then failed.
void refund_registration_token(Transaction& tx, std::string_view token);

}  // namespace eltrix::storage
