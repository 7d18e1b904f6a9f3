// Content checks for the state events this server interprets (spec: the
// m.room.* event schemas of the client-server API; Synapse's EventValidator
// makes the same kind of checks). A local client sending one of these with
// content of the wrong shape gets 400 M_BAD_JSON before anything is stored,
// so what we write ourselves is always readable. Events from other servers
// are not refused here (they are checked by the authorization rules only),
// which is why every reader must still cope with any JSON: see
// history_visibility.h and power_levels.h for how malformed stored content
// reads. Pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace eltrix::matrix {

/// Why `content` is not valid for a state event of `type`, or nullopt when it
/// is (or when the type is not one this server interprets):
///  - m.room.create: room_version and type strings, creator a user ID,
///    m.federate a boolean, predecessor an object with a room_id string;
///  - m.room.member: membership one of join/invite/leave/ban/knock,
///    displayname/avatar_url strings or null, is_direct a boolean, reason and
///    join_authorised_via_users_server strings;
///  - m.room.power_levels: integers only (room versions 10+ refuse the
///    integer strings older versions took), events/users/notifications
///    objects of integers, users keyed by user IDs (PowerLevels::parse);
///  - m.room.join_rules: join_rule a known rule; allow, when present, a list
///    of objects with a string type (and a room_id for m.room_membership);
///  - m.room.history_visibility: one of world_readable, shared, invited, joined;
///  - m.room.guest_access: can_join or forbidden;
///  - m.room.encryption: algorithm a string, rotation periods non-negative
///    integers;
///  - m.room.name, m.room.topic: name/topic strings; m.room.avatar: url a
///    string; m.room.tombstone: replacement_room a string.
/// m.room.canonical_alias is checked with the directory instead
/// (storage::validate_canonical_alias: M_INVALID_PARAM or M_BAD_ALIAS, as the
/// spec says).
std::optional<std::string> invalid_state_content(std::string_view type,
                                                 const nlohmann::json& content);

}  // namespace eltrix::matrix
