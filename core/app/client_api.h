// The Client-Server API of one node: the services its handlers share
// (client::Context), built once at start-up, and its routes. With a cluster
// strategy configured it also runs the node's cluster mesh (core/cluster),
// which carries the node's wake-ups to its peers and theirs to it.
#pragma once

#include "client/context.h"
#include "http/router.h"
#include "plugins/guarded_cache.h"

#include <eltrix/plugin/cluster_strategy.h>

#include <memory>
#include <optional>

namespace eltrix::config {
class Config;
}

namespace eltrix::app {

class ClientApi {
 public:
  /// `cluster` may be empty (no cluster configured): no mesh then.
  ClientApi(const config::Config& config, storage::Database& db,
            const plugins::Instance<plugin::Cache>& cache,
            const plugins::Instance<plugin::ClusterStrategy>& cluster,
            const plugins::Instance<plugin::MediaStore>& media, metrics::Registry& metrics);
  ~ClientApi();
  ClientApi(const ClientApi&) = delete;
  ClientApi& operator=(const ClientApi&) = delete;

  void add_routes(http::Router& router);
  /// Starts the background work (presence sweeping, the sync recheck, the
  /// cluster mesh); call once serving. Throws when the mesh cannot listen.
  void start();
  /// Stops it, and answers every sync still waiting (draining).
  void stop();
  /// The mesh's health; nullopt without a cluster.
  [[nodiscard]] std::optional<plugin::Health> mesh_health() const;

 private:
  struct Services;
  std::unique_ptr<Services> services_;
  std::unique_ptr<client::Context> context_;
};

}  // namespace eltrix::app
