// cluster-strategy-static plugin entry: the descriptor and the keys it declares.
#include <eltrix/plugin/plugin.h>

#include "static_strategy.h"

namespace {

using eltrix::plugin::ConfigKeySpec;
using eltrix::plugin::ConfigType;

constexpr ConfigKeySpec kKeys[] = {
    {.name = "cluster.peers",
     .type = ConfigType::list,
     .default_value = "",
     .help = "Comma-separated peer nodes as host[:port]; write IPv6 addresses in brackets, as "
             "[fd00::1]:4369. Without a port the cluster port is used. The list may include "
             "this node."},
};

}  // namespace

ELTRIX_PLUGIN(cluster_strategy, "static", "1.0.0", eltrix::cluster_static::StaticStrategy, kKeys)
