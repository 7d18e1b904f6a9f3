// Database-routing plugins: which PostgreSQL server a query goes to.
//
// Implementations: db-routing-primary (everything to the primary) and
// db-routing-replicas (reads to a replica that has replayed far enough). The
// core owns every connection and measures health and replay positions; the
// plugin only decides.
#pragma once

#include <eltrix/plugin/component.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace eltrix::plugin {

enum class Access : std::uint32_t {
  read = 1,   ///< a read-only transaction
  write = 2,  ///< anything that writes, or reads in order to write
};

/// What the core knows about one server. targets[0] is always the primary.
struct TargetState {
  std::string_view name;  ///< "primary", "replica1", ... (metric label)
  bool primary = false;
  bool healthy = false;  ///< answered the last health probe
  /// WAL position as a 64-bit LSN: on the primary its current write position,
  /// on a replica its last replayed position.
  std::uint64_t replay_position = 0;
  std::chrono::milliseconds lag{0};  ///< replica lag behind the primary
};

struct RouteRequest {
  Access access = Access::read;
  /// The WAL position of the caller's own last write (0: none known). A read
  /// must go to a server that has replayed at least this far, which gives
  /// read-your-writes.
  std::uint64_t min_position = 0;
};

class DbRouting : public Component {
 public:
  /// Index into `targets` of the server to use. Must return 0 (the primary)
  /// for Access::write. An out-of-range answer is treated as 0.
  virtual std::size_t route(const RouteRequest& request, std::span<const TargetState> targets) = 0;
};

}  // namespace eltrix::plugin
