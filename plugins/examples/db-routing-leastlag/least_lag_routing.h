// An example db-routing plugin, built out of tree against the installed
// eltrix-plugin headers only: reads go to the healthy replica with the least
// lag among those that have replayed the reader's last write.
#pragma once

#include <eltrix/plugin/plugin.h>

#include <chrono>
#include <cstddef>

namespace example {

class LeastLagRouting final : public eltrix::plugin::DbRouting {
 public:
  static constexpr const char* kDescription = "reads to the least-lagged caught-up replica";
  static constexpr bool kThreadSafe = true;  // no mutable state

  LeastLagRouting(eltrix::plugin::Host& host, const eltrix::plugin::Config& config)
      : max_lag_(config.get_int("database.leastlag.max_lag_ms", 5000)) {
    host.info("least-lag routing ready", {{"max_lag_ms", std::to_string(max_lag_.count())}});
  }

  eltrix::plugin::Health health() override { return {}; }

  std::size_t route(const eltrix::plugin::RouteRequest& request,
                    std::span<const eltrix::plugin::TargetState> targets) override {
    if (request.access == eltrix::plugin::Access::write) return 0;
    std::size_t best = 0;
    for (std::size_t i = 1; i < targets.size(); ++i) {
      const auto& t = targets[i];
      bool usable = t.healthy && t.replay_position >= request.min_position && t.lag <= max_lag_;
      if (usable && (best == 0 || t.lag < targets[best].lag)) best = i;
    }
    return best;
  }

 private:
  std::chrono::milliseconds max_lag_;
};

}  // namespace example
