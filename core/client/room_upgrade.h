// Room upgrades (spec: "Room Upgrades", POST /_matrix/client/v3/rooms/{roomId}/upgrade
// {new_version}): a new room of the asked version whose m.room.create names
// the old room as its predecessor, the spec's transferable state copied
// (server ACL, encryption, name, avatar, topic, guest access, history
// visibility, join rules, power levels) and the bans with it, the local
// aliases and the canonical alias moved, the directory listing moved, a
// tombstone in the old room pointing at the new one, and the old room's
// power levels raised so ordinary members can no longer talk or invite
// there (as Synapse does: events_default and invite to at least 50 and above
// users_default). 400 M_UNSUPPORTED_ROOM_VERSION for a version this server
// does not support, 403 M_FORBIDDEN without the power to send the tombstone.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_room_upgrade_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
