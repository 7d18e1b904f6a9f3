#include "health/monitor.h"

#include "log/log.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <ctime>

namespace eltrix::health {
namespace {

using plugin::HealthStatus;

const log::Logger& logger() {
  static const log::Logger instance("health");
  return instance;
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string iso8601(std::chrono::system_clock::time_point tp) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof(out), "%.*s.%03dZ", static_cast<int>(n), buf,
                static_cast<int>(ms % 1000));
  return out;
}

Poco::JSON::Object::Ptr components_json(const std::vector<ComponentState>& states) {
  Poco::JSON::Object::Ptr out = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& s : states) {
    Poco::JSON::Object::Ptr c = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    c->set("status", std::string(status_name(s.status)));
    c->set("detail", s.detail);
    c->set("critical", s.critical);
    if (s.checked_at.time_since_epoch().count() == 0) {
      c->set("checked_at", Poco::Dynamic::Var());
    } else {
      c->set("checked_at", iso8601(s.checked_at));
    }
    c->set("check_seconds", s.check_seconds);
    out->set(s.name, c);
  }
  return out;
}

}  // namespace

std::string_view status_name(HealthStatus status) {
  switch (status) {
    case HealthStatus::ok: return "ok";
    case HealthStatus::degraded: return "degraded";
    case HealthStatus::failed: return "failed";
  }
  return "failed";
}

Monitor::Monitor(metrics::Registry& metrics, std::chrono::milliseconds interval,
                 std::chrono::milliseconds max_silence)
    : metrics_(metrics),
      interval_(interval.count() > 0 ? interval : std::chrono::seconds(2)),
      max_silence_(std::max(max_silence, 2 * interval_)) {
  metrics_.describe("eltrix_health_component_status",
                    "Health of each component: 0 ok, 1 degraded, 2 failed.", metrics::Type::gauge);
  metrics_.describe("eltrix_health_check_duration_seconds",
                    "How long the last health check of each component took, in seconds.",
                    metrics::Type::gauge);
  ready_gauge_ = &metrics_.gauge("eltrix_ready", "1 if the node is ready to take traffic, else 0.");
  draining_gauge_ = &metrics_.gauge("eltrix_draining", "1 while the node is draining, else 0.");
  update_ready_gauge();
}

Monitor::~Monitor() {
  stop();
}

void Monitor::add(std::string name, std::function<plugin::Health()> check, bool critical) {
  auto c = std::make_shared<Component>();
  c->state.name = name;
  c->state.critical = critical;
  c->state.status = HealthStatus::failed;
  c->state.detail = "not checked yet";
  c->check = std::move(check);
  c->status_gauge = &metrics_.gauge("eltrix_health_component_status",
                                    "Health of each component: 0 ok, 1 degraded, 2 failed.",
                                    {{"component", name}});
  c->duration_gauge = &metrics_.gauge(
      "eltrix_health_check_duration_seconds",
      "How long the last health check of each component took, in seconds.", {{"component", name}});
  c->status_gauge->set(static_cast<double>(HealthStatus::failed));
  {
    std::lock_guard lock(mutex_);
    for (auto& existing : components_) {
      if (existing->state.name == name) {
        throw std::invalid_argument("health component '" + name + "' added twice");
      }
    }
    components_.push_back(std::move(c));
  }
  update_ready_gauge();
}

void Monitor::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stop_ = false;
  last_round_ns_.store(steady_ns());  // a fresh thread gets 5 intervals of grace
  running_.store(true);
  thread_ = std::thread([this] { run(); });
}

void Monitor::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  running_.store(false);
}

void Monitor::run() {
  while (true) {
    round();
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, interval_, [this] { return stop_; })) return;
  }
}

void Monitor::check_now() {
  round();
}

