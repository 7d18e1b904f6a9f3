// The base every plugin interface derives from: lifetime and health.
#pragma once

#include <eltrix/plugin/abi.h>

#include <string>

namespace eltrix::plugin {

enum class HealthStatus : std::uint32_t {
  ok = 0,        ///< working normally
  degraded = 1,  ///< working with reduced function (the node can still serve)
  failed = 2,    ///< not working; the node should not take traffic
};

struct Health {
  HealthStatus status = HealthStatus::ok;
  std::string detail;  ///< short human-readable reason, shown in /health
};

class Component {
 public:
  Component() = default;
  Component(const Component&) = delete;
  Component& operator=(const Component&) = delete;
  Component(Component&&) = delete;
  Component& operator=(Component&&) = delete;
  virtual ~Component() = default;

  /// Current health. Called from the core's health thread every few seconds,
  /// never per request; it may do a cheap round trip (a PING) but must not block
  /// for longer than the plugin's own timeout.
  virtual Health health() = 0;
};

}  // namespace eltrix::plugin
