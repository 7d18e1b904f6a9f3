// cluster-strategy-dns: the peers are the A and AAAA records of one name
// (a headless Kubernetes service, a Consul name, a dnsmasq hosts entry),
// polled every cluster.dns.poll_interval seconds.
#pragma once

#include "../common/peer_poller.h"
#include "dns_lookup.h"

#include <eltrix/plugin/cluster_strategy.h>
#include <eltrix/plugin/config.h>
#include <eltrix/plugin/host.h>

#include <vector>

namespace eltrix::cluster_dns {

class DnsStrategy final : public plugin::ClusterStrategy {
 public:
  static constexpr const char* kDescription =
      "peers from the A/AAAA records of cluster.dns.name, polled; a failed lookup keeps the "
      "last known peers";
  static constexpr bool kThreadSafe = true;
  static constexpr std::uint64_t kCapabilities = plugin::kClusterDynamic;

  /// Reads the keys, asks once (so health and the first watch delivery are
  /// known) and starts the poll thread. A failed first lookup is not an
  /// error: DNS may come up after the node.
  DnsStrategy(plugin::Host& host, const plugin::Config& config);
  ~DnsStrategy() override;
  DnsStrategy(const DnsStrategy&) = delete;
  DnsStrategy& operator=(const DnsStrategy&) = delete;
  DnsStrategy(DnsStrategy&&) = delete;
  DnsStrategy& operator=(DnsStrategy&&) = delete;

  /// For `eltrix --config=check`: a malformed name or server.
  static void validate(const plugin::Config& config, std::vector<plugin::ConfigProblem>& problems);

  plugin::Health health() override;
  /// One fresh lookup; plugin::Error(transient) when it fails.
  std::vector<plugin::Peer> discover() override;
  void watch(plugin::PeerListener* listener) override;

 private:
  const LookupOptions options_;
  cluster_common::PeerPoller poller_;  // last: its thread uses options_
};

}  // namespace eltrix::cluster_dns
