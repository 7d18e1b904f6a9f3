// Reporting content (spec: "Reporting content"):
// POST /_matrix/client/v3/rooms/{roomId}/report/{eventId} {reason?, score?}.
// The report is stored for the server's admins, who read it through
// /_synapse/admin/v1/event_reports. Only a member of the room can report,
// and an unknown event and a room the user is not in both answer 404
// M_NOT_FOUND, so reports cannot probe which events exist.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_report_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
