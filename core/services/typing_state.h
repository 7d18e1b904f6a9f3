// The in-memory TypingState of one node (spec: "Typing Notifications"). The
// route, PUT /rooms/{roomId}/typing/{userId}, is client/typing.cpp.
//
// Typing is ephemeral by design: nothing reaches PostgreSQL, and a restart
// forgets who was typing (clients re-send every few seconds while typing).
#pragma once

#include "services/typing.h"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace eltrix::services {

struct TypingOptions {
  /// Used when a client says typing without a timeout.
  std::chrono::milliseconds default_timeout{30000};
  /// Requested timeouts are clamped into [min_timeout, max_timeout].
  std::chrono::milliseconds min_timeout{1000};
  std::chrono::milliseconds max_timeout{120000};
  /// How often the sweep thread expires entries; 0: no thread (tests call
  /// sweep() themselves).
  std::chrono::milliseconds sweep_interval{1000};
  /// How long a room whose last typist stopped is remembered, so a sync that
  /// started before can still be told the list is empty now.
  std::chrono::milliseconds forget_after{600000};
  /// Bounds: typing in more rooms, or by more users in one room, is ignored.
  std::size_t max_rooms = 100000;
  std::size_t max_users_per_room = 100;
};

/// Per room, the users typing with their expiry. Thread-safe.
///
/// serial() is a hybrid clock: each change takes max(previous + 1, the wall
/// clock in microseconds). Serials of different nodes (and of one node
/// across restarts) therefore compare like the times of their changes, so a
/// sync token issued by another node is understood here: a typing change
/// applied here after that token was issued compares newer (within the
/// nodes' clock skew, which NTP keeps to milliseconds).
class TypingStateImpl final : public TypingState {
 public:
  using Clock = std::chrono::steady_clock;
  /// Called (outside the lock) with each room whose typing list changed.
  using Wake = std::function<void(const std::string& room_id)>;
  using Now = std::function<Clock::time_point()>;

  /// Starts the sweep thread (unless options.sweep_interval is 0), so
  /// typists whose timeout passes stop "typing" in waiting syncs on time.
  explicit TypingStateImpl(Wake wake, TypingOptions options = {}, Now now = Clock::now);
  /// Stops the sweep thread before anything it uses goes away.
  ~TypingStateImpl() override;
  TypingStateImpl(const TypingStateImpl&) = delete;
  TypingStateImpl& operator=(const TypingStateImpl&) = delete;
  TypingStateImpl(TypingStateImpl&&) = delete;
  TypingStateImpl& operator=(TypingStateImpl&&) = delete;

  /// Stops the sweep thread (idempotent), e.g. while draining.
  void stop();

  /// Called (outside the lock) with every set_typing() of this node, changed
  /// or not (a re-send extends the timeout on the peers too): the cluster
  /// mesh relays it. Set once, before serving.
  using Publish = std::function<void(const std::string& room_id, const std::string& user_id,
                                     bool typing, std::chrono::milliseconds timeout)>;
  void set_publisher(Publish publish);
  /// A peer's set_typing(): applied here (waking this node's syncs on a
  /// change), not published again.
  void apply_peer(const std::string& room_id, const std::string& user_id, bool typing,
                  std::chrono::milliseconds timeout);

  /// `timeout` is clamped into the options' bounds; 0 or less means the
  /// default timeout.
  void set_typing(const std::string& room_id, const std::string& user_id, bool typing,
                  std::chrono::milliseconds timeout) override;
  [[nodiscard]] std::uint64_t serial() const override;
  std::optional<nlohmann::json> typing_since(const std::string& room_id,
                                             std::uint64_t since_serial) override;

  /// Expires entries now (the sweep thread calls it); returns the rooms that changed.
  std::vector<std::string> sweep();

  /// For tests and metrics.
  [[nodiscard]] std::size_t room_count() const;

 private:
  struct Room {
    std::map<std::string, Clock::time_point> users;  ///< user -> expiry
    std::uint64_t serial = 0;                        ///< last change
    Clock::time_point changed_at;
  };
  /// Drops expired users of `room` (locked); true when any was dropped.
  bool expire_locked(Room& room, Clock::time_point now);
  void sweep_loop();
  void start();
  /// set_typing() without publishing; true when something changed.
  void change(const std::string& room_id, const std::string& user_id, bool typing,
              std::chrono::milliseconds timeout);
  /// The next serial (lock held).
  std::uint64_t next_serial_locked();

  Publish publish_;
  Wake wake_;
  TypingOptions options_;
  Now now_;
  mutable std::mutex mutex_;
  std::map<std::string, Room> rooms_;
  std::uint64_t serial_;

  std::mutex thread_mutex_;
  std::condition_variable thread_wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace eltrix::services
