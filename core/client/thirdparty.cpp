#include "client/thirdparty.h"

namespace eltrix::client {

void add_thirdparty_routes(http::Router& router, Context& /*ctx*/) {
  router.add("GET", "/_matrix/client/v3/thirdparty/protocols", [](http::Request& req) {
    (void)req.requester();  // authenticated, as the spec requires
    return http::Response::json(200, nlohmann::json::object());
  });
}

}  // namespace eltrix::client