void Monitor::round() {
  std::lock_guard round_lock(round_mutex_);
  std::vector<std::shared_ptr<Component>> components;
  {
    std::lock_guard lock(mutex_);
    components = components_;
  }
  for (auto& c : components) {
    plugin::Health result;
    const auto started = std::chrono::steady_clock::now();
    try {
      result = c->check ? c->check() : plugin::Health{HealthStatus::failed, "no check"};
    } catch (const std::exception& e) {
      result = {HealthStatus::failed, e.what()};
    } catch (...) {
      result = {HealthStatus::failed, "health check threw a non-standard exception"};
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    HealthStatus previous;
    bool first = false;
    {
      std::lock_guard lock(mutex_);
      previous = c->state.status;
      first = c->state.checked_at.time_since_epoch().count() == 0;
      c->state.status = result.status;
      c->state.detail = result.detail;
      c->state.checked_at = std::chrono::system_clock::now();
      c->state.check_seconds = seconds;
    }
    c->status_gauge->set(static_cast<double>(result.status));
    c->duration_gauge->set(seconds);
    // The first result is logged unless it is "ok"; later only changes are.
    if ((first && result.status != HealthStatus::ok) || (!first && previous != result.status)) {
      const auto level = result.status == HealthStatus::ok ? log::Level::info : log::Level::warn;
      logger().log(level, "component health changed",
                   {{"component", c->state.name},
                    {"from", status_name(previous)},
                    {"to", status_name(result.status)},
                    {"critical", c->state.critical ? "true" : "false"},
                    {"detail", result.detail}});
    }
  }
  update_ready_gauge();
  last_round_ns_.store(steady_ns());
}

void Monitor::set_draining(bool draining) {
  draining_.store(draining);
  update_ready_gauge();
}

bool Monitor::draining() const {
  return draining_.load();
}

bool Monitor::ready() const {
  if (draining_.load()) return false;
  std::lock_guard lock(mutex_);
  for (const auto& c : components_) {
    if (c->state.critical && c->state.status == HealthStatus::failed) return false;
  }
  return true;
}

std::vector<ComponentState> Monitor::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<ComponentState> out;
  out.reserve(components_.size());
  for (const auto& c : components_) out.push_back(c->state);
  return out;
}

bool Monitor::alive() const {
  if (!running_.load()) return true;
  const auto age = std::chrono::nanoseconds(steady_ns() - last_round_ns_.load());
  return age <= max_silence_;
}

void Monitor::update_ready_gauge() {
  ready_gauge_->set(ready() ? 1 : 0);
  draining_gauge_->set(draining_.load() ? 1 : 0);
}

// ---------------------------------------------------------------------------
// Routes

void add_routes(http::Router& router, Monitor& monitor, metrics::Registry& metrics,
                const std::string& version) {
  router.add("GET", "/health/live", [&monitor](http::Request&) {
    Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
    if (monitor.alive()) {
      body.set("status", "ok");
      return http::Response::json(200, body);
    }
    body.set("status", "stalled");
    body.set("detail", "the health monitor has not completed a round in " +
                           std::to_string(5 * monitor.interval().count()) + " ms");
    return http::Response::json(503, body);
  });

  router.add("GET", "/health/ready", [&monitor](http::Request&) {
    const auto states = monitor.snapshot();
    const bool draining = monitor.draining();
    bool ready = !draining;
    Poco::JSON::Array::Ptr failed = new Poco::JSON::Array;
    for (const auto& s : states) {
      if (s.critical && s.status == HealthStatus::failed) {
        failed->add(s.name);
        ready = false;
      }
    }
    Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
    if (ready) {
      body.set("status", "ready");
      body.set("components", components_json(states));
      return http::Response::json(200, body);
    }
    body.set("status", "not_ready");
    body.set("failed", failed);
    body.set("draining", draining);
    body.set("components", components_json(states));
    return http::Response::json(503, body);
  });

  router.add("GET", "/health", [&monitor, version](http::Request&) {
    const auto states = monitor.snapshot();
    const bool draining = monitor.draining();
    bool critical_failed = false;
    bool degraded = false;
    for (const auto& s : states) {
      if (s.status == HealthStatus::failed) {
        if (s.critical) {
          critical_failed = true;
        } else {
          degraded = true;  // a non-critical failure leaves the node serving, degraded
        }
      } else if (s.status == HealthStatus::degraded) {
        degraded = true;
      }
    }
    std::string status = "ok";
    if (draining) {
      status = "draining";
    } else if (critical_failed) {
      status = "failed";
    } else if (degraded) {
      status = "degraded";
    }
    Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
    body.set("status", status);
    body.set("version", version);
    body.set("components", components_json(states));
    return http::Response::json(draining || critical_failed ? 503 : 200, body);
  });

  router.add("GET", "/metrics", [&metrics](http::Request&) {
    return http::Response::text(200, "text/plain; version=0.0.4; charset=utf-8", metrics.render());
  });
}

}  // namespace eltrix::health
