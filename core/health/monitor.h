// Component health: checks run in the monitor's own thread every few seconds
// (never per request), and /health, /health/ready, /health/live and /metrics
// only read the last results.
#pragma once

#include "http/router.h"
#include "metrics/registry.h"

#include <eltrix/plugin/component.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace eltrix::health {

struct ComponentState {
  std::string name;
  plugin::HealthStatus status = plugin::HealthStatus::failed;
  std::string detail;
  bool critical = false;
  std::chrono::system_clock::time_point checked_at{};  ///< epoch: never checked
  double check_seconds = 0;
};

class Monitor {
 public:
  /// `max_silence`: how long the monitor may go without finishing a round
  /// before alive() turns false. A round can legitimately take as long as a
  /// check's own timeouts (a black-holed database connection is given up after
  /// about 20 s by TCP keepalives), so the default is far above the interval.
  Monitor(metrics::Registry& metrics, std::chrono::milliseconds interval = std::chrono::seconds(2),
          std::chrono::milliseconds max_silence = std::chrono::seconds(60));
  /// Stops the thread.
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  /// critical: a failed check makes the node not ready; degraded never does.
  /// Until its first check a component counts as failed ("not checked yet").
  /// A check that throws counts as failed, with the exception text as detail.
  void add(std::string name, std::function<plugin::Health()> check, bool critical);

  /// Starts the background thread (one round at once, then every interval).
  void start();
  void stop();
  /// Runs one round synchronously (startup, tests).
  void check_now();

  void set_draining(bool draining);
  [[nodiscard]] bool draining() const;

  /// Not draining and no critical component failed.
  [[nodiscard]] bool ready() const;
  [[nodiscard]] std::vector<ComponentState> snapshot() const;
  /// False if the monitor thread has not completed a round within max_silence.
  /// True while the thread is not running (nothing to judge).
  [[nodiscard]] bool alive() const;

  [[nodiscard]] std::chrono::milliseconds interval() const { return interval_; }

 private:
  struct Component {
    ComponentState state;
    std::function<plugin::Health()> check;
    metrics::Gauge* status_gauge;
    metrics::Gauge* duration_gauge;
  };

  void run();
  void round();
  void update_ready_gauge();

  metrics::Registry& metrics_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds max_silence_;
  metrics::Gauge* ready_gauge_;
  metrics::Gauge* draining_gauge_;

  mutable std::mutex mutex_;  // components_ (state), stop_
  std::vector<std::shared_ptr<Component>> components_;
  std::mutex round_mutex_;  // one round at a time
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> draining_{false};
  std::atomic<std::int64_t> last_round_ns_{0};  // steady_clock, of the last completed round
};

/// GET /health/live, /health/ready, /health and /metrics.
void add_routes(http::Router& router, Monitor& monitor, metrics::Registry& metrics,
                const std::string& version);

/// "ok", "degraded", "failed".
std::string_view status_name(plugin::HealthStatus status);

}  // namespace eltrix::health
