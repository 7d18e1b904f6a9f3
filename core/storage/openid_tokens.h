// OpenID tokens (migration 0014): stored by hash, expiring.
#pragma once

#include "storage/database.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::storage {

/// Stores a token (by its hash) for `user_id` until `expires_ts`, and drops
/// tokens that expired before `now_ts` (so the table stays as small as the
/// tokens in use).
void create_openid_token(Transaction& tx, std::string_view token_hash, std::string_view user_id,
                         std::int64_t expires_ts, std::int64_t now_ts);

/// The user's tokens still valid at `now_ts`.
std::int64_t count_openid_tokens(Transaction& tx, std::string_view user_id, std::int64_t now_ts);

/// Drops every token of the user (deactivation).
void delete_openid_tokens(Transaction& tx, std::string_view user_id);

/// The user of an unexpired token, if any, and only while the account is
/// active.
std::optional<std::string> openid_token_user(Transaction& tx, std::string_view token_hash,
                                             std::int64_t now_ts);

}  // namespace eltrix::storage
