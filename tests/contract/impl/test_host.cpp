#include "contract/impl/test_host.h"

#include <atomic>

namespace eltrix::contract {

struct TestHost::Metric final : plugin::Counter, plugin::Gauge, plugin::Histogram {
  std::atomic<double> value{0.0};
  void inc(double amount) override { add(amount); }
  void set(double v) override { value.store(v); }
  void add(double delta) override {
    double current = value.load();
    while (!value.compare_exchange_weak(current, current + delta)) {
    }
  }
  void observe(double v) override { add(v); }
};

namespace {

std::string series(std::string_view name, std::span<const plugin::Label> labels) {
  std::string out(name);
  if (labels.empty()) return out;
  out += '{';
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i != 0) out += ',';
    out.append(labels[i].name).append("=\"").append(labels[i].value).append("\"");
  }
  return out + '}';
}

}  // namespace

// Start well away from the epoch so "an hour ago" is representable everywhere.
TestHost::TestHost()
    : steady_(std::chrono::steady_clock::time_point(std::chrono::hours(1000))),
      wall_(std::chrono::system_clock::now()) {}

TestHost::~TestHost() = default;

void TestHost::write_log(plugin::LogLevel /*level*/, std::string_view message,
                         std::span<const plugin::LogField> fields) {
  std::string line(message);
  for (const auto& field : fields)
    line.append(" ").append(field.key).append("=").append(field.value);
  std::lock_guard lock(mutex_);
  logs_.push_back(std::move(line));
}

bool TestHost::log_enabled(plugin::LogLevel /*level*/) const {
  return true;
}

plugin::Counter& TestHost::get_counter(std::string_view name, std::string_view /*help*/,
                                       std::span<const plugin::Label> labels) {
  std::lock_guard lock(mutex_);
  auto& slot = metrics_[series(name, labels)];
  if (!slot) slot = std::make_unique<Metric>();
  return *slot;
}

plugin::Gauge& TestHost::get_gauge(std::string_view name, std::string_view /*help*/,
                                   std::span<const plugin::Label> labels) {
  std::lock_guard lock(mutex_);
  auto& slot = metrics_[series(name, labels)];
  if (!slot) slot = std::make_unique<Metric>();
  return *slot;
}

plugin::Histogram& TestHost::get_histogram(std::string_view name, std::string_view /*help*/,
                                           std::span<const plugin::Label> labels,
                                           std::span<const double> /*buckets*/) {
  std::lock_guard lock(mutex_);
  auto& slot = metrics_[series(name, labels)];
  if (!slot) slot = std::make_unique<Metric>();
  return *slot;
}

std::chrono::steady_clock::time_point TestHost::steady_now() const {
  std::lock_guard lock(mutex_);
  return steady_;
}

std::chrono::system_clock::time_point TestHost::wall_now() const {
  std::lock_guard lock(mutex_);
  return wall_;
}

void TestHost::advance(std::chrono::steady_clock::duration by) {
  std::lock_guard lock(mutex_);
  steady_ += by;
  wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
}

double TestHost::value(const std::string& name, const std::string& labels) const {
  std::lock_guard lock(mutex_);
  auto it = metrics_.find(name + labels);
  return it == metrics_.end() ? 0.0 : it->second->value.load();
}

std::vector<std::string> TestHost::log_lines() const {
  std::lock_guard lock(mutex_);
  return logs_;
}

}  // namespace eltrix::contract
