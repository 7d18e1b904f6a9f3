#include "client/account_deactivate.h"

#include "accounts/account_service.h"
#include "client/auth.h"
#include "client/json_body.h"
#include "client/rate_limit_impl.h"
#include "client/uia.h"
#include "log/log.h"
#include "rooms/room_service.h"
#include "storage/admin_users.h"

namespace eltrix::client {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("account");
  return instance;
}

/// Leaves (or rejects the invite to, or withdraws the knock on) every room,
/// through the room service, so other members see an ordinary leave. The
/// admin API's deactivation does the same (admin/leave_rooms.cpp); the client
/// layer cannot call into the admin layer, which sits above it.
void leave_every_room(Context& ctx, const std::string& user_id) {
  // On the primary: the account changed a moment ago.
  auto rooms = ctx.db.write([&](storage::Transaction& tx) {
    std::vector<std::string> all;
    for (const char* membership : {"join", "invite", "knock"}) {
      auto some = storage::rooms_with_membership(tx, user_id, membership);
      all.insert(all.end(), some.begin(), some.end());
    }
    return all;
  });
  for (const auto& room_id : rooms) {
    auto left = ctx.rooms.change_membership(
        {.room_id = room_id, .sender = user_id, .target = user_id, .membership = "leave"});
    if (left.outcome.is_rejected()) {
      logger().warn("a deactivated user could not leave a room",
                    {{"user_id", user_id}, {"room_id", room_id}, {"why", left.outcome.reason}});
    }
  }
}

http::Response deactivate(Context& ctx, http::Request& req) {
  const Requester& requester = req.requester();
  const nlohmann::json body =
      uia_request_body(ctx, req.json(), "POST /account/deactivate", requester.user_id);
  const bool erase = optional_bool(body, "erase").value_or(false);
  auto uia = check_uia(ctx, body,
                       {.operation = "POST /account/deactivate",
                        .flows = {{std::string(kStagePassword)}},
                        .params = nlohmann::json::object(),
                        .user_id = requester.user_id,
                        .client_address = client_address(req)});
  if (uia.challenge) return *uia.challenge;
  // The account first (its password, devices and tokens go, and with erase
  // its profile), so the user can do nothing more; then the rooms.
  ctx.accounts.deactivate(requester.user_id, erase);
  finish_uia(ctx, uia.session_id);
  leave_every_room(ctx, requester.user_id);
  // No third-party identifiers are bound, so there was nothing to unbind,
  // which the spec reports as "success" (Synapse does the same).
  return http::Response::json(200, nlohmann::json{{"id_server_unbind_result", "success"}});
}

}  // namespace

void add_account_deactivate_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/_matrix/client/v3/account/deactivate",
             [&ctx](http::Request& req) { return deactivate(ctx, req); },
             {.body = http::BodyMode::json});
  router.add("GET", "/_matrix/client/v3/account/3pid", [](http::Request& req) {
    (void)req.requester();
    return http::Response::json(200, nlohmann::json{{"threepids", nlohmann::json::array()}});
  });
}

}  // namespace eltrix::client
