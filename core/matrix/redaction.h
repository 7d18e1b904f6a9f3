// The redaction algorithm (Matrix spec, room versions: "Redactions"), which
// decides what survives a redaction and so also what event IDs and signatures
// cover.
#pragma once

#include "matrix/room_version.h"

#include <nlohmann/json.hpp>

namespace eltrix::matrix {

/// Returns `event` stripped to the keys the room version protects from
/// redaction: only the allowed top-level keys, and only the allowed `content`
/// keys for the event's type. v10 follows the v9 rules (top-level `origin`,
/// `membership` and `prev_state` kept; m.room.member keeps
/// join_authorised_via_users_server, m.room.join_rules keeps allow). v11 drops
/// those three top-level keys and keeps all of m.room.create's content,
/// `invite` in m.room.power_levels, `redacts` in m.room.redaction, and only
/// `signed` inside an m.room.member's third_party_invite.
///
/// `unsigned` is removed like any unlisted key. The result always has a
/// `content` object, empty if the event had none. Throws std::invalid_argument
/// if `event` is not a JSON object.
nlohmann::json redact_event(const nlohmann::json& event, const RoomVersion& version);

}  // namespace eltrix::matrix
