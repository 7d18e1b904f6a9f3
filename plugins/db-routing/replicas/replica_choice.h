// The pure routing decision of db-routing-replicas: which targets may serve a
// read, and why the others may not. No state, no I/O; unit-tested table-driven
// in tests/contract/impl/db_routing_replicas_test.cpp.
#pragma once

#include <eltrix/plugin/db_routing.h>

#include <chrono>
#include <cstdint>
#include <string_view>

namespace eltrix::db_replicas {

/// Why a replica may not serve a read (usable: it may).
enum class Verdict : std::uint8_t {
  usable = 0,
  down = 1,     ///< failed its last health probe
  lagging = 2,  ///< further behind the primary than the configured maximum
  behind = 3,   ///< has not replayed the reader's own last write yet
};

[[nodiscard]] std::string_view to_string(Verdict verdict);

/// The verdict on one replica for a read that needs `min_position`. The
/// replica's own state (down, lagging) is judged before the reader's need, so
/// a down replica is reported as down whatever the position.
[[nodiscard]] Verdict judge(const plugin::TargetState& target, std::uint64_t min_position,
                            std::chrono::milliseconds max_lag);

}  // namespace eltrix::db_replicas
