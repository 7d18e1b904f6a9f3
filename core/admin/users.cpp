// Users: Synapse's user admin API (docs/admin-api.md, "Users").
#include "accounts/account_service.h"
#include "accounts/device_service.h"
#include "admin/areas.h"
#include "admin/leave_rooms.h"
#include "admin/params.h"
#include "admin/user_json.h"
#include "matrix/ids.h"
#include "rooms/room_service.h"
#include "storage/admin_users.h"
#include "storage/user_data.h"

#include <map>

namespace eltrix::admin {
namespace {

/// Longest display name the admin API sets, in bytes (the profile API's
/// bound).
constexpr std::size_t kMaxDisplaynameBytes = 256;
constexpr std::size_t kMaxPasswordBytes = 512;

const std::map<std::string, storage::UserOrder, std::less<>>& user_orders() {
  using O = storage::UserOrder;
  static const std::map<std::string, O, std::less<>> orders = {
      {"name", O::name},
      {"is_guest", O::is_guest},
      {"admin", O::admin},
      {"user_type", O::user_type},
      {"deactivated", O::deactivated},
      {"shadow_banned", O::shadow_banned},
      {"displayname", O::displayname},
      {"avatar_url", O::avatar_url},
      {"creation_ts", O::creation_ts},
      {"last_seen_ts", O::last_seen_ts},
  };
  return orders;
}

storage::AdminUser require_user(Context& ctx, const std::string& user_id) {
  // The primary: an admin reads back what they changed a moment ago.
  auto user =
      ctx.db.write([&](storage::Transaction& tx) { return storage::find_admin_user(tx, user_id); });
  if (!user) throw not_found("User not found");
  return *user;
}

http::Response list_users(Context& ctx, http::Request& req) {
  storage::UserListQuery query;
  const Page page = query_page(req);
  query.from = page.from;
  query.limit = page.limit;
  query.user_id = req.query("user_id");
  query.name = req.query("name");
  // Eltrix has no guests, so guests=false filters nothing; it is still
  // checked, as Synapse checks it.
  (void)query_bool(req, "guests");
  query.include_deactivated = query_bool(req, "deactivated").value_or(false);
  query.admins = query_bool(req, "admins");
  if (auto order = req.query("order_by")) {
    auto it = user_orders().find(*order);
    if (it == user_orders().end()) throw invalid_param("Unknown value for order_by: " + *order);
    query.order = it->second;
  }
  query.backwards = query_backwards(req);
  auto result =
      ctx.db.read([&](storage::Transaction& tx) { return storage::list_users(tx, query); });
  nlohmann::json users = nlohmann::json::array();
  for (const auto& user : result.users) users.push_back(user_list_entry(user));
  nlohmann::json out = {{"users", users}, {"total", result.total}};
  const std::int64_t next = query.from + static_cast<std::int64_t>(result.users.size());
  if (!result.users.empty() && next < result.total) out["next_token"] = std::to_string(next);
  return http::Response::json(200, out);
}

void set_password(Context& ctx, const std::string& user_id, const std::string& password,
                  bool log_out_devices) {
  ctx.accounts.change_password(
      {.user_id = user_id, .new_password = password, .log_out_other_devices = log_out_devices});
}

void deactivate(Context& ctx, const std::string& user_id, bool erase) {
  // The account first, so the user can do nothing more, then the rooms.
  ctx.accounts.deactivate(user_id, erase);
  leave_all_rooms(ctx, user_id);
}

/// Applies the profile fields of a PUT body ("" clears a field).
void apply_profile(Context& ctx, const std::string& user_id, const nlohmann::json& body) {
  auto displayname = body_string(body, "displayname", kMaxDisplaynameBytes);
  auto avatar_url = body_string(body, "avatar_url");
  if (avatar_url && !avatar_url->empty() && avatar_url->rfind("mxc://", 0) != 0) {
    throw invalid_param("avatar_url must be an mxc:// URI");
  }
  if (!displayname && !avatar_url) return;
  ctx.db.write([&](storage::Transaction& tx) {
    auto clear_if_empty = [](const std::string& v) {
      return v.empty() ? std::nullopt : std::optional<std::string>(v);
    };
    if (displayname) storage::set_displayname(tx, user_id, clear_if_empty(*displayname));
    if (avatar_url) storage::set_avatar_url(tx, user_id, clear_if_empty(*avatar_url));
  });
}

/// Fields Eltrix cannot store: accepted when they ask for nothing (the
/// values synapse-admin sends back on every edit), refused otherwise.
void refuse_unsupported(const nlohmann::json& body) {
  for (const char* field : {"threepids", "external_ids"}) {
    auto it = body.find(field);
    if (it == body.end() || it->is_null()) continue;
    if (!it->is_array()) throw invalid_param(std::string(field) + " must be an array");
    if (!it->empty()) {
      throw invalid_param(std::string(field) + " are not supported by this server");
    }
  }
  if (auto it = body.find("user_type"); it != body.end() && !it->is_null()) {
    throw invalid_param("user types are not supported by this server");
  }
  if (body_bool(body, "locked").value_or(false)) {
    throw invalid_param("locking accounts is not supported by this server");
  }
}

http::Response put_user(Context& ctx, http::Request& req) {
  const std::string user_id = local_user_param(ctx, req);
  const nlohmann::json& body = req.json();
  refuse_unsupported(body);
  auto password = body_string(body, "password", kMaxPasswordBytes);
  const bool logout_devices = body_bool(body, "logout_devices").value_or(true);
  auto admin = body_bool(body, "admin");
  auto deactivated = body_bool(body, "deactivated");
  // Checked before anything is written, so a bad field changes nothing.
  (void)body_string(body, "displayname", kMaxDisplaynameBytes);
  (void)body_string(body, "avatar_url");
  if (password) ctx.accounts.require_password_policy(*password);

  auto existing =
      ctx.db.write([&](storage::Transaction& tx) { return storage::find_admin_user(tx, user_id); });
  if (!existing) {
    const std::string localpart = matrix::parse_user_id(user_id)->localpart;
    if (!matrix::is_valid_new_localpart(localpart)) {
      throw http::MatrixError(400, "M_INVALID_USERNAME",
                              "User ID can only contain characters a-z, 0-9, or '=_-./+'");
    }
    // Eltrix logs in with passwords only, so an account needs one.
    if (!password) throw http::MatrixError(400, "M_MISSING_PARAM", "password is required");
    ctx.accounts.create({.localpart = localpart,
                         .password = *password,
                         .admin = admin.value_or(false),
                         .displayname = body_string(body, "displayname", kMaxDisplaynameBytes)});
    if (auto avatar = body_string(body, "avatar_url"); avatar && !avatar->empty()) {
      apply_profile(ctx, user_id, nlohmann::json{{"avatar_url", *avatar}});
    }
    if (deactivated.value_or(false)) deactivate(ctx, user_id, false);
    return http::Response::json(201, user_details(require_user(ctx, user_id)));
  }

  if (admin && !*admin && existing->admin && user_id == req.requester().user_id) {
    throw invalid_param("You may not demote yourself.");
  }
  const bool reactivating = deactivated && !*deactivated && existing->deactivated;
  if (reactivating && !password) {
    throw invalid_param("Must provide a password to re-activate an account.");
  }
  if (reactivating) ctx.accounts.reactivate(user_id);
  if (password) set_password(ctx, user_id, *password, logout_devices);
  apply_profile(ctx, user_id, body);
  if (admin && *admin != existing->admin) ctx.accounts.set_admin(user_id, *admin);
  if (deactivated && *deactivated && !existing->deactivated) deactivate(ctx, user_id, false);
  return http::Response::json(200, user_details(require_user(ctx, user_id)));
}

http::Response post_deactivate(Context& ctx, http::Request& req) {
  const std::string user_id = local_user_param(ctx, req);
  const nlohmann::json body = body_object(req);
  const bool erase = body_bool(body, "erase").value_or(false);
  (void)require_user(ctx, user_id);
  deactivate(ctx, user_id, erase);
  // No identity servers are bound, so there is nothing to unbind.
  return http::Response::json(200, nlohmann::json{{"id_server_unbind_result", "success"}});
}

http::Response post_reset_password(Context& ctx, http::Request& req) {
  const std::string user_id = local_user_param(ctx, req);
  auto password = body_string(req.json(), "new_password", kMaxPasswordBytes);
  if (!password) throw http::MatrixError(400, "M_MISSING_PARAM", "new_password is required");
  const bool logout_devices = body_bool(req.json(), "logout_devices").value_or(true);
  (void)require_user(ctx, user_id);
  set_password(ctx, user_id, *password, logout_devices);
  return http::Response::json(200, nlohmann::json::object());
}

http::Response get_whois(Context& ctx, http::Request& req) {
  const std::string user_id = local_user_param(ctx, req);
  (void)require_user(ctx, user_id);
  // One session per device, its last connection as recorded at most every
  // few minutes (devices.last_seen_*); user agents are not recorded.
  nlohmann::json devices = nlohmann::json::object();
  for (const auto& device : ctx.devices.list(user_id)) {
    nlohmann::json connections = nlohmann::json::array();
    if (device.last_seen_ts) {
      connections.push_back({{"ip", device.last_seen_ip.value_or("")},
                             {"last_seen", *device.last_seen_ts},
                             {"user_agent", nullptr}});
    }
    devices[device.device_id] = {{"sessions", {{{"connections", connections}}}}};
  }
  return http::Response::json(200, nlohmann::json{{"user_id", user_id}, {"devices", devices}});
}

http::Response get_joined_rooms(Context& ctx, http::Request& req) {
  const std::string user_id = user_param(req);
  auto rooms = ctx.rooms.joined_rooms(user_id);
  return http::Response::json(200,
                              nlohmann::json{{"joined_rooms", rooms}, {"total", rooms.size()}});
}

http::Response get_admin_flag(Context& ctx, http::Request& req) {
  const std::string user_id = local_user_param(ctx, req);
  return http::Response::json(200, nlohmann::json{{"admin", require_user(ctx, user_id).admin}});
}

http::Response put_admin_flag(Context& ctx, http::Request& req) {
  const std::string user_id = local_user_param(ctx, req);
  auto admin = body_bool(req.json(), "admin");
  if (!admin) throw http::MatrixError(400, "M_MISSING_PARAM", "admin is required");
  auto user = require_user(ctx, user_id);
  if (!*admin && user_id == req.requester().user_id) {
    throw invalid_param("You may not demote yourself.");
  }
  if (user.admin != *admin) ctx.accounts.set_admin(user_id, *admin);
  return http::Response::json(200, nlohmann::json::object());
}

/// The Client-Server API caches a user's restrictions (client/
/// user_restrictions.h); dropping the entry (on every node: erase is
/// relayed with a per-node cache) applies a change at once.
void forget_restrictions(Context& ctx, const std::string& user_id) {
  ctx.cache.erase(storage::user_restrictions_cache_key(user_id));
}

http::Response shadow_ban(Context& ctx, http::Request& req, bool banned) {
  const std::string user_id = local_user_param(ctx, req);
  const bool found = ctx.db.write(
      [&](storage::Transaction& tx) { return storage::set_shadow_banned(tx, user_id, banned); });
  if (!found) throw not_found("User not found");
  forget_restrictions(ctx, user_id);
  return http::Response::json(200, nlohmann::json::object());
}

nlohmann::json override_json(const storage::RatelimitOverride& value) {
  return {{"messages_per_second", value.messages_per_second}, {"burst_count", value.burst_count}};
}

http::Response get_ratelimit(Context& ctx, http::Request& req) {
  const std::string user_id = local_user_param(ctx, req);
  (void)require_user(ctx, user_id);
  auto value = ctx.db.read(
      [&](storage::Transaction& tx) { return storage::find_ratelimit_override(tx, user_id); });
  return http::Response::json(200, value ? override_json(*value) : nlohmann::json::object());
}

http::Response post_ratelimit(Context& ctx, http::Request& req) {
  const std::string user_id = local_user_param(ctx, req);
  const nlohmann::json body = body_object(req);
  storage::RatelimitOverride value{
      .messages_per_second = body_int(body, "messages_per_second").value_or(0),
      .burst_count = body_int(body, "burst_count").value_or(0)};
  constexpr std::int64_t kMax = 1'000'000'000;  // fits the integer columns
  if (value.messages_per_second < 0 || value.messages_per_second > kMax) {
    throw invalid_param("messages_per_second must be a non-negative integer");
  }
  if (value.burst_count < 0 || value.burst_count > kMax) {
    throw invalid_param("burst_count must be a non-negative integer");
  }
  (void)require_user(ctx, user_id);
  ctx.db.write(
      [&](storage::Transaction& tx) { storage::set_ratelimit_override(tx, user_id, value); });
  forget_restrictions(ctx, user_id);
  return http::Response::json(200, override_json(value));
}

http::Response delete_ratelimit(Context& ctx, http::Request& req) {
  const std::string user_id = local_user_param(ctx, req);
  (void)require_user(ctx, user_id);
  ctx.db.write([&](storage::Transaction& tx) { storage::delete_ratelimit_override(tx, user_id); });
  forget_restrictions(ctx, user_id);
  return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_user_routes(http::Router& router, Context& ctx) {
  const AreaRoutes on(router, ctx);
  using enum http::BodyMode;
  on("GET", "/_synapse/admin/v2/users", list_users, none);
  on(
      "GET", "/_synapse/admin/v2/users/{userId}",
      [](Context& c, http::Request& r) {
        return http::Response::json(200, user_details(require_user(c, local_user_param(c, r))));
      },
      none);
  on("PUT", "/_synapse/admin/v2/users/{userId}", put_user, json);
  on("POST", "/_synapse/admin/v1/deactivate/{userId}", post_deactivate, raw);
  on("POST", "/_synapse/admin/v1/reset_password/{userId}", post_reset_password, json);
  on("GET", "/_synapse/admin/v1/whois/{userId}", get_whois, none);
  // The Client-Server API's own whois (spec: "Server administration").
  on("GET", "/_matrix/client/v3/admin/whois/{userId}", get_whois, none);
  on("GET", "/_matrix/client/r0/admin/whois/{userId}", get_whois, none);
  on("GET", "/_synapse/admin/v1/users/{userId}/joined_rooms", get_joined_rooms, none);
  // Eltrix has no push gateway support yet, so no user has pushers; the
  // empty list keeps synapse-admin's user page working.
  on(
      "GET", "/_synapse/admin/v1/users/{userId}/pushers",
      [](Context& c, http::Request& r) {
        (void)require_user(c, local_user_param(c, r));
        return http::Response::json(
            200, nlohmann::json{{"pushers", nlohmann::json::array()}, {"total", 0}});
      },
      none);
  on("GET", "/_synapse/admin/v1/users/{userId}/admin", get_admin_flag, none);
  on("PUT", "/_synapse/admin/v1/users/{userId}/admin", put_admin_flag, json);
  on(
      "POST", "/_synapse/admin/v1/users/{userId}/shadow_ban",
      [](Context& c, http::Request& r) { return shadow_ban(c, r, true); }, none);
  on(
      "DELETE", "/_synapse/admin/v1/users/{userId}/shadow_ban",
      [](Context& c, http::Request& r) { return shadow_ban(c, r, false); }, none);
  on("GET", "/_synapse/admin/v1/users/{userId}/override_ratelimit", get_ratelimit, none);
  on("POST", "/_synapse/admin/v1/users/{userId}/override_ratelimit", post_ratelimit, raw);
  on("DELETE", "/_synapse/admin/v1/users/{userId}/override_ratelimit", delete_ratelimit, none);
}

}  // namespace eltrix::admin
