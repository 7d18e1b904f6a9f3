// db-routing-primary: every query goes to the primary (targets[0]).
#pragma once

#include <eltrix/plugin/config.h>
#include <eltrix/plugin/db_routing.h>
#include <eltrix/plugin/host.h>

namespace eltrix::db_primary {

class PrimaryRouting final : public plugin::DbRouting {
 public:
  static constexpr const char* kDescription =
      "sends every query to the primary; for installations without read replicas";
  static constexpr bool kThreadSafe = true;
  static constexpr std::uint64_t kCapabilities = 0;

  PrimaryRouting(plugin::Host& host, const plugin::Config& config);

  plugin::Health health() override;
  std::size_t route(const plugin::RouteRequest& request,
                    std::span<const plugin::TargetState> targets) override;
};

}  // namespace eltrix::db_primary
