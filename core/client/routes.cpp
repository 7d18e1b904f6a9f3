#include "client/routes.h"

#include "client/account.h"
#include "client/account_data.h"
#include "client/account_deactivate.h"
#include "client/admin_register.h"
#include "client/create_room.h"
#include "client/devices.h"
#include "client/directory.h"
#include "client/filters.h"
#include "client/login.h"
#include "client/logout.h"
#include "client/media.h"
#include "client/membership.h"
#include "client/notifications.h"
#include "client/openid.h"
#include "client/presence.h"
#include "client/profile.h"
#include "client/public_rooms.h"
#include "client/push_rules.h"
#include "client/pushers.h"
#include "client/read_markers.h"
#include "client/receipts.h"
#include "client/register.h"
#include "client/relations.h"
#include "client/report.h"
#include "client/room_events.h"
#include "client/room_initial_sync.h"
#include "client/room_state.h"
#include "client/room_timestamp.h"
#include "client/room_upgrade.h"
#include "client/route_auth.h"
#include "client/search.h"
#include "client/space_hierarchy.h"
#include "client/sync.h"
#include "client/tags.h"
#include "client/thirdparty.h"
#include "client/typing.h"
#include "client/user_directory.h"
#include "client/versions.h"
#include "client/voip.h"
#include "storage/read_scope.h"

#include <string_view>
#include <vector>

namespace eltrix::client {

namespace {

/// Serves every /_matrix/client/v3/ route under /_matrix/client/r0/ too:
/// older clients (matrix-nio among them) still use the r0 prefix, and the
/// endpoints they call behave the same.
void add_r0_aliases(http::Router& router) {
  constexpr std::string_view v3 = "/_matrix/client/v3/";
  std::vector<http::Router::Route> copies;
  for (const auto& route : router.routes()) {
    if (route.pattern.rfind(v3, 0) == 0) copies.push_back(route);
  }
  for (auto& route : copies) {
    router.add(route.method, "/_matrix/client/r0/" + route.pattern.substr(v3.size()),
               std::move(route.handler), route.options);
  }
}

void add_routes_of_every_area(http::Router& router, Context& ctx) {
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
  add_create_room_routes(router, ctx);
  add_membership_routes(router, ctx);
  add_room_state_routes(router, ctx);
  add_room_events_routes(router, ctx);
  add_report_routes(router, ctx);
  add_sync_routes(router, ctx);
  add_profile_routes(router, ctx);
  add_account_data_routes(router, ctx);
  add_push_rules_routes(router, ctx);
  add_pusher_routes(router, ctx);
  add_tag_routes(router, ctx);
  add_filter_routes(router, ctx);
  add_typing_routes(router, ctx);
  add_receipt_routes(router, ctx);
  add_read_marker_routes(router, ctx);
  add_presence_routes(router, ctx);
  add_media_upload_routes(router, ctx);
  add_media_download_routes(router, ctx);
  add_media_thumbnail_routes(router, ctx);
  add_media_config_routes(router, ctx);
  add_room_initial_sync_routes(router, ctx);
  add_openid_routes(router, ctx);
  add_voip_routes(router, ctx);
  add_thirdparty_routes(router, ctx);
  add_room_timestamp_routes(router, ctx);
  add_account_deactivate_routes(router, ctx);
  add_relations_routes(router, ctx);
  add_search_routes(router, ctx);
  add_space_hierarchy_routes(router, ctx);
  add_room_upgrade_routes(router, ctx);
  add_notifications_routes(router, ctx);
  // Last: copies every v3 route registered above.
  add_r0_aliases(router);
}

/// Every request runs in a ReadScope of its own (read-your-writes): the
/// authenticator names the user in it, its writes record their positions and
/// its reads wait for them (storage/read_scope.h).
http::Handler in_read_scope(http::Handler handler) {
  return [handler = std::move(handler)](http::Request& request) {
    storage::ReadScope scope;
    return handler(request);
  };
}

}  // namespace

void add_client_routes(http::Router& router, Context& ctx) {
  // Registered on a staging router first, then copied with each handler
  // wrapped, so no area has to remember the scope or check the token.
  http::Router staged;
  add_routes_of_every_area(staged, ctx);
  add_authenticated_routes(router, staged, ctx.auth);
}

void add_authenticated_routes(http::Router& router, const http::Router& staged, Authenticator& auth,
                              const HandlerWrapper& around) {
  for (const auto& route : staged.routes()) {
    http::Handler handler = with_route_auth(route.options.auth, auth, route.handler);
    if (around) handler = around(std::move(handler));
    // The scope first: authenticating names the user in it.
    router.add(route.method, route.pattern, in_read_scope(std::move(handler)), route.options);
  }
}

}  // namespace eltrix::client
