#include "primary_routing.h"

namespace eltrix::db_primary {

PrimaryRouting::PrimaryRouting(plugin::Host& /*host*/, const plugin::Config& /*config*/) {}

plugin::Health PrimaryRouting::health() {
  return {plugin::HealthStatus::ok, "all queries to the primary"};
}

std::size_t PrimaryRouting::route(const plugin::RouteRequest& /*request*/,
                                  std::span<const plugin::TargetState> /*targets*/) {
  return 0;
}

}  // namespace eltrix::db_primary
