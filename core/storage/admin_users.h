// What the admin API reads and writes about local users beyond the accounts
// repository (storage/accounts.h): the paginated user list, the admin-only
// flags (shadow ban, erased) and rate limit overrides
// (migrations/0011_admin_api.sql). Every function runs in a caller's
// Transaction.
#pragma once

#include "storage/database.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::storage {

/// One row of the admin user list (GET /_synapse/admin/v2/users).
struct AdminUser {
  std::string user_id;
  bool admin = false;
  bool deactivated = false;
  bool shadow_banned = false;
  bool erased = false;
  std::int64_t created_ts = 0;
  std::optional<std::string> displayname;
  std::optional<std::string> avatar_url;
  std::optional<std::int64_t> last_seen_ts;
};

/// The columns the list may be ordered by; each falls back to user_id so
/// that paging is stable.
enum class UserOrder {
  name,
  admin,
  deactivated,
  shadow_banned,
  displayname,
  avatar_url,
  creation_ts,
  last_seen_ts,
  is_guest,
  user_type,
};

struct UserListQuery {
  std::int64_t from = 0;
  std::int64_t limit = 100;
  /// Substring of the user ID (ignored when `name` is set).
  std::optional<std::string> user_id;
  /// Substring of the localpart or of the display name.
  std::optional<std::string> name;
  bool include_deactivated = false;
  /// None: admins and others; true: admins only; false: no admins.
  std::optional<bool> admins;
  UserOrder order = UserOrder::name;
  bool backwards = false;
};

struct UserListPage {
  std::vector<AdminUser> users;
  std::int64_t total = 0;
};

UserListPage list_users(Transaction& tx, const UserListQuery& query);

std::optional<AdminUser> find_admin_user(Transaction& tx, std::string_view user_id);

/// False when there is no such user.
bool set_user_admin(Transaction& tx, std::string_view user_id, bool admin);
bool set_shadow_banned(Transaction& tx, std::string_view user_id, bool banned);

/// Marks the user deactivated, removes the password hash (so a reactivation
/// needs a new one) and, with `erase`, the profile; false when there is no
/// such user.
bool mark_deactivated(Transaction& tx, std::string_view user_id, bool erase);
/// Clears deactivated and erased; false when there is no such user.
bool mark_reactivated(Transaction& tx, std::string_view user_id);

/// The hashes of the user's access tokens.
std::vector<std::string> access_token_hashes(Transaction& tx, std::string_view user_id);

struct RatelimitOverride {
  std::int64_t messages_per_second = 0;
  std::int64_t burst_count = 0;
};

std::optional<RatelimitOverride> find_ratelimit_override(Transaction& tx, std::string_view user_id);
void set_ratelimit_override(Transaction& tx, std::string_view user_id,
                            const RatelimitOverride& value);
/// False when there was none.
bool delete_ratelimit_override(Transaction& tx, std::string_view user_id);

/// The cache key under which the Client-Server API keeps a user's
/// restrictions (shadow ban, rate limit override) for a short while; the
/// admin API erases it when it changes either, so the change applies at once.
inline std::string user_restrictions_cache_key(std::string_view user_id) {
  return "urestr:" + std::string(user_id);
}

/// Rooms in which the user's membership is `membership` now.
std::vector<std::string> rooms_with_membership(Transaction& tx, std::string_view user_id,
                                               std::string_view membership);

}  // namespace eltrix::storage
