#include "client/receipts.h"

#include "client/json_body.h"
#include "client/read_markers.h"
#include "client/user_data_common.h"
#include "http/body.h"

namespace eltrix::client {

void add_receipt_routes(http::Router& router, Context& ctx) {
  router.add(
      "POST", "/_matrix/client/v3/rooms/{roomId}/receipt/{receiptType}/{eventId}",
      [&ctx](http::Request& req) {
        const Requester& who = req.requester();
        std::string room_id = require_room_id(req.path_param("roomId"));
        std::string type(req.path_param("receiptType"));
        std::string event_id(req.path_param("eventId"));
        if (type != "m.read" && type != "m.read.private" && type != "m.fully_read") {
          throw invalid_param("The receipt type must be m.read, m.read.private or m.fully_read");
        }
        // The spec requires a body, but older clients post none: an empty
        // body reads as {} instead of failing their receipts.
        nlohmann::json body = nlohmann::json::object();
        if (!req.body().empty() && !http::parse_json(req.body(), body)) {
          throw http::MatrixError(400, "M_NOT_JSON", "Content not JSON.");
        }
        if (!body.is_object()) throw bad_json("The request body must be a JSON object");

        ReadMarkers markers;
        if (auto it = body.find("thread_id"); it != body.end() && !it->is_null()) {
          const auto& thread = *it;
          if (!thread.is_string() || thread.get_ref<const std::string&>().empty()) {
            throw invalid_param("thread_id field must be a non-empty string");
          }
          if (type == "m.fully_read") {
            throw invalid_param("thread_id cannot be used with m.fully_read");
          }
          const auto& id = thread.get_ref<const std::string&>();
          if (id != "main" && id.front() != '$') {
            throw invalid_param("thread_id must be \"main\" or a thread root's event ID");
          }
          markers.thread_id = id;
        }
        if (type == "m.read") {
          markers.read = event_id;
        } else if (type == "m.read.private") {
          markers.read_private = event_id;
        } else {
          markers.fully_read = event_id;
        }
        set_read_markers(ctx, who.user_id, room_id, markers);
        return http::Response::json(200, nlohmann::json::object());
      },
      {.body = http::BodyMode::raw, .max_body = 64 * 1024});
}

}  // namespace eltrix::client
