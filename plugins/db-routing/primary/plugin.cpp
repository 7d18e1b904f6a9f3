// db-routing-primary plugin entry: the descriptor (it declares no keys).
#include <eltrix/plugin/plugin.h>

#include "primary_routing.h"

namespace {

// No keys of its own; an empty span.
constexpr std::span<const eltrix::plugin::ConfigKeySpec> kKeys{};

}  // namespace

ELTRIX_PLUGIN(db_routing, "primary", "1.0.0", eltrix::db_primary::PrimaryRouting, kKeys)
