#include "client/profile.h"

#include "client/auth.h"
#include "client/json_body.h"
#include "client/rate_limit_impl.h"
#include "client/room_access.h"
#include "client/user_data_common.h"
#include "config/client_keys.h"
#include "config/config.h"
#include "errors/error.h"
#include "log/log.h"
#include "notify/notifier.h"
#include "rooms/room_service.h"
#include "storage/database.h"
#include "storage/user_data.h"

#include <fmt/format.h>

namespace eltrix::client {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("profile");
  return instance;
}

std::size_t code_points(std::string_view text) {
  // The body parser only accepts valid UTF-8, so counting the bytes that do
  // not continue a sequence counts the characters.
  std::size_t count = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::optional<storage::Profile> load_profile(Context& ctx, const std::string& user_id) {
  auto lookup = [&](storage::Transaction& tx) { return storage::get_profile(tx, user_id); };
  auto profile = ctx.db.read(lookup);
  // A user registered a moment ago may not be on the replica yet.
  if (!profile) profile = ctx.db.write(lookup);
  return profile;
}

storage::Profile require_profile(Context& ctx, const std::string& user_id) {
  auto profile = load_profile(ctx, user_id);
  // Remote profiles need federation, which is not there yet: they read as
  // unknown, like local users that do not exist.
  if (!profile) throw not_found("Profile not found");
  return *profile;
}

/// Who may read whose profile (profile.require_auth_for_profile_requests and
/// profile.limit_profile_requests_to_users_who_share_rooms), read once.
struct ProfileReadPolicy {
  bool require_auth = false;
  bool shared_rooms_only = false;
};

/// The profile of `user_id` as the caller of `req` may see it. With either
/// option on, anonymous callers get 401 M_MISSING_TOKEN: the shared-rooms
/// check needs to know the caller, and without a token it would be skipped
/// (as Synapse does, which makes that option alone leak what it means to
/// hide). A caller who shares no room gets 403 M_FORBIDDEN whether or not
/// the user exists, so the answer does not tell existing accounts apart.
storage::Profile readable_profile(Context& ctx, const ProfileReadPolicy& policy, http::Request& req,
                                  const std::string& user_id) {
  if (policy.require_auth || policy.shared_rooms_only) {
    const Requester& who = req.requester();  // the route required a token (read_auth)
    // A replica may serve this; the requester's own joins are read-your-writes.
    if (policy.shared_rooms_only && who.user_id != user_id &&
        !ctx.db.read(
            [&](storage::Transaction& tx) { return share_a_room(tx, who.user_id, user_id); })) {
      throw http::MatrixError(403, "M_FORBIDDEN", "Profile isn't available");
    }
  }
  return require_profile(ctx, user_id);
}

enum class Field { displayname, avatar_url };

std::size_t propagate_to(Context& ctx, const std::string& user_id,
                         const std::vector<std::string>& rooms,
                         const std::optional<std::string>& displayname,
                         const std::optional<std::string>& avatar_url);

/// Stores one profile field; when it changed, re-announces presence and the
/// member events.
void update_profile(Context& ctx, const std::string& user_id, Field field,
                    const std::optional<std::string>& value) {
  auto changed = ctx.db.write([&](storage::Transaction& tx) -> std::optional<storage::Profile> {
    auto old = storage::get_profile(tx, user_id);
    if (!old) throw not_found("Profile not found");
    const auto& current = field == Field::displayname ? old->displayname : old->avatar_url;
    // Setting the same value again sends nothing: clients re-send their
    // profile at start, and every change costs an event in every room.
    if (current == value) return std::nullopt;
    if (field == Field::displayname) {
      storage::set_displayname(tx, user_id, value);
      old->displayname = value;
    } else {
      storage::set_avatar_url(tx, user_id, value);
      old->avatar_url = value;
    }
    // The spec sends the new values in m.presence too: re-stamping the
    // presence row makes syncs send it again, read with the new profile.
    storage::restamp_presence(tx, user_id);
    return old;
  });
  if (!changed) return;
  std::vector<std::string> rooms;
  try {
    rooms = ctx.rooms.joined_rooms(user_id);
  } catch (const std::exception& e) {
    logger().error("profile not propagated: joined rooms unavailable",
                   {{"user_id", user_id}, {"error", e.what()}});
  }
  std::vector<std::string> keys;
  keys.reserve(rooms.size() + 1);
  for (const auto& room : rooms) keys.push_back(notify::room_key(room));
  keys.push_back(notify::user_key(user_id));
  wake(ctx, keys);
  propagate_to(ctx, user_id, rooms, changed->displayname, changed->avatar_url);
}

std::size_t propagate_to(Context& ctx, const std::string& user_id,
                         const std::vector<std::string>& rooms,
                         const std::optional<std::string>& displayname,
                         const std::optional<std::string>& avatar_url) {
  // One member event per room is the spec's way to announce a profile, but
  // a user in thousands of rooms would make one request write thousands of
  // events: the work of one change is capped (the profile itself always
  // changes; rooms past the cap keep the old name in their member list).
  const auto cap =
      static_cast<std::size_t>(ctx.config.get_int(config::keys::kProfileMaxRoomUpdates, 500));
  if (rooms.size() > cap) {
    logger().warn("profile change not propagated to every room",
                  {{"user_id", user_id},
                   {"rooms", std::to_string(rooms.size())},
                   {"updated", std::to_string(cap)},
                   {"limit_key", config::keys::kProfileMaxRoomUpdates}});
  }
  std::size_t updated = 0;
  std::size_t attempted = 0;
  for (const auto& room_id : rooms) {
    if (attempted++ == cap) break;
    try {
      nlohmann::json content = nlohmann::json::object();
      if (auto current = ctx.rooms.current_state_event(room_id, "m.room.member", user_id)) {
        if (auto it = current->find("content"); it != current->end() && it->is_object()) {
          content = *it;
        }
      }
      if (content.value("membership", "") != "join") continue;  // left meanwhile
      // The profile is the same in every room: a per-room name set by an
      // earlier member event is replaced, as other servers do.
      if (displayname) {
        content["displayname"] = *displayname;
      } else {
        content.erase("displayname");
      }
      if (avatar_url) {
        content["avatar_url"] = *avatar_url;
      } else {
        content.erase("avatar_url");
      }
      sent_or_throw(ctx.rooms.send(
          room_id,
          {.type = "m.room.member", .sender = user_id, .content = content, .state_key = user_id}));
      ++updated;
    } catch (const errors::Error& e) {
      logger().warn("profile not propagated to a room", {{"user_id", user_id},
                                                         {"room_id", room_id},
                                                         {"errcode", e.errcode()},
                                                         {"error", e.what()}});
    } catch (const std::exception& e) {
      logger().error("profile not propagated to a room",
                     {{"user_id", user_id}, {"room_id", room_id}, {"error", e.what()}});
    }
  }
  return updated;
}

}  // namespace

