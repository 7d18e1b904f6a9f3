// cluster-strategy-kubernetes: the peers are the ready pods matching
// cluster.kubernetes.selector in this pod's namespace, listed through the API
// server with the pod's service account, polled every
// cluster.kubernetes.poll_interval seconds.
//
// Polling a list rather than keeping a watch stream open: a list every few
// seconds is cheap for the API server (served from its watch cache, see
// ApiClient), needs no reconnect, bookmark or 410-relist handling, and a
// peer set a few seconds old is fine because mesh messages are only wake-up
// hints (DESIGN.md section 4).
#pragma once

#include "../common/peer_poller.h"
#include "api_client.h"

#include <eltrix/plugin/cluster_strategy.h>
#include <eltrix/plugin/config.h>
#include <eltrix/plugin/host.h>

#include <memory>
#include <vector>

namespace eltrix::cluster_kubernetes {

class KubernetesStrategy final : public plugin::ClusterStrategy {
 public:
  static constexpr const char* kDescription =
      "peers from the ready pods matching cluster.kubernetes.selector, listed through the "
      "Kubernetes API server; a failed list keeps the last known peers";
  static constexpr bool kThreadSafe = true;
  static constexpr std::uint64_t kCapabilities = plugin::kClusterDynamic;

  /// Reads the keys and the namespace file (a missing one is a configuration
  /// error), lists once and starts the poll thread. A failed first list is
  /// not an error: the API server may be unreachable for a moment.
  KubernetesStrategy(plugin::Host& host, const plugin::Config& config);
  ~KubernetesStrategy() override;
  KubernetesStrategy(const KubernetesStrategy&) = delete;
  KubernetesStrategy& operator=(const KubernetesStrategy&) = delete;
  KubernetesStrategy(KubernetesStrategy&&) = delete;
  KubernetesStrategy& operator=(KubernetesStrategy&&) = delete;

  /// For `eltrix --config=check`: selector, namespace and API host syntax
  /// (no files are read, nothing is contacted).
  static void validate(const plugin::Config& config, std::vector<plugin::ConfigProblem>& problems);

  plugin::Health health() override;
  /// One fresh list; plugin::Error(transient) when it fails.
  std::vector<plugin::Peer> discover() override;
  void watch(plugin::PeerListener* listener) override;

 private:
  std::unique_ptr<ApiClient> client_;
  cluster_common::PeerPoller poller_;  // last: its thread uses client_
};

}  // namespace eltrix::cluster_kubernetes
