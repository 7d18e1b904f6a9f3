// The Client-Server API of one node: what only it needs (access tokens, rate
// limits) on top of the services every API shares (services/services.h),
// gathered as the client::Context its handlers get, and its routes; and the
// admin API, which shares its access tokens.
#pragma once

#include "client/context.h"
#include "http/router.h"

#include <memory>

namespace eltrix::services {
class Services;
}
namespace eltrix::client {
class Authenticator;
class RateLimiter;
}  // namespace eltrix::client
namespace eltrix::admin {
struct Context;
class RoomDeletions;
}  // namespace eltrix::admin

namespace eltrix::app {

class ClientApi {
 public:
  explicit ClientApi(services::Services& services);
  ~ClientApi();
  ClientApi(const ClientApi&) = delete;
  ClientApi& operator=(const ClientApi&) = delete;
  ClientApi(ClientApi&&) = delete;
  ClientApi& operator=(ClientApi&&) = delete;

  void add_routes(http::Router& router);

 private:
  std::unique_ptr<client::Authenticator> auth_;
  std::unique_ptr<client::RateLimiter> rate_limiter_;
  std::unique_ptr<client::Context> context_;
  /// The admin API (core/admin/), served with the same access tokens.
  std::unique_ptr<admin::Context> admin_context_;
  /// Declared last: destroyed first, its worker stopped while the context
  /// it uses still exists.
  std::unique_ptr<admin::RoomDeletions> room_deletions_;
};

}  // namespace eltrix::app
