#include "client/logout.h"

#include "client/auth.h"
#include "client/auth_impl.h"
#include "log/log.h"
#include "storage/accounts.h"
#include "storage/database.h"

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
    auto revoked = ctx.db.write([&](storage::Transaction& tx) {
      return storage::delete_devices(tx, requester.user_id, {requester.device_id});
    });
    forget_cached_tokens(ctx.cache, revoked);
    logger().info("logged out",
                  {{"user_id", requester.user_id}, {"device_id", requester.device_id}});
    return http::Response::json(200, nlohmann::json::object());
  });

  router.add("POST", "/_matrix/client/v3/logout/all", [&ctx](http::Request& req) {
    const Requester& requester = req.requester();
    auto revoked = ctx.db.write([&](storage::Transaction& tx) {
      return storage::delete_all_devices(tx, requester.user_id);
    });
    forget_cached_tokens(ctx.cache, revoked);
    logger().info("logged out everywhere",
                  {{"user_id", requester.user_id}, {"tokens", std::to_string(revoked.size())}});
    return http::Response::json(200, nlohmann::json::object());
  });
}

}  // namespace eltrix::client
