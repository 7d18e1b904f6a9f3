#include "app/systemd.h"

#include <systemd/sd-daemon.h>

namespace eltrix::app {

void notify_ready(const std::string& status) {
  sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}

void notify_stopping() {
  sd_notify(0, "STOPPING=1\nSTATUS=draining");
}

void notify_status(const std::string& status) {
  sd_notify(0, ("STATUS=" + status).c_str());
}

Watchdog::Watchdog(std::function<bool()> healthy) : healthy_(std::move(healthy)) {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    thread_ = std::thread([this, usec] { loop(std::chrono::microseconds(usec / 2)); });
  }
}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Watchdog::loop(std::chrono::microseconds interval) {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval, [this] { return stop_; })) {
    if (healthy_()) sd_notify(0, "WATCHDOG=1");
  }
}

}  // namespace eltrix::app