bool is_mxc_uri(std::string_view uri) {
  constexpr std::string_view kScheme = "mxc://";
  if (uri.substr(0, kScheme.size()) != kScheme) return false;
  auto rest = uri.substr(kScheme.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) return false;
  // Media IDs are opaque but URL-safe: no further '/', no spaces or controls.
  for (char c : rest.substr(slash + 1)) {
    if (c == '/' || static_cast<unsigned char>(c) <= 0x20) return false;
  }
  for (char c : rest.substr(0, slash)) {
    if (static_cast<unsigned char>(c) <= 0x20) return false;
  }
  return true;
}

std::size_t propagate_profile(Context& ctx, const std::string& user_id,
                              const std::optional<std::string>& displayname,
                              const std::optional<std::string>& avatar_url) {
  std::vector<std::string> rooms;
  try {
    rooms = ctx.rooms.joined_rooms(user_id);
  } catch (const std::exception& e) {
    logger().error("profile not propagated: joined rooms unavailable",
                   {{"user_id", user_id}, {"error", e.what()}});
    return 0;
  }
  return propagate_to(ctx, user_id, rooms, displayname, avatar_url);
}

void add_profile_routes(http::Router& router, Context& ctx) {
  // The GETs need no access token (the spec lists no security for them)
  // unless the operator asks for one.
  const ProfileReadPolicy policy{
      .require_auth = ctx.config.get_bool(config::keys::kProfileRequireAuth, false),
      .shared_rooms_only = ctx.config.get_bool(config::keys::kProfileLimitToSharedRooms, false)};
  const http::RouteOptions read_auth{.auth = policy.require_auth || policy.shared_rooms_only
                                                 ? http::Auth::required
                                                 : http::Auth::none};
  router.add(
      "GET", "/_matrix/client/v3/profile/{userId}",
      [&ctx, policy](http::Request& req) {
        std::string user_id = require_user_id(req.path_param("userId"));
        auto profile = readable_profile(ctx, policy, req, user_id);
        nlohmann::json out = nlohmann::json::object();
        if (profile.displayname) out["displayname"] = *profile.displayname;
        if (profile.avatar_url) out["avatar_url"] = *profile.avatar_url;
        return http::Response::json(200, out);
      },
      read_auth);

  router.add(
      "GET", "/_matrix/client/v3/profile/{userId}/displayname",
      [&ctx, policy](http::Request& req) {
        std::string user_id = require_user_id(req.path_param("userId"));
        auto profile = readable_profile(ctx, policy, req, user_id);
        nlohmann::json out = nlohmann::json::object();
        if (profile.displayname) out["displayname"] = *profile.displayname;
        return http::Response::json(200, out);
      },
      read_auth);

  router.add(
      "GET", "/_matrix/client/v3/profile/{userId}/avatar_url",
      [&ctx, policy](http::Request& req) {
        std::string user_id = require_user_id(req.path_param("userId"));
        auto profile = readable_profile(ctx, policy, req, user_id);
        nlohmann::json out = nlohmann::json::object();
        if (profile.avatar_url) out["avatar_url"] = *profile.avatar_url;
        return http::Response::json(200, out);
      },
      read_auth);

  router.add("PUT", "/_matrix/client/v3/profile/{userId}/displayname",
             [&ctx](http::Request& req) {
               const Requester& who = req.requester();
               std::string user_id = require_self(who, req.path_param("userId"),
                                                  "Cannot set the display name of another user");
               if (auto limited = rate_limited(ctx, RateLimitedAction::profile, who.user_id)) {
                 return *limited;
               }
               if (!req.json().contains("displayname")) {
                 throw http::MatrixError(400, "M_MISSING_PARAM", "'displayname' is required");
               }
               auto name = optional_string(req.json(), "displayname");
               if (name && code_points(*name) > kMaxDisplaynameChars) {
                 throw invalid_param(fmt::format("'displayname' is longer than {} characters",
                                                 kMaxDisplaynameChars));
               }
               // An empty name clears it, as null does.
               if (name && name->empty()) name.reset();
               update_profile(ctx, user_id, Field::displayname, name);
               return http::Response::json(200, nlohmann::json::object());
             },
             {.body = http::BodyMode::json});

  router.add(
      "PUT", "/_matrix/client/v3/profile/{userId}/avatar_url",
      [&ctx](http::Request& req) {
        const Requester& who = req.requester();
        std::string user_id =
            require_self(who, req.path_param("userId"), "Cannot set the avatar of another user");
        if (auto limited = rate_limited(ctx, RateLimitedAction::profile, who.user_id)) {
          return *limited;
        }
        if (!req.json().contains("avatar_url")) {
          throw http::MatrixError(400, "M_MISSING_PARAM", "'avatar_url' is required");
        }
        // An empty URL clears the avatar, as null does.
        std::optional<std::string> url;
        if (auto given = optional_string(req.json(), "avatar_url"); given && !given->empty()) {
          if (given->size() > kMaxAvatarUrlBytes) {
            throw invalid_param(
                fmt::format("'avatar_url' is longer than {} bytes", kMaxAvatarUrlBytes));
          }
          if (!is_mxc_uri(*given)) throw invalid_param("'avatar_url' must be an mxc:// URI");
          url = std::move(*given);
        }
        update_profile(ctx, user_id, Field::avatar_url, url);
        return http::Response::json(200, nlohmann::json::object());
      },
      {.body = http::BodyMode::json});
}

}  // namespace eltrix::client
