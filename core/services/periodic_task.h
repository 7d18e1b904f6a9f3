// A background loop on a thread of its own: runs a round, then waits for
// `interval` unless the round asks to run again at once (it found a full
// batch), until stop(). One piece for the services' loops, so each need
// not carry its own thread, mutex, condition variable and stop flag.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace eltrix::services {

class PeriodicTask {
 public:
  /// `round` returns true to run again at once. An exception it throws is
  /// logged under `name` (the round is then retried after `interval`).
  PeriodicTask(std::string name, std::chrono::milliseconds interval, std::function<bool()> round);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;
  PeriodicTask(PeriodicTask&&) = delete;
  PeriodicTask& operator=(PeriodicTask&&) = delete;

  /// Starts the thread (again after stop()); no-op while it runs.
  void start();
  /// Idempotent; returns once the running round ended.
  void stop();
  /// Whether stop() was called: a long round checks it between its items.
  [[nodiscard]] bool stopping() const;

 private:
  void loop();

  const std::string name_;
  const std::chrono::milliseconds interval_;
  const std::function<bool()> round_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace eltrix::services
