// The plugin's entry point: its config keys and its descriptor, nothing else.
#include "least_lag_routing.h"

namespace {
constexpr eltrix::plugin::ConfigKeySpec kKeys[] = {
    {.name = "database.leastlag.max_lag_ms",
     .type = eltrix::plugin::ConfigType::integer,
     .default_value = "5000",
     .help = "Replicas further behind than this are not used for reads.",
     .min_value = 0,
     .max_value = 3600000},
};
}  // namespace

ELTRIX_PLUGIN(db_routing, "leastlag", "1.0.0", example::LeastLagRouting, kKeys)
