// Presence (spec: "Presence") as a service: the /sync set_presence update,
// the wake-ups of everyone who sees a user's presence, the tie of a user's
// presence to the node that serves them (clustering), and the sweep that
// marks users offline once their syncs stop. State of record is the
// presence table (migration 0004); every change others must see is stamped
// on the shared stream. The routes are client/presence.cpp.
#pragma once

#include "storage/database.h"
#include "storage/user_data.h"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace eltrix::notify {
class Notifier;
}
namespace eltrix::rooms {
class RoomService;
}
namespace eltrix::cluster {
class NodeRegistry;
}

namespace eltrix::services {

/// Longest status message accepted, in bytes.
inline constexpr std::size_t kMaxStatusMsgBytes = 1024;
/// A sync refreshes an unchanged presence row at most this often.
inline constexpr std::int64_t kPresenceTouchMs = 60000;

/// online, unavailable or offline.
bool is_presence_state(std::string_view state);

struct PresenceSweepOptions {
  /// Users whose last sync (or PUT) is older than this go offline.
  std::chrono::milliseconds offline_after{300000};
  std::chrono::milliseconds interval{30000};
  /// Users handled per transaction.
  std::size_t batch = 500;
};

class Presence {
 public:
  /// `nodes` is null without a cluster.
  Presence(storage::Database& db, rooms::RoomService& rooms, notify::Notifier& notifier,
           cluster::NodeRegistry* nodes, PresenceSweepOptions options = {});
  ~Presence();
  Presence(const Presence&) = delete;
  Presence& operator=(const Presence&) = delete;
  Presence(Presence&&) = delete;
  Presence& operator=(Presence&&) = delete;

  /// For /sync's set_presence (absent means "online"): "offline" leaves the
  /// presence alone (spec); "online" or "unavailable" sets it. Writes only
  /// when the state changes, or to refresh the activity timestamps when they
  /// are older than kPresenceTouchMs, so a sync loop does not write every
  /// time. Never throws: a failure is logged and the sync goes on. An
  /// unknown value is treated as absent; the sync handler refuses it first.
  void set_from_sync(const std::string& user_id, const std::optional<std::string>& set_presence);

  /// PUT /presence/{userId}/status: sets the state and message, counts as
  /// activity, and wakes those who see it when it changed.
  void set(const std::string& user_id, const std::string& state,
           const std::optional<std::string>& status_msg);

  /// Wakes the syncs that show these users' presence (theirs and everyone's
  /// sharing a room with them), e.g. after a dead node's users went offline.
  void changed(const std::vector<std::string>& user_ids);

  /// The offline sweep, on a thread of its own. Every node may run one: the
  /// rows are claimed with SKIP LOCKED.
  void start();
  /// Idempotent; the destructor calls it.
  void stop();
  /// One sweep now; returns the users marked offline. Throws on database errors.
  std::size_t sweep_once();

 private:
  void wake(const std::string& user_id);
  [[nodiscard]] bool owner_alive(const storage::Presence& presence) const;
  void claim(storage::Transaction& tx, const std::string& user_id) const;
  void loop();

  storage::Database& db_;
  rooms::RoomService& rooms_;
  notify::Notifier& notifier_;
  cluster::NodeRegistry* nodes_;
  PresenceSweepOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace eltrix::services
