// The Client-Server API of one node: what only it needs (access tokens, rate
// limits) on top of the services every API shares (services/services.h),
// gathered as the client::Context its handlers get, and its routes.
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
};

}  // namespace eltrix::app
