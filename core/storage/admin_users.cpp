#include "storage/admin_users.h"

#include <fmt/format.h>

namespace eltrix::storage {
namespace {

// last_seen_ts: the newest of the user's devices (the admin list shows when
// the user was last active, as Synapse's does).
constexpr const char* kSelect =
    "SELECT u.user_id, u.admin, u.deactivated, u.shadow_banned, u.erased, u.created_ts, "
    "u.displayname, u.avatar_url, "
    "(SELECT max(d.last_seen_ts) FROM devices d WHERE d.user_id = u.user_id) AS last_seen_ts "
    "FROM users u";

AdminUser user_from(const pqxx::row& row) {
  return AdminUser{
      .user_id = row[0].as<std::string>(),
      .admin = row[1].as<bool>(),
      .deactivated = row[2].as<bool>(),
      .shadow_banned = row[3].as<bool>(),
      .erased = row[4].as<bool>(),
      .created_ts = row[5].as<std::int64_t>(),
      .displayname = nullable<std::string>(row[6]),
      .avatar_url = nullable<std::string>(row[7]),
      .last_seen_ts = nullable<std::int64_t>(row[8]),
  };
}

/// The SQL expression a UserOrder sorts by (never user input).
const char* order_column(UserOrder order) {
  switch (order) {
    case UserOrder::admin: return "u.admin";
    case UserOrder::deactivated: return "u.deactivated";
    case UserOrder::shadow_banned: return "u.shadow_banned";
    case UserOrder::displayname: return "u.displayname";
    case UserOrder::avatar_url: return "u.avatar_url";
    case UserOrder::creation_ts: return "u.created_ts";
    case UserOrder::last_seen_ts: return "last_seen_ts";
    // Eltrix has no guests and no user types: every row ties, so the
    // user ID alone decides.
    case UserOrder::is_guest:
    case UserOrder::user_type:
    case UserOrder::name: break;
  }
  return nullptr;
}

}  // namespace

UserListPage list_users(Transaction& tx, const UserListQuery& query) {
  // Substrings are matched with strpos, not LIKE, so '%' and '_' in a
  // search mean themselves. $1: user_id filter, $2: name filter.
  std::string where =
      " WHERE ($1::text IS NULL OR strpos(lower(u.user_id), lower($1)) > 0)"
      " AND ($2::text IS NULL OR strpos(lower(split_part(substr(u.user_id, 2), ':', 1)), "
      "lower($2)) > 0 OR strpos(lower(coalesce(u.displayname, '')), lower($2)) > 0)"
      " AND ($3 OR NOT u.deactivated)"
      " AND ($4::boolean IS NULL OR u.admin = $4)";
  // The name filter replaces the user ID filter (Synapse's rule).
  std::optional<std::string> id_filter = query.name ? std::nullopt : query.user_id;
  const char* dir = query.backwards ? "DESC" : "ASC";
  std::string order;
  if (const char* column = order_column(query.order)) {
    order = fmt::format(" ORDER BY {} {} NULLS {}, u.user_id {}", column, dir,
                        query.backwards ? "LAST" : "FIRST", dir);
  } else {
    order = fmt::format(" ORDER BY u.user_id {}", dir);
  }
  UserListPage page;
  auto rows = tx.exec(std::string(kSelect) + where + order + " OFFSET $5 LIMIT $6", id_filter,
                      query.name, query.include_deactivated, query.admins, query.from, query.limit);
  for (const auto& row : rows) page.users.push_back(user_from(row));
  page.total = tx.exec1("SELECT count(*) FROM users u" + where, id_filter, query.name,
                        query.include_deactivated, query.admins)[0]
                   .as<std::int64_t>();
  return page;
}

std::optional<AdminUser> find_admin_user(Transaction& tx, std::string_view user_id) {
  auto row = tx.exec_optional(std::string(kSelect) + " WHERE u.user_id = $1", user_id);
  if (!row) return std::nullopt;
  return user_from(*row);
}

bool set_user_admin(Transaction& tx, std::string_view user_id, bool admin) {
  return tx.exec0("UPDATE users SET admin = $2 WHERE user_id = $1", user_id, admin) == 1;
}

bool set_shadow_banned(Transaction& tx, std::string_view user_id, bool banned) {
  return tx.exec0("UPDATE users SET shadow_banned = $2 WHERE user_id = $1", user_id, banned) == 1;
}

bool mark_deactivated(Transaction& tx, std::string_view user_id, bool erase) {
  return tx.exec0(
             "UPDATE users SET deactivated = true, password_hash = NULL, "
             "erased = erased OR $2, "
             "displayname = CASE WHEN $2 THEN NULL ELSE displayname END, "
             "avatar_url = CASE WHEN $2 THEN NULL ELSE avatar_url END "
             "WHERE user_id = $1",
             user_id, erase) == 1;
}

bool mark_reactivated(Transaction& tx, std::string_view user_id) {
  return tx.exec0("UPDATE users SET deactivated = false, erased = false WHERE user_id = $1",
                  user_id) == 1;
}

std::vector<std::string> access_token_hashes(Transaction& tx, std::string_view user_id) {
  std::vector<std::string> out;
  for (const auto& row :
       tx.exec("SELECT token_hash FROM access_tokens WHERE user_id = $1", user_id)) {
    out.push_back(row[0].as<std::string>());
  }
  return out;
}

std::optional<RatelimitOverride> find_ratelimit_override(Transaction& tx,
                                                         std::string_view user_id) {
  auto row = tx.exec_optional(
      "SELECT messages_per_second, burst_count FROM ratelimit_overrides WHERE user_id = $1",
      user_id);
  if (!row) return std::nullopt;
  return RatelimitOverride{.messages_per_second = (*row)[0].as<std::int64_t>(),
                           .burst_count = (*row)[1].as<std::int64_t>()};
}

void set_ratelimit_override(Transaction& tx, std::string_view user_id,
                            const RatelimitOverride& value) {
  tx.exec(
      "INSERT INTO ratelimit_overrides (user_id, messages_per_second, burst_count) "
      "VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET "
      "messages_per_second = EXCLUDED.messages_per_second, burst_count = EXCLUDED.burst_count",
      user_id, value.messages_per_second, value.burst_count);
}

bool delete_ratelimit_override(Transaction& tx, std::string_view user_id) {
  return tx.exec0("DELETE FROM ratelimit_overrides WHERE user_id = $1", user_id) == 1;
}

std::vector<std::string> rooms_with_membership(Transaction& tx, std::string_view user_id,
                                               std::string_view membership) {
  std::vector<std::string> out;
  for (const auto& row :
       tx.exec("SELECT room_id FROM room_memberships WHERE user_id = $1 AND membership = $2 "
               "ORDER BY room_id",
               user_id, membership)) {
    out.push_back(row[0].as<std::string>());
  }
  return out;
}

}  // namespace eltrix::storage
