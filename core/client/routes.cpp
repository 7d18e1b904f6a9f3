#include "client/routes.h"

#include "client/account.h"
#include "client/admin_register.h"
#include "client/devices.h"
#include "client/directory.h"
#include "client/login.h"
#include "client/logout.h"
#include "client/public_rooms.h"
#include "client/register.h"
#include "client/user_directory.h"
#include "client/versions.h"

namespace eltrix::client {

void add_client_routes(http::Router& router, Context& ctx) {
  (void)router;
  (void)ctx;
  add_register_routes(router, ctx);
  add_login_routes(router, ctx);
  add_logout_routes(router, ctx);
  add_account_routes(router, ctx);
  add_device_routes(router, ctx);
  add_admin_register_routes(router, ctx);
  add_versions_routes(router, ctx);
  add_directory_routes(router, ctx);
  add_public_rooms_routes(router, ctx);
  add_user_directory_routes(router, ctx);
}

}  // namespace eltrix::client
