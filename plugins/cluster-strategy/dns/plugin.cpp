// cluster-strategy-dns plugin entry: the descriptor and the keys it declares.
#include <eltrix/plugin/plugin.h>

#include "dns_strategy.h"

namespace {

using eltrix::plugin::ConfigKeySpec;
using eltrix::plugin::ConfigType;

constexpr ConfigKeySpec kKeys[] = {
    {.name = "cluster.dns.name",
     .type = ConfigType::string,
     .help = "Fully qualified DNS name whose A and AAAA records are the addresses of the nodes "
             "(for example a headless service); each peer is reached on cluster.port. Search "
             "domains are not applied. May include this node.",
     .flags = eltrix::plugin::kConfigRequired},
    {.name = "cluster.dns.poll_interval",
     .type = ConfigType::integer,
     .default_value = "5",
     .help = "Seconds between lookups of cluster.dns.name. A failed lookup keeps the last known "
             "peers.",
     .min_value = 1,
     .max_value = 3600},
    {.name = "cluster.dns.server",
     .type = ConfigType::string,
     .default_value = "",
     .help = "Ask only this DNS server, as IPv4-address[:port] (for example 127.0.0.1:5353). "
             "Empty: the servers in /etc/resolv.conf."},
    {.name = "cluster.dns.timeout",
     .type = ConfigType::integer,
     .default_value = "2",
     .help = "Seconds to wait for each DNS answer; a lookup tries twice per server.",
     .min_value = 1,
     .max_value = 30},
};

}  // namespace

ELTRIX_PLUGIN(cluster_strategy, "dns", "1.0.0", eltrix::cluster_dns::DnsStrategy, kKeys)
