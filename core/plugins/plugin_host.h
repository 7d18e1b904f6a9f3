// The core's implementation of plugin::Host: a plugin's logger, metrics and clocks.
#pragma once

#include "log/log.h"

#include <eltrix/plugin/host.h>

#include <string>

namespace eltrix::metrics {
class Registry;
}

namespace eltrix::plugins {

class PluginHost final : public plugin::Host {
 public:
  /// `component` names the logger, e.g. "plugin.cache.local".
  PluginHost(std::string_view component, metrics::Registry& metrics);
  ~PluginHost() = default;
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;
  PluginHost(PluginHost&&) = delete;
  PluginHost& operator=(PluginHost&&) = delete;

  void write_log(plugin::LogLevel level, std::string_view message,
                 std::span<const plugin::LogField> fields) override;
  [[nodiscard]] bool log_enabled(plugin::LogLevel level) const override;
  plugin::Counter& get_counter(std::string_view name, std::string_view help,
                               std::span<const plugin::Label> labels) override;
  plugin::Gauge& get_gauge(std::string_view name, std::string_view help,
                           std::span<const plugin::Label> labels) override;
  plugin::Histogram& get_histogram(std::string_view name, std::string_view help,
                                   std::span<const plugin::Label> labels,
                                   std::span<const double> buckets) override;
  [[nodiscard]] std::chrono::steady_clock::time_point steady_now() const override;
  [[nodiscard]] std::chrono::system_clock::time_point wall_now() const override;

 private:
  log::Logger logger_;
  metrics::Registry& metrics_;
};

}  // namespace eltrix::plugins
