// GET /_synapse/admin/v1/server_version. Served to anyone, as Synapse does:
// synapse-admin shows it on its login page, before it has a token, and the
// version is in the Server header anyway.
#include "admin/areas.h"
#include "build_info.h"

namespace eltrix::admin {

void add_server_version_routes(http::Router& router, Context& /*ctx*/) {
  router.add("GET", "/_synapse/admin/v1/server_version",
             [](http::Request&) {
               return http::Response::json(
                   200,
                   nlohmann::json{{"server_version", std::string("Eltrix ") + ELTRIX_VERSION}});
             },
             {.auth = http::Auth::none});
}

}  // namespace eltrix::admin
