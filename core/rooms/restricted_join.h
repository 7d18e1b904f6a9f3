// Restricted rooms (spec: room versions 8+, "Restricted rooms"; join rules
// "restricted" and "knock_restricted"): who may join without an invite, and
// which resident user vouches for the join.
//
// The joining user's server checks the room's `allow` conditions and names,
// in the join's content, a user of a resident server who has the power to
// invite (join_authorised_via_users_server); the auth rules then accept the
// join only if that user is joined with invite power. The server alone picks
// that user: a client that names one itself would vouch for its own join, so
// whatever a client puts there is replaced.
#pragma once

#include "matrix/room_version.h"
#include "rooms/event_store.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace eltrix::storage {
class Transaction;
}

namespace eltrix::rooms {

/// The content key naming the user who authorised a restricted join.
inline constexpr std::string_view kJoinAuthorisedVia = "join_authorised_via_users_server";

/// For an m.room.member event that `sender` builds on this server: drops any
/// join_authorised_via_users_server from `content`, then, for `sender`'s own
/// join of a restricted (or knock_restricted) room they are not already
/// invited to or joined, checks the `allow` conditions (m.room_membership:
/// the sender is joined to that room) and names the local joined user with
/// the highest power level at or above the invite level.
/// Throws errors::forbidden (M_FORBIDDEN) when no condition is met or no
/// local user can authorise the join. Anything else is left to the auth rules
/// (a ban, an invite-only room, ...).
void authorise_local_join(storage::Transaction& tx, const RoomInfo& room,
                          const matrix::RoomVersion& version, std::string_view sender,
                          std::string_view state_key, nlohmann::json& content,
                          std::string_view server_name);

}  // namespace eltrix::rooms
