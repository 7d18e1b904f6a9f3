#include "client/receipts.h"

#include "client/context.h"
#include "client/json_body.h"
#include "client/user_data_common.h"
#include "http/body.h"
#include "receipts/receipt_service.h"

namespace eltrix::client {

void add_receipt_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/_matrix/client/v3/rooms/{roomId}/receipt/{receiptType}/{eventId}",
             [&ctx](http::Request& req) {
               const Requester& who = req.requester();
               std::string room_id = require_room_id(req.path_param("roomId"));
               std::string type(req.path_param("receiptType"));
               std::string event_id(req.path_param("eventId"));
               receipts::require_receipt_type(type);
               // The spec requires a body, but older clients post none: an empty
               // body reads as {} instead of failing their receipts.
               nlohmann::json body = nlohmann::json::object();
               if (!req.body().empty() && !http::parse_json(req.body(), body)) {
                 throw http::MatrixError(400, "M_NOT_JSON", "Content not JSON.");
               }
               if (!body.is_object()) throw bad_json("The request body must be a JSON object");

               std::optional<std::string> thread_id;
               if (auto it = body.find("thread_id"); it != body.end() && !it->is_null()) {
                 if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
                   throw invalid_param("thread_id field must be a non-empty string");
                 }
                 thread_id = it->get<std::string>();
               }
               ctx.receipts.send_receipt(who.user_id, room_id, type, event_id, thread_id);
               return http::Response::json(200, nlohmann::json::object());
             },
             {.body = http::BodyMode::raw, .max_body = 64 * 1024});
}

}  // namespace eltrix::client
