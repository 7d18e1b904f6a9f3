#include "client/routes.h"

namespace eltrix::client {

void add_client_routes(http::Router& router, Context& ctx) {
  (void)router;
  (void)ctx;
}

}  // namespace eltrix::client
