// systemd integration: sd_notify readiness, stopping and the watchdog.
// Every call is a no-op when not started by systemd (no NOTIFY_SOCKET).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace eltrix::app {

void notify_ready(const std::string& status);
void notify_stopping();
void notify_status(const std::string& status);

/// Pings the systemd watchdog at half its interval while `healthy()` holds,
/// so a wedged process is restarted rather than left running. Does nothing
/// when WatchdogSec is not set.
class Watchdog {
 public:
  explicit Watchdog(std::function<bool()> healthy);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  Watchdog(Watchdog&&) = delete;
  Watchdog& operator=(Watchdog&&) = delete;

 private:
  void loop(std::chrono::microseconds interval);

  std::function<bool()> healthy_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace eltrix::app
