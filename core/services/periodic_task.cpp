#include "services/periodic_task.h"

#include "log/log.h"

#include <utility>

namespace eltrix::services {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("services");
  return instance;
}

}  // namespace

PeriodicTask::PeriodicTask(std::string name, std::chrono::milliseconds interval,
                           std::function<bool()> round)
    : name_(std::move(name)), interval_(interval), round_(std::move(round)) {}

PeriodicTask::~PeriodicTask() {
  stop();
}

void PeriodicTask::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void PeriodicTask::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PeriodicTask::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void PeriodicTask::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    bool again = false;
    try {
      again = round_();
    } catch (const std::exception& e) {
      // The database may be away: the next round tries again.
      logger().warn("background round failed", {{"task", name_}, {"error", e.what()}});
    }
    lock.lock();
    if (!again) wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace eltrix::services
