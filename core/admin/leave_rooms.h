// Taking a user out of rooms through the room service (never by writing
// room tables): each is an m.room.member event through the one event
// pipeline, so clients, sync and (later) federation see it like any leave.
#pragma once

#include "admin/context.h"

#include <string>
#include <vector>

namespace eltrix::admin {

/// The user leaves every room they are joined to, knocking on, or invited
/// to (an invite is rejected). Returns the rooms left; a room whose leave
/// the pipeline refuses is logged and skipped.
std::vector<std::string> leave_all_rooms(Context& ctx, const std::string& user_id);

}  // namespace eltrix::admin
