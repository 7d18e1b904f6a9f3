// Downloads waiting for a pending asynchronous upload (POST /create, then
// PUT /upload later), without a thread each: a request parks (http::Deferred)
// and registers here; one thread looks the waited-for media up every
// poll interval, in one batch, and calls back those whose media was
// uploaded (or is gone) or whose deadline passed. An upload through this
// node wakes its waiters at once (wake()); one through another node is seen
// at the next look.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace eltrix::media {

class UploadWaits {
 public:
  using Clock = std::chrono::steady_clock;
  /// Of the given media IDs, those no longer pending (uploaded, unknown or
  /// expired). Runs on the waits' thread; may throw (logged, retried).
  using Settled = std::function<std::vector<std::string>(const std::vector<std::string>&)>;

  UploadWaits(Settled settled, std::size_t max_waiting, std::chrono::milliseconds poll);
  /// Stops the thread; outstanding waiters are called back (as if timed out).
  ~UploadWaits();
  UploadWaits(const UploadWaits&) = delete;
  UploadWaits& operator=(const UploadWaits&) = delete;

  /// Calls `ready` once, on the waits' thread (it must not block), when
  /// `media_id` is no longer pending or at `deadline`. Returns 0 (and never
  /// calls it) when max_waiting waiters wait already.
  std::uint64_t wait(std::string media_id, Clock::time_point deadline, std::function<void()> ready);
  /// True if the waiter was still registered (`ready` will not run).
  bool cancel(std::uint64_t id);
  /// The media was uploaded through this node: its waiters are called back now.
  void wake(std::string_view media_id);
  [[nodiscard]] std::size_t waiting() const;

 private:
  struct Waiter {
    std::string media_id;
    Clock::time_point deadline;
    std::function<void()> ready;
  };
  void run();
  /// Removes the waiter and returns its callback. Lock held.
  std::function<void()> take_locked(std::uint64_t id);

  const Settled settled_;
  const std::size_t max_waiting_;
  const std::chrono::milliseconds poll_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::unordered_map<std::uint64_t, Waiter> waiters_;
  std::map<std::string, std::set<std::uint64_t>, std::less<>> by_media_;
  std::set<std::pair<Clock::time_point, std::uint64_t>> deadlines_;
  std::vector<std::string> woken_;  // media IDs wake() saw, for the thread
  std::uint64_t next_id_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // started by the first wait()
};

}  // namespace eltrix::media
