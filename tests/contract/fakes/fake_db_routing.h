// A DbRouting fake that does use replicas: a read goes to the first healthy
// replica that has replayed up to the caller's position, else the primary.
// It exercises the parts of the contract a primary-only router cannot.
#pragma once

#include <eltrix/plugin/plugin.h>

namespace eltrix::contract {

class FakeDbRouting final : public plugin::DbRouting {
 public:
  static constexpr const char* kDescription = "first caught-up replica, for contract tests";
  static constexpr bool kThreadSafe = true;

  FakeDbRouting(plugin::Host& /*host*/, const plugin::Config& /*config*/) {}

  plugin::Health health() override { return {}; }

  std::size_t route(const plugin::RouteRequest& request,
                    std::span<const plugin::TargetState> targets) override {
    if (request.access == plugin::Access::write) return 0;
    for (std::size_t i = 1; i < targets.size(); ++i) {
      const auto& target = targets[i];
      if (target.healthy && target.replay_position >= request.min_position) return i;
    }
    return 0;
  }
};

inline constexpr plugin::Descriptor kFakeDbRoutingDescriptor =
    plugin::detail::make_descriptor<plugin::Kind::db_routing, FakeDbRouting>("fake", "1.0", {});

}  // namespace eltrix::contract
