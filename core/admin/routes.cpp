#include "admin/routes.h"

#include "admin/areas.h"

namespace eltrix::admin {

void add_admin_routes(http::Router& router, Context& ctx) {
  add_user_routes(router, ctx);
  add_user_device_routes(router, ctx);
  add_room_routes(router, ctx);
  add_room_deletion_routes(router, ctx);
  add_media_routes(router, ctx);
  add_event_report_routes(router, ctx);
  add_registration_token_routes(router, ctx);
  add_server_version_routes(router, ctx);
}

}  // namespace eltrix::admin
