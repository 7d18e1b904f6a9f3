#include "app/client_api.h"

#include "admin/audit_log.h"
#include "admin/context.h"
#include "admin/room_deletions.h"
#include "admin/routes.h"
#include "client/auth_impl.h"
#include "client/rate_limit_impl.h"
#include "client/routes.h"
#include "services/services.h"

namespace eltrix::app {

ClientApi::ClientApi(services::Services& s)
    : auth_(client::make_authenticator(s.config, s.db, s.cache, s.cache_shared)),
      rate_limiter_(client::make_rate_limiter(s.config, s.cache, s.metrics)) {
  context_ = std::make_unique<client::Context>(client::Context{
      .config = s.config,
      .db = s.db,
      .cache = s.cache,
      .metrics = s.metrics,
      .server_name = s.server_name,
      .server_keys = s.server_keys,
      .notifier = s.notifier,
      .rooms = s.rooms,
      .accounts = s.accounts,
      .devices = s.devices,
      .receipts = s.receipts,
      .auth = *auth_,
      .rate_limiter = *rate_limiter_,
      .typing = s.typing,
      .presence = s.presence,
      .media = s.media,
      .thumbnails = s.thumbnails,
      .nodes = s.nodes.get(),
      .max_events_scanned = s.max_events_scanned,
  });
  admin_context_ = std::make_unique<admin::Context>(admin::Context{
      .config = s.config,
      .db = s.db,
      .cache = s.cache,
      .server_name = s.server_name,
      .accounts = s.accounts,
      .devices = s.devices,
      .rooms = s.rooms,
      .media = s.media,
  });
  room_deletions_ = std::make_unique<admin::RoomDeletions>(*admin_context_);
  admin_context_->deletions = room_deletions_.get();
}

ClientApi::~ClientApi() = default;

void ClientApi::add_routes(http::Router& router) {
  client::add_client_routes(router, *context_);
  // Staged, then authenticated as the client routes are (each route's own
  // option: admin, or none for server_version), and logged outside that so
  // refused calls are logged too.
  http::Router admin_routes;
  admin::add_admin_routes(admin_routes, *admin_context_);
  client::add_authenticated_routes(router, admin_routes, *auth_, admin::with_audit_log);
}

}  // namespace eltrix::app
