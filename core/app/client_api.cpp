#include "app/client_api.h"

#include "client/auth_impl.h"
#include "client/presence.h"
#include "client/rate_limit_impl.h"
#include "client/routes.h"
#include "client/typing_impl.h"
#include "config/client_keys.h"
#include "config/config.h"
#include "config/core_keys.h"
#include "notify/notifier.h"
#include "rooms/room_service_impl.h"
#include "rooms/server_keys.h"

namespace eltrix::app {

namespace keys = config::keys;

struct ClientApi::Services {
  Services(const config::Config& config, storage::Database& db,
           const plugins::Instance<plugin::Cache>& cache_instance, metrics::Registry& metrics)
      : cache(cache_instance, metrics),
        notifier(metrics, static_cast<std::size_t>(config.get_int(keys::kSyncMaxWaiting, 20000))),
        server_keys(db),
        rooms(db, server_keys, notifier, config.get_string(keys::kServerName)),
        auth(client::make_authenticator(
            config, db, cache, (cache_instance.info().capabilities & plugin::kCacheShared) != 0)),
        rate_limiter(client::make_rate_limiter(config, cache, metrics)),
        typing(std::make_unique<client::TypingStateImpl>([this](const std::string& room_id) {
          notifier.notify({notify::room_key(room_id)});
        })) {}

  plugins::GuardedCache cache;
  notify::Notifier notifier;
  rooms::ServerKeys server_keys;
  rooms::RoomServiceImpl rooms;
  std::unique_ptr<client::Authenticator> auth;
  std::unique_ptr<client::RateLimiter> rate_limiter;
  std::unique_ptr<client::TypingState> typing;
  std::unique_ptr<client::PresenceSweeper> presence_sweeper;
};

ClientApi::ClientApi(const config::Config& config, storage::Database& db,
                     const plugins::Instance<plugin::Cache>& cache, metrics::Registry& metrics)
    : services_(std::make_unique<Services>(config, db, cache, metrics)) {
  auto& s = *services_;
  context_ = std::make_unique<client::Context>(client::Context{
      .config = config,
      .db = db,
      .cache = s.cache,
      .metrics = metrics,
      .server_name = config.get_string(keys::kServerName),
      .server_keys = s.server_keys,
      .notifier = s.notifier,
      .rooms = s.rooms,
      .auth = *s.auth,
      .rate_limiter = *s.rate_limiter,
      .typing = *s.typing,
  });
  s.presence_sweeper = std::make_unique<client::PresenceSweeper>(*context_);
}

ClientApi::~ClientApi() {
  stop();
}

void ClientApi::add_routes(http::Router& router) {
  client::add_client_routes(router, *context_);
}

void ClientApi::start() {
  services_->presence_sweeper->start();
}

void ClientApi::stop() {
  services_->presence_sweeper->stop();
  services_->notifier.wake_all();
}

}  // namespace eltrix::app
