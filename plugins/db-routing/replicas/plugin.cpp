// db-routing-replicas plugin entry: the descriptor and the key it declares.
// (database.replica_urls itself is a core key: the core owns the connections.)
#include <eltrix/plugin/plugin.h>

#include "replicas_routing.h"

namespace {

constexpr eltrix::plugin::ConfigKeySpec kKeys[] = {
    {.name = eltrix::db_replicas::kMaxLagKey,
     .type = eltrix::plugin::ConfigType::integer,
     .default_value = "5000",
     .help = "A replica further behind the primary than this many milliseconds gets no reads "
             "until it catches up. Reads that need the reader's own last write go to the "
             "primary whenever no replica has replayed it, whatever this value.",
     .env = "ELTRIX_DATABASE_REPLICA_MAX_LAG_MS",
     .min_value = 0,
     .max_value = 3600000},
};

}  // namespace

ELTRIX_PLUGIN(db_routing, "replicas", "1.0.0", eltrix::db_replicas::ReplicasRouting, kKeys)
