// A plugin::Host for white-box tests of plugin classes: a manual clock,
// metrics kept in maps so tests can read them, and captured log lines.
#pragma once

#include <eltrix/plugin/host.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace eltrix::contract {

class TestHost final : public plugin::Host {
 public:
  TestHost();
  ~TestHost();

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

  /// Moves both clocks forward.
  void advance(std::chrono::steady_clock::duration by);

  /// The value of a metric, by name and `{label="value"}` text ("" for none);
  /// 0 when never registered.
  [[nodiscard]] double value(const std::string& name, const std::string& labels = "") const;
  [[nodiscard]] std::vector<std::string> log_lines() const;

 private:
  struct Metric;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Metric>> metrics_;
  std::vector<std::string> logs_;
  std::chrono::steady_clock::time_point steady_;
  std::chrono::system_clock::time_point wall_;
};

}  // namespace eltrix::contract
