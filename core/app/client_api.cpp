#include "app/client_api.h"

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
}

ClientApi::~ClientApi() = default;

void ClientApi::add_routes(http::Router& router) {
  client::add_client_routes(router, *context_);
}

}  // namespace eltrix::app
