#include "plugins/plugin_host.h"

#include "metrics/registry.h"

#include <eltrix/plugin/error.h>

namespace eltrix::plugins {
namespace {

metrics::Labels to_labels(std::span<const plugin::Label> labels) {
  metrics::Labels out;
  out.reserve(labels.size());
  for (const auto& label : labels) out.emplace_back(label.name, label.value);
  return out;
}

// Plugins share the process-wide metric namespace; the prefix keeps them from
// shadowing process_* or other standard names.
void check_name(std::string_view name) {
  if (name.substr(0, 7) != "eltrix_") {
    throw plugin::Error(
        plugin::ErrorKind::invalid_argument,
        "metric name '" + std::string(name) +
            "' is not allowed for plugins: expected a name starting with 'eltrix_'");
  }
}

}  // namespace

PluginHost::PluginHost(std::string_view component, metrics::Registry& metrics)
    : logger_(component), metrics_(metrics) {}

void PluginHost::write_log(plugin::LogLevel level, std::string_view message,
                           std::span<const plugin::LogField> fields) {
  logger_.write(level, message, fields);
}

bool PluginHost::log_enabled(plugin::LogLevel level) const {
  return logger_.enabled(level);
}

plugin::Counter& PluginHost::get_counter(std::string_view name, std::string_view help,
                                         std::span<const plugin::Label> labels) {
  check_name(name);
  return metrics_.counter(name, help, to_labels(labels));
}

plugin::Gauge& PluginHost::get_gauge(std::string_view name, std::string_view help,
                                     std::span<const plugin::Label> labels) {
  check_name(name);
  return metrics_.gauge(name, help, to_labels(labels));
}

plugin::Histogram& PluginHost::get_histogram(std::string_view name, std::string_view help,
                                             std::span<const plugin::Label> labels,
                                             std::span<const double> buckets) {
  check_name(name);
  return metrics_.histogram(name, help, to_labels(labels), buckets);
}

std::chrono::steady_clock::time_point PluginHost::steady_now() const {
  return std::chrono::steady_clock::now();
}

std::chrono::system_clock::time_point PluginHost::wall_now() const {
  return std::chrono::system_clock::now();
}

}  // namespace eltrix::plugins
