// The admin API's areas, one file each (admin/routes.cpp registers them).
#pragma once

#include "admin/context.h"
#include "http/router.h"

namespace eltrix::admin {

/// Registers an area's handlers, fn(Context&, http::Request&), for server
/// admins only: every admin route goes through here, so none can be
/// registered without the admin check (http::Auth::admin).
class AreaRoutes {
 public:
  AreaRoutes(http::Router& router, Context& ctx) : router_(router), ctx_(ctx) {}

  template <typename Fn>
  void operator()(const char* method, const char* path, Fn fn,
                  http::BodyMode body = http::BodyMode::none) const {
    router_.add(method, path, [&ctx = ctx_, fn](http::Request& req) { return fn(ctx, req); },
                {.body = body, .auth = http::Auth::admin});
  }

 private:
  http::Router& router_;
  Context& ctx_;
};

/// users.cpp: list, query, create or modify, deactivate, reset password,
/// whois, joined rooms, admin flag, shadow ban, rate limit overrides.
void add_user_routes(http::Router& router, Context& ctx);
/// user_devices.cpp: a user's devices: list, get, rename, delete.
void add_user_device_routes(http::Router& router, Context& ctx);
/// rooms.cpp: list, details, members, state, block, make room admin,
/// forward extremities.
void add_room_routes(http::Router& router, Context& ctx);
/// room_deletion_routes.cpp: DELETE /v1 and /v2 rooms, delete_status.
void add_room_deletion_routes(http::Router& router, Context& ctx);
/// media.cpp: a user's and a room's media, quarantine, protection,
/// deletion, the remote media cache.
void add_media_routes(http::Router& router, Context& ctx);
/// event_reports.cpp.
void add_event_report_routes(http::Router& router, Context& ctx);
/// registration_tokens.cpp.
void add_registration_token_routes(http::Router& router, Context& ctx);
/// server_version.cpp.
void add_server_version_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::admin
