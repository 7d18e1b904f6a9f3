// Profiles (spec: "Profiles"): GET /profile/{userId}, GET/PUT
// /profile/{userId}/displayname and /profile/{userId}/avatar_url. Values live
// in users.displayname / users.avatar_url (migration 0003). A change is
// announced like the spec asks: a new m.room.member join event in every room
// the user is joined to, and a presence update.
#pragma once

#include "http/router.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::client {

struct Context;

/// Longest display name, in characters (Unicode code points).
inline constexpr std::size_t kMaxDisplaynameChars = 256;
/// Longest avatar URL, in bytes.
inline constexpr std::size_t kMaxAvatarUrlBytes = 1000;

/// Whether `uri` is an "mxc://<server-name>/<media-id>" URI.
bool is_mxc_uri(std::string_view uri);

/// Sends the user's m.room.member join event again in every room they are
/// joined to, with `displayname` and `avatar_url` (absent when nullopt) and
/// the rest of the current content kept. Failures in one room are logged and
/// do not stop the others. Returns the number of rooms updated.
std::size_t propagate_profile(Context& ctx, const std::string& user_id,
                              const std::optional<std::string>& displayname,
                              const std::optional<std::string>& avatar_url);

void add_profile_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
