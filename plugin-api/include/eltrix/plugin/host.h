// Services the core offers to plugins: logging, metrics and clocks.
//
// Plugins never link spdlog or the core's metrics registry; everything goes
// through this interface so that neither side's internal types cross the
// boundary.
#pragma once

#include <eltrix/plugin/abi.h>

#include <chrono>
#include <initializer_list>
#include <span>
#include <string_view>

namespace eltrix::plugin {

enum class LogLevel : std::uint32_t { debug = 0, info = 1, warn = 2, error = 3 };

/// A key/value pair attached to a log line ("key=value" in text, a JSON member in json).
struct LogField {
  std::string_view key;
  std::string_view value;
};

/// A Prometheus label.
struct Label {
  std::string_view name;
  std::string_view value;
};

class Counter {
 public:
  virtual void inc(double amount) = 0;
  void inc() { inc(1.0); }

 protected:
  ~Counter() = default;
};

class Gauge {
 public:
  virtual void set(double value) = 0;
  virtual void add(double delta) = 0;

 protected:
  ~Gauge() = default;
};

class Histogram {
 public:
  virtual void observe(double value) = 0;

 protected:
  ~Histogram() = default;
};

class Host {
 public:
  Host() = default;
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;
  Host(Host&&) = delete;
  Host& operator=(Host&&) = delete;

  /// Writes one log line on the plugin's own logger ("plugin.<kind>.<name>").
  virtual void write_log(LogLevel level, std::string_view message,
                         std::span<const LogField> fields) = 0;
  [[nodiscard]] virtual bool log_enabled(LogLevel level) const = 0;

  /// Metrics live as long as the Host; the same name and labels return the
  /// same object. Names must start with "eltrix_"; a bad name or a name
  /// registered with another type throws Error(invalid_argument).
  virtual Counter& get_counter(std::string_view name, std::string_view help,
                               std::span<const Label> labels) = 0;
  virtual Gauge& get_gauge(std::string_view name, std::string_view help,
                           std::span<const Label> labels) = 0;
  /// `buckets` are upper bounds in increasing order; empty selects the
  /// default latency buckets (seconds).
  virtual Histogram& get_histogram(std::string_view name, std::string_view help,
                                   std::span<const Label> labels,
                                   std::span<const double> buckets) = 0;

  /// Monotonic time, for timeouts and TTLs. Tests substitute a manual clock.
  [[nodiscard]] virtual std::chrono::steady_clock::time_point steady_now() const = 0;
  /// Wall-clock time, for timestamps that leave the process.
  [[nodiscard]] virtual std::chrono::system_clock::time_point wall_now() const = 0;

  // Conveniences; not virtual, so they add nothing to the ABI.
  void log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {}) {
    if (log_enabled(level))
      write_log(level, message, std::span<const LogField>(fields.begin(), fields.size()));
  }
  void debug(std::string_view message, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::debug, message, fields);
  }
  void info(std::string_view message, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::info, message, fields);
  }
  void warn(std::string_view message, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::warn, message, fields);
  }
  void error(std::string_view message, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::error, message, fields);
  }
  Counter& counter(std::string_view name, std::string_view help,
                   std::initializer_list<Label> labels = {}) {
    return get_counter(name, help, std::span<const Label>(labels.begin(), labels.size()));
  }
  Gauge& gauge(std::string_view name, std::string_view help,
               std::initializer_list<Label> labels = {}) {
    return get_gauge(name, help, std::span<const Label>(labels.begin(), labels.size()));
  }
  Histogram& histogram(std::string_view name, std::string_view help,
                       std::initializer_list<Label> labels = {}) {
    return get_histogram(name, help, std::span<const Label>(labels.begin(), labels.size()),
                         std::span<const double>());
  }

 protected:
  ~Host() = default;
};

}  // namespace eltrix::plugin
