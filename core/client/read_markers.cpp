#include "client/read_markers.h"

#include "client/context.h"
#include "client/json_body.h"
#include "client/user_data_common.h"
#include "receipts/receipt_service.h"

namespace eltrix::client {

void add_read_marker_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/_matrix/client/v3/rooms/{roomId}/read_markers",
             [&ctx](http::Request& req) {
               const Requester& who = req.requester();
               std::string room_id = require_room_id(req.path_param("roomId"));
               receipts::ReadMarkers markers;
               markers.fully_read = optional_string(req.json(), "m.fully_read");
               markers.read = optional_string(req.json(), "m.read");
               markers.read_private = optional_string(req.json(), "m.read.private");
               ctx.receipts.set_read_markers(who.user_id, room_id, markers);
               return http::Response::json(200, nlohmann::json::object());
             },
             {.body = http::BodyMode::json});
}

}  // namespace eltrix::client
