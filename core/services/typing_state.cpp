#include "services/typing_state.h"

#include "log/log.h"

#include <algorithm>
#include <vector>

namespace eltrix::services {

namespace {
const log::Logger& logger() {
  static const log::Logger instance("typing");
  return instance;
}
}  // namespace

TypingStateImpl::TypingStateImpl(Wake wake, TypingOptions options, Now now)
    : wake_(std::move(wake)),
      options_(options),
      now_(std::move(now)),
      serial_(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count())) {
  if (options_.sweep_interval.count() > 0) start();
}

TypingStateImpl::~TypingStateImpl() {
  stop();
}

void TypingStateImpl::start() {
  std::lock_guard lock(thread_mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { sweep_loop(); });
}

void TypingStateImpl::stop() {
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = true;
  }
  thread_wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TypingStateImpl::sweep_loop() {
  std::unique_lock lock(thread_mutex_);
  while (!stopping_) {
    thread_wake_.wait_for(lock, options_.sweep_interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    try {
      sweep();
    } catch (const std::exception& e) {
      // A throwing wake callback must not end the sweeps: typists would
      // then stay "typing" until the next request for their room.
      logger().error("typing sweep failed", {{"error", e.what()}});
    }
    lock.lock();
  }
}

bool TypingStateImpl::expire_locked(Room& room, Clock::time_point now) {
  bool changed = false;
  for (auto it = room.users.begin(); it != room.users.end();) {
    if (it->second <= now) {
      it = room.users.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed) {
    room.serial = next_serial_locked();
    room.changed_at = now;
  }
  return changed;
}

std::uint64_t TypingStateImpl::next_serial_locked() {
  const auto wall =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  serial_ = std::max(serial_ + 1, wall);
  return serial_;
}

void TypingStateImpl::set_publisher(Publish publish) {
  publish_ = std::move(publish);
}

void TypingStateImpl::apply_peer(const std::string& room_id, const std::string& user_id,
                                 bool typing, std::chrono::milliseconds timeout) {
  change(room_id, user_id, typing, timeout);
}

void TypingStateImpl::set_typing(const std::string& room_id, const std::string& user_id,
                                 bool typing, std::chrono::milliseconds timeout) {
  change(room_id, user_id, typing, timeout);
  if (publish_) publish_(room_id, user_id, typing, timeout);
}

void TypingStateImpl::change(const std::string& room_id, const std::string& user_id, bool typing,
                             std::chrono::milliseconds timeout) {
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    auto now = now_();
    auto it = rooms_.find(room_id);
    if (it == rooms_.end()) {
      if (!typing) return;  // nobody typing there: nothing to stop
      if (rooms_.size() >= options_.max_rooms) {
        logger().warn("typing ignored: too many rooms",
                      {{"room_id", room_id}, {"max_rooms", std::to_string(options_.max_rooms)}});
        return;
      }
      it = rooms_.emplace(room_id, Room{}).first;
    }
    Room& room = it->second;
    changed = expire_locked(room, now);
    if (typing) {
      if (timeout.count() <= 0) timeout = options_.default_timeout;
      timeout = std::clamp(timeout, options_.min_timeout, options_.max_timeout);
      auto [user, inserted] = room.users.try_emplace(user_id, now + timeout);
      if (inserted && room.users.size() > options_.max_users_per_room) {
        room.users.erase(user);
        logger().warn("typing ignored: too many typists in the room", {{"room_id", room_id}});
      } else {
        user->second = now + timeout;
        // Extending a timeout is not news to anyone: only a new typist is.
        changed = changed || inserted;
      }
    } else {
      changed = room.users.erase(user_id) > 0 || changed;
    }
    if (changed) {
      room.serial = next_serial_locked();
      room.changed_at = now;
    }
  }
  if (changed && wake_) wake_(room_id);
}

std::uint64_t TypingStateImpl::serial() const {
  std::lock_guard lock(mutex_);
  return serial_;
}

std::optional<nlohmann::json> TypingStateImpl::typing_since(const std::string& room_id,
                                                            std::uint64_t since_serial) {
  nlohmann::json user_ids = nlohmann::json::array();
  bool expired = false;
  {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(room_id);
    if (it == rooms_.end()) {
      if (since_serial != 0) return std::nullopt;
      return nlohmann::json{{"user_ids", user_ids}};
    }
    // Lazily expired here too, so a sync never reports a typist whose
    // timeout passed between two sweeps.
    expired = expire_locked(it->second, now_());
    if (since_serial != 0 && it->second.serial <= since_serial) return std::nullopt;
    for (const auto& [user, expiry] : it->second.users) user_ids.push_back(user);
  }
  if (expired && wake_) wake_(room_id);
  return nlohmann::json{{"user_ids", std::move(user_ids)}};
}

std::vector<std::string> TypingStateImpl::sweep() {
  std::vector<std::string> changed;
  {
    std::lock_guard lock(mutex_);
    auto now = now_();
    for (auto it = rooms_.begin(); it != rooms_.end();) {
      if (expire_locked(it->second, now)) changed.push_back(it->first);
      if (it->second.users.empty() && now - it->second.changed_at >= options_.forget_after) {
        it = rooms_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (wake_) {
    for (const auto& room : changed) wake_(room);
  }
  return changed;
}

std::size_t TypingStateImpl::room_count() const {
  std::lock_guard lock(mutex_);
  return rooms_.size();
}

// ---- PUT /rooms/{roomId}/typing/{userId} -----------------------------------------

}  // namespace eltrix::services
