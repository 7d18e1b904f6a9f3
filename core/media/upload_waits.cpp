#include "media/upload_waits.h"

#include "log/log.h"

#include <utility>

namespace eltrix::media {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("media");
  return instance;
}

void call(const std::function<void()>& ready) {
  try {
    ready();
  } catch (const std::exception& e) {
    logger().error("a media download wait callback failed", {{"error", e.what()}});
  }
}

}  // namespace

UploadWaits::UploadWaits(Settled settled, std::size_t max_waiting, std::chrono::milliseconds poll)
    : settled_(std::move(settled)), max_waiting_(max_waiting), poll_(poll) {}

UploadWaits::~UploadWaits() {
  std::vector<std::function<void()>> left;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    while (!waiters_.empty()) left.push_back(take_locked(waiters_.begin()->first));
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (const auto& ready : left) call(ready);
}

std::uint64_t UploadWaits::wait(std::string media_id, Clock::time_point deadline,
                                std::function<void()> ready) {
  std::lock_guard lock(mutex_);
  if (stopping_ || waiters_.size() >= max_waiting_) return 0;
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  const std::uint64_t id = ++next_id_;
  by_media_[media_id].insert(id);
  deadlines_.emplace(deadline, id);
  waiters_.emplace(id, Waiter{std::move(media_id), deadline, std::move(ready)});
  cv_.notify_all();  // the deadline may be the earliest
  return id;
}

bool UploadWaits::cancel(std::uint64_t id) {
  std::function<void()> dropped;  // destroyed outside the lock
  std::lock_guard lock(mutex_);
  if (!waiters_.contains(id)) return false;
  dropped = take_locked(id);
  return true;
}

void UploadWaits::wake(std::string_view media_id) {
  {
    std::lock_guard lock(mutex_);
    if (by_media_.find(media_id) == by_media_.end()) return;
    woken_.emplace_back(media_id);
  }
  cv_.notify_all();
}

std::size_t UploadWaits::waiting() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

std::function<void()> UploadWaits::take_locked(std::uint64_t id) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return {};
  auto ready = std::move(it->second.ready);
  if (auto m = by_media_.find(it->second.media_id); m != by_media_.end()) {
    m->second.erase(id);
    if (m->second.empty()) by_media_.erase(m);
  }
  deadlines_.erase({it->second.deadline, id});
  waiters_.erase(it);
  return ready;
}

void UploadWaits::run() {
  auto next_look = Clock::now() + poll_;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto until = next_look;
    if (!deadlines_.empty()) until = std::min(until, deadlines_.begin()->first);
    cv_.wait_until(lock, until, [&] { return stopping_ || !woken_.empty(); });
    if (stopping_) break;

    std::vector<std::string> settled;
    settled.swap(woken_);
    if (Clock::now() >= next_look && !by_media_.empty()) {
      std::vector<std::string> ids;
      ids.reserve(by_media_.size());
      for (const auto& [media_id, waiters] : by_media_) ids.push_back(media_id);
      lock.unlock();
      try {
        auto found = settled_(ids);
        settled.insert(settled.end(), found.begin(), found.end());
      } catch (const std::exception& e) {
        // The deadlines still run; the next look may work.
        logger().warn("cannot look up pending media", {{"error", e.what()}});
      }
      lock.lock();
      next_look = Clock::now() + poll_;
    } else if (Clock::now() >= next_look) {
      next_look = Clock::now() + poll_;
    }

    std::vector<std::function<void()>> ready;
    for (const auto& media_id : settled) {
      auto m = by_media_.find(media_id);
      if (m == by_media_.end()) continue;
      const std::vector<std::uint64_t> ids(m->second.begin(), m->second.end());
      for (const auto id : ids) ready.push_back(take_locked(id));
    }
    const auto now = Clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      ready.push_back(take_locked(deadlines_.begin()->second));
    }
    if (ready.empty()) continue;
    lock.unlock();
    for (const auto& r : ready) call(r);
    ready.clear();
    lock.lock();
  }
}

}  // namespace eltrix::media
