#include "client/presence.h"

#include "client/json_body.h"
#include "client/user_data_common.h"
#include "services/presence.h"
#include "storage/database.h"

#include <fmt/format.h>

namespace eltrix::client {

// ---- routes ----------------------------------------------------------------------

void add_presence_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/v3/presence/{userId}/status", [&ctx](http::Request& req) {
    const Requester& who = req.requester();
    std::string user_id = require_user_id(req.path_param("userId"));
    struct Found {
      bool visible = false;
      bool known = false;
      std::optional<storage::Presence> presence;
    };
    auto found = read_own(ctx, [&](storage::Transaction& tx) {
      Found out;
      out.visible = user_id == who.user_id || share_a_room(tx, who.user_id, user_id);
      if (!out.visible) return out;
      out.presence = storage::get_presence(tx, user_id);
      out.known = out.presence.has_value() || storage::get_profile(tx, user_id).has_value();
      return out;
    });
    // Presence is shared with those who share a room (spec: "Security
    // considerations").
    if (!found.visible) throw forbidden("You are not allowed to see their presence");
    if (!found.known) throw not_found("No presence for this user");
    if (!found.presence) return http::Response::json(200, {{"presence", "offline"}});
    return http::Response::json(200, presence_content(*found.presence, now_ms()));
  });

  router.add("PUT", "/_matrix/client/v3/presence/{userId}/status",
             [&ctx](http::Request& req) {
               const Requester& who = req.requester();
               std::string user_id = require_self(who, req.path_param("userId"),
                                                  "Cannot set the presence of another user");
               std::string state = require_string(req.json(), "presence");
               if (!services::is_presence_state(state)) {
                 throw invalid_param("'presence' must be online, unavailable or offline");
               }
               auto status_msg = optional_string(req.json(), "status_msg");
               if (status_msg && status_msg->size() > services::kMaxStatusMsgBytes) {
                 throw invalid_param(fmt::format("'status_msg' is longer than {} bytes",
                                                 services::kMaxStatusMsgBytes));
               }
               ctx.presence.set(user_id, state, status_msg);
               return http::Response::json(200, nlohmann::json::object());
             },
             {.body = http::BodyMode::json});
}

}  // namespace eltrix::client
