// A small Prometheus registry (prometheus-cpp is not packaged in Debian 12).
//
// Registration and render() take the registry mutex; updating a Counter, Gauge
// or Histogram is lock-free (atomics only), so they can sit on hot paths.
// Objects returned by the registry live as long as the registry and are never
// moved, so callers cache references to them.
//
// Output follows the Prometheus text exposition format 0.0.4 and is checked by
// `promtool check metrics` in the unit tests.
#pragma once

#include <eltrix/plugin/host.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eltrix::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

enum class Type { counter, gauge, histogram };

/// A monotonically increasing value. Negative or NaN increments are ignored,
/// so a counter never goes backwards.
class Counter final : public plugin::Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void inc(double amount) override;
  using plugin::Counter::inc;
  [[nodiscard]] double value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Gauge final : public plugin::Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(double value) override;
  void add(double delta) override;
  [[nodiscard]] double value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Histogram final : public plugin::Histogram {
 public:
  /// `bounds`: finite upper bounds in strictly increasing order (+Inf is implicit).
  explicit Histogram(std::span<const double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  /// NaN observations are ignored.
  void observe(double value) override;
  [[nodiscard]] std::uint64_t count() const;
  [[nodiscard]] double sum() const;

  [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
  /// Non-cumulative count of bucket `i`; i == bounds().size() is the +Inf bucket.
  [[nodiscard]] std::uint64_t bucket_count(std::size_t i) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0.0};
};

/// Seconds: .001 .0025 .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10
std::span<const double> default_latency_buckets();

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// The same name and labels (in any order) return the same object. Throws
  /// plugin::Error(invalid_argument) for an invalid metric or label name, a
  /// duplicate label name, a label value or help text that is not UTF-8, a name
  /// already registered with another type or help, or label names that differ
  /// from the family's other series.
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  /// Empty `buckets`: the family's buckets if it already exists, else
  /// default_latency_buckets(). Non-empty buckets must match an existing family's.
  Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels = {},
                       std::span<const double> buckets = {});

  /// Declares a family with no series yet; HELP and TYPE are still rendered.
  void describe(std::string_view name, std::string_view help, Type type);

  /// Runs at the start of every render(), outside the registry lock (so a
  /// collector may register metrics), e.g. to refresh pool gauges.
  /// Collectors run one render at a time; one that throws is skipped.
  void add_collector(std::function<void()> collect);

  /// Prometheus text format 0.0.4, families sorted by name.
  std::string render();

 private:
  struct Family;
  Family& family_locked(std::string_view name, std::string_view help, Type type);

  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
  std::mutex collect_mutex_;
  std::vector<std::function<void()>> collectors_;  // guarded by mutex_ (copied to run)
};

/// process_resident_memory_bytes, process_virtual_memory_bytes,
/// process_cpu_seconds_total, process_open_fds, process_max_fds and
/// process_start_time_seconds, read from /proc/self at every render().
/// Calling it twice on the same registry is harmless.
void register_process_metrics(Registry& registry);

}  // namespace eltrix::metrics
