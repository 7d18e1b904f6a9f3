#include "client/logout.h"

#include "accounts/device_service.h"
#include "client/auth.h"
#include "log/log.h"

namespace eltrix::client {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("logout");
  return instance;
}

}  // namespace

void add_logout_routes(http::Router& router, Context& ctx) {
  // BodyMode::none: clients send "{}" or nothing at all, and neither matters.
  router.add("POST", "/_matrix/client/v3/logout", [&ctx](http::Request& req) {
    const Requester& requester = req.requester();
    ctx.devices.remove(requester.user_id, {requester.device_id});
    logger().info("logged out",
                  {{"user_id", requester.user_id}, {"device_id", requester.device_id}});
    return http::Response::json(200, nlohmann::json::object());
  });

  router.add("POST", "/_matrix/client/v3/logout/all", [&ctx](http::Request& req) {
    const Requester& requester = req.requester();
    const std::size_t revoked = ctx.devices.remove_all(requester.user_id);
    logger().info("logged out everywhere",
                  {{"user_id", requester.user_id}, {"tokens", std::to_string(revoked)}});
    return http::Response::json(200, nlohmann::json::object());
  });
}

}  // namespace eltrix::client
