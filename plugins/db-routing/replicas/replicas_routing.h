// db-routing-replicas: writes to the primary; each read to a replica that is
// up, at most database.replica_max_lag_ms behind the primary and has replayed
// the reader's own last write (RouteRequest::min_position), else the primary.
//
// Among the eligible replicas it rotates (round-robin) rather than picking the
// least-lagged one: the core measures lag every couple of seconds, so readings
// are coarse and usually equal (0 ms), and "least lag" would pile every read
// on whichever replica happens to come first. Rotation spreads the load
// evenly, and the eligibility rules already keep a replica that fell behind
// out of the rotation.
//
// A replica that goes down or falls too far behind is logged once when it
// leaves the rotation and once when it comes back (not per request); every
// read that skips it counts in eltrix_db_replica_skipped_total{target,reason}.
#pragma once

#include "replica_choice.h"

#include <eltrix/plugin/config.h>
#include <eltrix/plugin/db_routing.h>
#include <eltrix/plugin/host.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

namespace eltrix::db_replicas {

inline constexpr const char* kMaxLagKey = "database.replica_max_lag_ms";

class ReplicasRouting final : public plugin::DbRouting {
 public:
  static constexpr const char* kDescription =
      "writes to the primary, reads to a caught-up replica (round-robin), else the primary";
  static constexpr bool kThreadSafe = true;
  static constexpr std::uint64_t kCapabilities = 0;

  ReplicasRouting(plugin::Host& host, const plugin::Config& config);

  plugin::Health health() override;
  std::size_t route(const plugin::RouteRequest& request,
                    std::span<const plugin::TargetState> targets) override;

  [[nodiscard]] std::chrono::milliseconds max_lag() const { return max_lag_; }

  /// Replicas beyond this index are still routed to; only their state changes
  /// go unlogged and their skips uncounted (no deployment has that many).
  static constexpr std::size_t kTrackedTargets = 64;

 private:
  /// Logs a change of the replica's own state (usable, down, lagging).
  void note_state(std::size_t index, const plugin::TargetState& target, Verdict state);
  void count_skip(std::size_t index, std::string_view target, Verdict verdict);

  plugin::Host& host_;
  const std::chrono::milliseconds max_lag_;
  std::atomic<std::uint64_t> next_{0};  ///< round-robin cursor

  /// Last state seen per target index (Verdict values; 0xFF: not seen yet).
  std::array<std::atomic<std::uint8_t>, kTrackedTargets> states_{};
  /// Skip counters per target index and verdict, fetched from the host once.
  std::array<std::array<std::atomic<plugin::Counter*>, 4>, kTrackedTargets> skipped_{};
  std::mutex counters_mutex_;  ///< serialises the first fetch of a counter

  /// For health(): replicas seen and how many were usable at the last read.
  std::atomic<std::size_t> replicas_seen_{0};
  std::atomic<std::size_t> replicas_usable_{0};
};

}  // namespace eltrix::db_replicas
