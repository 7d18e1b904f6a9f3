// PUT /rooms/{roomId}/typing/{userId} (spec: "Typing Notifications"); the
// state itself is a service (services/typing_state.h).
#include "client/typing.h"

#include "client/auth.h"
#include "client/context.h"
#include "client/json_body.h"
#include "client/user_data_common.h"
#include "services/typing.h"

namespace eltrix::client {

void add_typing_routes(http::Router& router, Context& ctx) {
  router.add("PUT", "/_matrix/client/v3/rooms/{roomId}/typing/{userId}",
             [&ctx](http::Request& req) {
               const Requester& who = req.requester();
               std::string room_id = require_room_id(req.path_param("roomId"));
               std::string user_id = require_self(who, req.path_param("userId"),
                                                  "Cannot set the typing state of another user");
               bool typing = [&] {
                 auto value = optional_bool(req.json(), "typing");
                 if (!value) {
                   throw http::MatrixError(400, "M_MISSING_PARAM", "'typing' is required");
                 }
                 return *value;
               }();
               auto timeout = optional_int(req.json(), "timeout");
               bool joined = is_joined(ctx, room_id, user_id);
               if (!joined) throw forbidden("You are not joined to this room");
               ctx.typing.set_typing(room_id, user_id, typing,
                                     std::chrono::milliseconds(timeout.value_or(0)));
               return http::Response::json(200, nlohmann::json::object());
             },
             {.body = http::BodyMode::json});
}

}  // namespace eltrix::client
