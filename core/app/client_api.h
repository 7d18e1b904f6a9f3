// The Client-Server API of one node: the services its handlers share
// (client::Context), built once at start-up, and its routes.
#pragma once

#include "client/context.h"
#include "http/router.h"
#include "plugins/guarded_cache.h"

#include <memory>

namespace eltrix::config {
class Config;
}

namespace eltrix::app {

class ClientApi {
 public:
  ClientApi(const config::Config& config, storage::Database& db,
            const plugins::Instance<plugin::Cache>& cache, metrics::Registry& metrics);
  ~ClientApi();
  ClientApi(const ClientApi&) = delete;
  ClientApi& operator=(const ClientApi&) = delete;

  void add_routes(http::Router& router);
  /// Starts the background work (presence sweeping); call once serving.
  void start();
  /// Stops it, and answers every sync still waiting (draining).
  void stop();

 private:
  struct Services;
  std::unique_ptr<Services> services_;
  std::unique_ptr<client::Context> context_;
};

}  // namespace eltrix::app
